"""/api/auth/users*: accounts — list, create, update, delete, password change and lock, and
clearing a user's login lockout.

Managing other users is admin-only; everyone may change their own username, email and
password (the old one is needed, admins too; an admin resetting someone else's does not).
LightNVR's per-user rules are set here: `allowed_tags` and `allowed_login_cidrs` (admin-only
fields of create/update; a bad network is a 400 naming it) and `password_change_locked`
(PUT .../password-lock; while set, every password change of that account answers 403 —
admins unlock first, as in LightNVR). The system never loses its last active admin.
"""

from __future__ import annotations

from typing import Any

from lightnvr.database.users import User, UserExists, normalize_cidrs, normalize_tags
from lightnvr.web import openapi as oa
from lightnvr.web.api._auth_common import (
    ID,
    USER_SCHEMA,
    add_routes,
    bool_field,
    caller,
    str_field,
    target_user,
    user_json,
)
from lightnvr.web.app import ensure_auth
from lightnvr.web.audit import audit, audit_user_update
from lightnvr.web.auth import Auth, check_password_policy, hash_password
from lightnvr.web.context import WebContext
from lightnvr.web.http import Access, HTTPError, Principal, Request, Response, Role
from lightnvr.web.router import Router

PASSWORD_LOCKED = "Password changes are locked for this user"
_ADMIN_ONLY_FIELDS = ("password", "role", "is_active", "allowed_tags", "allowed_login_cidrs")


def _username(value: str) -> str:
    if not 3 <= len(value) <= 32 or any(ord(c) < 32 or c in "/\\:" for c in value) \
            or value != value.strip():
        raise HTTPError(400, "username must be 3 to 32 characters, no control characters, "
                             "'/', '\\\\' or ':', no surrounding spaces")
    return value


