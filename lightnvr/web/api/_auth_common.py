"""What the /api/auth/* modules share: request-field readers, the caller, the target user,
and the user's JSON shape (auth.py: sign-in and sessions; auth_users.py: accounts;
auth_factors.py: API keys, TOTP, trusted devices). Not a route module (leading underscore)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lightnvr.database.users import User
from lightnvr.web import openapi as oa
from lightnvr.web.auth import Auth, role_name
from lightnvr.web.http import Access, HTTPError, Principal, Request, Role

if TYPE_CHECKING:
    from lightnvr.web.router import Router

USER_SCHEMA = oa.obj({
    "id": oa.INTEGER, "username": oa.STRING, "email": oa.STRING, "role": oa.INTEGER,
    "role_name": oa.STRING, "created_at": oa.INTEGER, "updated_at": oa.INTEGER,
    "last_login": oa.INTEGER, "is_active": oa.BOOLEAN, "totp_enabled": oa.BOOLEAN,
    "must_change_password": oa.BOOLEAN, "has_api_key": oa.BOOLEAN,
    "password_change_locked": oa.BOOLEAN, "allowed_tags": oa.nullable(oa.STRING),
    "allowed_login_cidrs": oa.nullable(oa.STRING),
}, required=["id", "username", "role", "is_active"])
ID = {"id": oa.INTEGER_PARAM}
# OpenAPI entry of a route: (method, path, handler, access, summary, describe() keywords)
RouteSpec = tuple[str, str, Any, Access, str, dict[str, Any]]


def user_json(u: User) -> dict[str, Any]:
    """A user as the C project's user routes show it; never the password hash, salt, TOTP
    secret or API key (only whether there is one)."""
    return {"id": u.id, "username": u.username, "email": u.email, "role": u.role,
            "role_name": role_name(u.role), "created_at": u.created_at,
            "updated_at": u.updated_at, "last_login": u.last_login or 0,
            "is_active": u.is_active, "password_change_locked": u.password_change_locked,
            "totp_enabled": u.totp_enabled, "allowed_tags": u.allowed_tags,
            "allowed_login_cidrs": u.allowed_login_cidrs,
            "must_change_password": u.password_change_required,
            "has_api_key": u.api_key_hash is not None}


def str_field(body: dict[str, Any], name: str, required: bool = True,
              max_len: int = 1024) -> str | None:
    """Body field `name` as a string of at most `max_len` characters; None when absent and
    not `required`; otherwise 400 naming the field and its constraint."""
    value = body.get(name)
    if value is None:
        if required:
            raise HTTPError(400, f"field '{name}' is required")
        return None
    if not isinstance(value, str):
        raise HTTPError(400, f"field '{name}' must be a string")
    if len(value) > max_len:
        raise HTTPError(400, f"field '{name}' must be at most {max_len} characters")
    return value


def bool_field(body: dict[str, Any], name: str) -> bool | None:
    """Body field `name` as true/false, None when absent; 400 for anything else."""
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise HTTPError(400, f"field '{name}' must be true or false")
    return value


def positive_id(req: Request, what: str) -> int:
    """Route parameter {id} as a positive integer; 400 saying it must be one."""
    raw = req.params.get("id", "")
    if not raw.isdigit() or len(raw) > 18 or int(raw) <= 0:
        raise HTTPError(400, f"{what} id must be a positive integer")
    return int(raw)


def caller(req: Request) -> Principal:
    """Who is calling (these routes are behind authentication: the app set it)."""
    assert req.principal is not None  # the app enforced authentication
    return req.principal


def target_user(auth: Auth, req: Request, self_ok: bool = True) -> User:
    """The user named by {id}: admins may reach anyone, others only themselves (when
    `self_ok`); 403 otherwise, 404 for an unknown id."""
    uid = positive_id(req, "user")
    me = caller(req)
    if me.role != Role.ADMIN and not (self_ok and me.user_id == uid):
        raise HTTPError(403, "you can only manage your own account")
    user = auth.users.get(uid)
    if user is None:
        raise HTTPError(404, "user not found")
    return user


def add_routes(router: Router, routes: list[RouteSpec]) -> None:
    """Register each route and describe it in the OpenAPI document."""
    for method, template, handler, access, summary, spec in routes:
        router.add(method, template, handler, access, summary)
        oa.describe(method, template, summary=summary, **spec)