def _role(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3:
        raise HTTPError(400, "field 'role' must be 0 (admin), 1 (user), 2 (viewer) or 3 (api)")
    return value


def _rules(body: dict[str, Any], old: User | None) -> tuple[str | None, str | None] | None:
    """(allowed_tags, allowed_login_cidrs) to store, or None when the body names neither.

    Each is a string or null (null or empty: no restriction), as in LightNVR.
    """
    if "allowed_tags" not in body and "allowed_login_cidrs" not in body:
        return None
    out: list[str | None] = []
    for name, norm, current in (
            ("allowed_tags", normalize_tags, old.allowed_tags if old else None),
            ("allowed_login_cidrs", normalize_cidrs, old.allowed_login_cidrs if old else None)):
        if name not in body:
            out.append(current)
            continue
        value = body[name]
        if value is not None and not isinstance(value, str):
            raise HTTPError(400, f"{name} must be a string or null")
        try:
            out.append(norm(value))
        except ValueError as e:
            what = ("valid IPv4/IPv6 CIDR entries or single IP addresses"
                    if name == "allowed_login_cidrs" else "comma-separated tags")
            raise HTTPError(400, f"{name} must contain {what}: {e}") from None
    return out[0], out[1]


class UsersApi:
    """Handlers of the account routes."""

    def __init__(self, ctx: WebContext, auth: Auth) -> None:
        self.ctx = ctx
        self.auth = auth

    def _check_own_password_change(self, target: User, me: Principal, body: dict[str, Any],
                                   old_required: bool) -> None:
        """403 while the account's password is locked; for one's own password, 400 unless
        `old_password` is right (a stolen session must not take the account)."""
        if target.password_change_locked:
            raise HTTPError(403, PASSWORD_LOCKED)
        if target.id != me.user_id:
            return
        old = str_field(body, "old_password", required=old_required)
        if not old or not self.auth.check_password(target, old):
            raise HTTPError(400, "current password is incorrect" if old_required else
                            "changing your own password needs the current one "
                            "(field 'old_password')")

    def users_list(self, req: Request) -> Response:
        return Response.json({"users": [user_json(u) for u in self.auth.users.list()]})

    def users_get(self, req: Request) -> Response:
        return Response.json(user_json(target_user(self.auth, req, self_ok=False)))

    def users_create(self, req: Request) -> Response:
        body = req.json_object()
        username = _username(str_field(body, "username", max_len=64) or "")
        password = str_field(body, "password") or ""
        if (problem := check_password_policy(password)) is not None:
            raise HTTPError(400, problem)
        email = str_field(body, "email", required=False, max_len=254) or ""
        role = _role(body["role"]) if body.get("role") is not None else int(Role.USER)
        active = bool_field(body, "is_active")
        rules = _rules(body, None)
        with self.auth.hashing_slot():
            encoded, salt = hash_password(password)
        try:
            uid = self.auth.users.create(username, encoded, salt, role, email,
                                         active is not False)
        except UserExists:
            raise HTTPError(409, f"username '{username}' already exists") from None
        if rules is not None:
            self.auth.users.set_access_rules(uid, *rules)
        user = self.auth.users.get(uid)
        assert user is not None
        audit(self.ctx, "user_created", req, user.username, role=user.role, active=user.is_active)
        return Response.json(user_json(user))

    def users_update(self, req: Request) -> Response:
        """Admins change anything; others only their own username and email (403)."""
        target = target_user(self.auth, req)
        me = caller(req)
        body = req.json_object()
        if me.role != Role.ADMIN and any(k in body for k in _ADMIN_ONLY_FIELDS):
            raise HTTPError(403, "you can only change your own username and email")
        rules = _rules(body, target)
        username = str_field(body, "username", required=False, max_len=64)
        email = str_field(body, "email", required=False, max_len=254)
        role = _role(body["role"]) if body.get("role") is not None else None
        active = bool_field(body, "is_active")
        password = str_field(body, "password", required=False)
        if username is not None:
            _username(username)
        if password and (problem := check_password_policy(password)) is not None:
            raise HTTPError(400, problem)
        if password:
            self._check_own_password_change(target, me, body, old_required=False)
        self._guard_admins(target, me, role, active)
        try:
            self.auth.users.update(target.id, username, email, role, active)
        except UserExists:
            raise HTTPError(409, "username already exists") from None
        if rules is not None:
            self.auth.users.set_access_rules(target.id, *rules)
        if password:
            self.auth.set_password(target.id, password, keep_session=me.session_id)
        if active is False or role is not None:
            self.auth.forget_user(target.id)
        if active is False:
            self.auth.sessions.delete_for_user(target.id)
        user = self.auth.users.get(target.id)
        assert user is not None
        audit_user_update(self.ctx, req, target, user, bool(password))
        return Response.json(user_json(user))

    def _guard_admins(self, target: User, me: Principal, role: int | None,
                      active: bool | None) -> None:
        """Never leave the system without an active admin, nor lock yourself out."""
        losing = target.role == Role.ADMIN and ((role is not None and role != Role.ADMIN)
                                                or active is False)
        if not losing:
            return
        if target.id == me.user_id:
            raise HTTPError(400, "you cannot remove your own admin role or deactivate yourself")
        if self.auth.users.count_admins() <= 1:
            raise HTTPError(400, "cannot remove the last active admin")

    def users_delete(self, req: Request) -> Response:
        target = target_user(self.auth, req, self_ok=False)
        if target.id == caller(req).user_id:
            raise HTTPError(403, "you cannot delete yourself")
        if target.role == Role.ADMIN and self.auth.users.count_admins(active_only=False) <= 1:
            raise HTTPError(400, "cannot delete the last admin user")
        self.auth.users.delete(target.id)
        self.auth.forget_user(target.id)
        audit(self.ctx, "user_deleted", req, target.username, role=target.role)
        return Response.json({"success": True, "message": "User deleted successfully"})

    def password(self, req: Request) -> Response:
        """Own password (old one needed, admins too) or, for admins, anyone's."""
        target = target_user(self.auth, req)
        me = caller(req)
        body = req.json_object()
        new = str_field(body, "new_password")
        if (problem := check_password_policy(new)) is not None:
            raise HTTPError(400, problem)
        assert new is not None
        self._check_own_password_change(target, me, body, old_required=True)
        self.auth.set_password(target.id, new, change_required=False,
                               keep_session=me.session_id if me.user_id == target.id else None)
        audit(self.ctx, "password_changed", req, target.username)
        return Response.json({"success": True, "message": "Password changed successfully"})

    def password_lock(self, req: Request) -> Response:
        target = target_user(self.auth, req, self_ok=False)
        locked = req.json_object().get("locked")
        if not isinstance(locked, bool):
            raise HTTPError(400, "Locked field is required and must be a boolean")
        self.auth.users.set_password_lock(target.id, locked)
        audit(self.ctx, "user_updated", req, target.username, changed=["password lock"],
              locked=locked)
        user = self.auth.users.get(target.id)
        if user is None:
            raise HTTPError(404, "user not found")
        return Response.json(user_json(user))

    def lockout_clear(self, req: Request) -> Response:
        target = target_user(self.auth, req, self_ok=False)
        cleared = self.auth.limiter.clear(target.username)
        audit(self.ctx, "lockout_cleared", req, target.username, cleared=cleared)
        return Response.json({"success": True, "cleared": cleared})


def register(router: Router, ctx: WebContext) -> None:
    """Add the account routes."""
    a = UsersApi(ctx, ensure_auth(ctx))
    R, W, A = Access.READ, Access.WRITE, Access.ADMIN
    rules = {"allowed_tags": oa.nullable(oa.STRING),
             "allowed_login_cidrs": oa.nullable(oa.STRING)}
    add_routes(router, [
        ("GET", "/api/auth/users", a.users_list, A, "List users",
         {"responses": {200: oa.obj({"users": oa.array(USER_SCHEMA)}, required=["users"])}}),
        ("POST", "/api/auth/users", a.users_create, A, "Create a user",
         {"request": oa.obj({"username": oa.STRING, "password": oa.STRING, "email": oa.STRING,
                             "role": oa.INTEGER, "is_active": oa.BOOLEAN, **rules},
                            required=["username", "password"]),
          "responses": {200: USER_SCHEMA}}),
        ("GET", "/api/auth/users/{id}", a.users_get, A, "One user",
         {"params": ID, "responses": {200: USER_SCHEMA}}),
        ("PUT", "/api/auth/users/{id}", a.users_update, W, "Update a user (self: name/email)",
         {"params": ID, "request": oa.obj({"username": oa.STRING, "email": oa.STRING,
                                           "role": oa.INTEGER, "is_active": oa.BOOLEAN,
                                           "password": oa.STRING,
                                           "old_password": oa.STRING, **rules}),
          "responses": {200: USER_SCHEMA}}),
        ("DELETE", "/api/auth/users/{id}", a.users_delete, A, "Delete a user",
         {"params": ID, "responses": {200: oa.SUCCESS}}),
        ("PUT", "/api/auth/users/{id}/password", a.password, R, "Change a password",
         {"params": ID, "request": oa.obj({"old_password": oa.STRING,
                                           "new_password": oa.STRING},
                                          required=["new_password"]),
          "responses": {200: oa.SUCCESS}}),
        ("PUT", "/api/auth/users/{id}/password-lock", a.password_lock, A,
         "Lock or unlock password changes of a user",
         {"params": ID, "request": oa.obj({"locked": oa.BOOLEAN}, required=["locked"]),
          "responses": {200: USER_SCHEMA}}),
        ("POST", "/api/auth/users/{id}/login-lockout/clear", a.lockout_clear, A,
         "Clear a user's login rate limit",
         {"params": ID, "responses": {200: oa.SUCCESS}}),
    ])
