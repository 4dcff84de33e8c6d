"""/api/auth/*: login (password, TOTP step), logout, verify, sessions, users, API keys, TOTP.

Shapes follow the C project. Account self-service (own password, own TOTP, own sessions) is
open to every authenticated role, viewers included; managing other users is admin-only; the
handlers check "self or admin" where the route's access alone cannot.

Security settings need proof, not just a session: changing one's own password needs the old
one (admins too; an admin resetting someone else's does not), and turning TOTP off needs the
caller's current TOTP code or password. A stolen session cookie alone cannot take over the
account.

LightNVR's per-user rules are set here: `allowed_tags` and `allowed_login_cidrs` (admin-only
fields of create/update; a bad network is a 400 naming it), `password_change_locked` (PUT
.../password-lock; while set, every password change of that account answers 403 — admins
unlock first, as in LightNVR), and the caller's trusted devices (/api/auth/trusted-devices).
"""

from __future__ import annotations

import time
import urllib.parse
from typing import Any

import pyotp

from lightnvr.database.users import User, UserExists, normalize_cidrs, normalize_tags
from lightnvr.web import openapi as oa
from lightnvr.web.app import ensure_auth
from lightnvr.web.audit import audit, audit_user_update
from lightnvr.web.auth import (
    DEVICE_COOKIE,
    Auth,
    LoginResult,
    check_password_policy,
    cookie_value,
    hash_password,
    role_name,
    session_token,
)
from lightnvr.web.client import client_address
from lightnvr.web.context import WebContext
from lightnvr.web.http import Access, HTTPError, Principal, Request, Response, Role
from lightnvr.web.router import Router

USER_SCHEMA = oa.obj({
    "id": oa.INTEGER, "username": oa.STRING, "email": oa.STRING, "role": oa.INTEGER,
    "role_name": oa.STRING, "created_at": oa.INTEGER, "updated_at": oa.INTEGER,
    "last_login": oa.INTEGER, "is_active": oa.BOOLEAN, "totp_enabled": oa.BOOLEAN,
    "must_change_password": oa.BOOLEAN, "has_api_key": oa.BOOLEAN,
    "password_change_locked": oa.BOOLEAN, "allowed_tags": oa.nullable(oa.STRING),
    "allowed_login_cidrs": oa.nullable(oa.STRING),
}, required=["id", "username", "role", "is_active"])
DEVICE_SCHEMA = oa.obj({"id": oa.INTEGER, "created_at": oa.INTEGER, "last_used_at": oa.INTEGER,
                        "expires_at": oa.INTEGER, "ip_address": oa.STRING,
                        "user_agent": oa.STRING, "current": oa.BOOLEAN})
PASSWORD_LOCKED = "Password changes are locked for this user"
LOGIN_OK = oa.obj({"success": oa.BOOLEAN, "redirect": oa.STRING,
                   "must_change_password": oa.BOOLEAN, "totp_required": oa.BOOLEAN,
                   "totp_token": oa.STRING})
SESSION_SCHEMA = oa.obj({"id": oa.INTEGER, "created_at": oa.INTEGER,
                         "last_activity_at": oa.INTEGER, "idle_expires_at": oa.INTEGER,
                         "expires_at": oa.INTEGER, "ip_address": oa.STRING,
                         "user_agent": oa.STRING, "current": oa.BOOLEAN})
ID = {"id": oa.INTEGER_PARAM}


def user_json(u: User) -> dict[str, Any]:
    return {"id": u.id, "username": u.username, "email": u.email, "role": u.role,
            "role_name": role_name(u.role), "created_at": u.created_at,
            "updated_at": u.updated_at, "last_login": u.last_login or 0,
            "is_active": u.is_active, "password_change_locked": u.password_change_locked,
            "totp_enabled": u.totp_enabled, "allowed_tags": u.allowed_tags,
            "allowed_login_cidrs": u.allowed_login_cidrs,
            "must_change_password": u.password_change_required,
            "has_api_key": u.api_key_hash is not None}


def _str_field(body: dict[str, Any], name: str, required: bool = True,
               max_len: int = 1024) -> str | None:
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


def _bool(body: dict[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise HTTPError(400, f"field '{name}' must be true or false")
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


def _user_id(req: Request) -> int:
    raw = req.params.get("id", "")
    if not raw.isdigit() or len(raw) > 18 or int(raw) <= 0:
        raise HTTPError(400, "user id must be a positive integer")
    return int(raw)


def _me(req: Request) -> Principal:
    assert req.principal is not None  # the app enforced authentication
    return req.principal


class AuthApi:
    """Handlers bound to one Auth instance."""

    def __init__(self, ctx: WebContext, auth: Auth) -> None:
        self.ctx = ctx
        self.auth = auth

    # ---- helpers ------------------------------------------------------------------------
    def _target(self, req: Request, self_ok: bool = True) -> User:
        """The user named by {id}: admins may reach anyone, others only themselves."""
        uid = _user_id(req)
        me = _me(req)
        if me.role != Role.ADMIN and not (self_ok and me.user_id == uid):
            raise HTTPError(403, "you can only manage your own account")
        user = self.auth.users.get(uid)
        if user is None:
            raise HTTPError(404, "user not found")
        return user

    def _prove_caller(self, req: Request, body: dict[str, Any]) -> None:
        """The caller shows their current TOTP code (`code`) or their password (`password`).

        With auth disabled there is no account to prove; the route is open as everything is.
        """
        me = _me(req)
        if me.via == "anonymous":
            return
        code = _str_field(body, "code", required=False, max_len=16)
        password = _str_field(body, "password", required=False)
        if not code and not password:
            raise HTTPError(400, "confirm with your current TOTP code (field 'code') or your "
                                 "password (field 'password')")
        user = self.auth.users.get(me.user_id)
        if user is None:
            raise HTTPError(401, "authentication required")
        if code and user.totp_enabled and self.auth.accept_totp(user, code):
            return
        if password and self.auth.check_password(user, password):
            return
        raise HTTPError(400, "the TOTP code or password is incorrect")

    def _login_body(self, req: Request) -> tuple[str, str, str | None, bool, bool]:
        """(username, password, TOTP code, form?, remember_device)."""
        ctype = req.headers.get("content-type", "")
        if "application/x-www-form-urlencoded" in ctype:
            form = urllib.parse.parse_qs(req.body().decode("utf-8", "replace"))
            username, password = form.get("username", [""])[0], form.get("password", [""])[0]
            if not username:
                raise HTTPError(400, "fields 'username' and 'password' are required")
            return username, password, None, True, False
        body = req.json_object()
        username = _str_field(body, "username", max_len=128) or ""
        password = _str_field(body, "password") or ""
        code = _str_field(body, "totp_code", required=False, max_len=16)
        return username, password, code, False, _bool(body, "remember_device") is True

    def _login_answer(self, req: Request, result: LoginResult, form: bool) -> Response:
        if result.status == "rate_limited":
            if form:
                return Response.redirect("/login.html?error=rate_limited")
            return Response.error(429, "Too many login attempts. Please try again later.",
                                  {"Retry-After": str(int(self.auth.limiter.window))})
        if result.status == "invalid":
            return (Response.redirect("/login.html?error=1") if form
                    else Response.error(401, "Invalid credentials"))
        if result.status == "totp_required":
            return Response.json({"totp_required": True, "totp_token": result.totp_token})
        assert result.token is not None and result.user is not None
        cookie = {"Set-Cookie": self.auth.session_cookie(req, result.token)}
        if form:
            resp = Response.redirect("/index.html")
            resp.headers.update(cookie)
            return resp
        resp = Response.json({"success": True, "redirect": "/index.html",
                              "must_change_password": result.user.password_change_required},
                             headers=cookie)
        if result.device_token:
            # A second Set-Cookie header: Response.headers is a dict, and header names are
            # case-insensitive on the wire, so the lower-case key carries the second one.
            resp.headers["set-cookie"] = self.auth.device_cookie(req, result.device_token)
        return resp

    # ---- login / logout -------------------------------------------------------------------
    def login_config(self, req: Request) -> Response:
        w = self.auth.web
        return Response.json({"auth_enabled": w.auth_enabled,
                              "force_mfa_on_login": w.force_mfa_on_login,
                              "remember_device_enabled": w.trusted_device_days > 0,
                              "trusted_device_days": w.trusted_device_days,
                              "auth_timeout_hours": w.auth_timeout_hours,
                              "auth_absolute_timeout_hours": w.auth_absolute_timeout_hours})

    def login(self, req: Request) -> Response:
        username, password, code, form, remember = self._login_body(req)
        result = self.auth.login(username, password,
                                 client_address(req, self.auth.web.trusted_proxy_cidrs),
                                 req.headers.get("user-agent", ""), code or None,
                                 cookie_value(req, DEVICE_COOKIE), remember)
        return self._login_answer(req, result, form)

    def login_totp(self, req: Request) -> Response:
        body = req.json_object()
        token = _str_field(body, "totp_token", max_len=256) or ""
        code = _str_field(body, "code", max_len=16) or ""
        result = self.auth.login_totp(token, code,
                                      client_address(req, self.auth.web.trusted_proxy_cidrs),
                                      req.headers.get("user-agent", ""),
                                      _bool(body, "remember_device") is True)
        return self._login_answer(req, result, False)

    def logout(self, req: Request) -> Response:
        self.auth.logout(req)
        clear = {"Set-Cookie": self.auth.clear_cookie(req)}
        wants_json = ("application/json" in req.headers.get("accept", "")
                      or "x-requested-with" in req.headers or req.method == "POST")
        if wants_json:
            return Response.json({"success": True, "redirect": "/login.html?logout=true"},
                                 headers=clear)
        resp = Response.redirect("/login.html?logout=true")
        resp.headers.update(clear)
        return resp

    def verify(self, req: Request) -> Response:
        me = _me(req)
        w = self.auth.web
        out: dict[str, Any] = {"authenticated": True, "id": me.user_id, "username": me.username,
                               "email": "", "role": role_name(me.role), "role_id": int(me.role),
                               "is_active": True, "password_change_locked": False,
                               "must_change_password": False, "auth_enabled": w.auth_enabled,
                               "auth_timeout_hours": w.auth_timeout_hours,
                               "auth_absolute_timeout_hours": w.auth_absolute_timeout_hours,
                               "trusted_device_days": w.trusted_device_days, "via": me.via}
        user = self.auth.users.get(me.user_id)
        if user is not None:
            out.update(email=user.email, must_change_password=user.password_change_required,
                       password_change_locked=user.password_change_locked,
                       allowed_tags=user.allowed_tags)
        return Response.json(out)

    # ---- sessions -------------------------------------------------------------------------
    def sessions_list(self, req: Request) -> Response:
        me = _me(req)
        current = me.session_id if me.via == "session" else None
        items = [{"id": s.id, "created_at": s.created_at, "last_activity_at": s.last_activity_at,
                  "idle_expires_at": s.idle_expires_at, "expires_at": s.expires_at,
                  "ip_address": s.ip_address, "user_agent": s.user_agent,
                  "current": s.id == current}
                 for s in self.auth.sessions.list_for_user(me.user_id)]
        return Response.json({"sessions": items})

    def sessions_delete(self, req: Request) -> Response:
        me = _me(req)
        raw = req.params.get("id", "")
        if not raw.isdigit() or len(raw) > 18:
            raise HTTPError(400, "session id must be a positive integer")
        s = self.auth.sessions.get(int(raw))
        if s is None or s.user_id != me.user_id:
            raise HTTPError(404, "session not found")
        self.auth.sessions.delete(s.id)
        headers = ({"Set-Cookie": self.auth.clear_cookie(req)}
                   if me.session_id == s.id and session_token(req) else {})
        return Response.json({"success": True}, headers=headers)

    # ---- users ----------------------------------------------------------------------------
    def users_list(self, req: Request) -> Response:
        return Response.json({"users": [user_json(u) for u in self.auth.users.list()]})

    def users_get(self, req: Request) -> Response:
        return Response.json(user_json(self._target(req, self_ok=False)))

    def users_create(self, req: Request) -> Response:
        body = req.json_object()
        username = _username(_str_field(body, "username", max_len=64) or "")
        password = _str_field(body, "password") or ""
        if (problem := check_password_policy(password)) is not None:
            raise HTTPError(400, problem)
        email = _str_field(body, "email", required=False, max_len=254) or ""
        role = _role(body["role"]) if body.get("role") is not None else int(Role.USER)
        active = _bool(body, "is_active")
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
        target = self._target(req)
        me = _me(req)
        body = req.json_object()
        admin = me.role == Role.ADMIN
        if not admin and any(k in body for k in ("password", "role", "is_active",
                                                 "allowed_tags", "allowed_login_cidrs")):
            raise HTTPError(403, "you can only change your own username and email")
        rules = _rules(body, target)
        username = _str_field(body, "username", required=False, max_len=64)
        email = _str_field(body, "email", required=False, max_len=254)
        role = _role(body["role"]) if body.get("role") is not None else None
        active = _bool(body, "is_active")
        password = _str_field(body, "password", required=False)
        if username is not None:
            _username(username)
        if password and (problem := check_password_policy(password)) is not None:
            raise HTTPError(400, problem)
        if password and target.password_change_locked:
            raise HTTPError(403, PASSWORD_LOCKED)
        if password and target.id == me.user_id:
            old = _str_field(body, "old_password", required=False)
            if not old or not self.auth.check_password(target, old):
                raise HTTPError(400, "changing your own password needs the current one "
                                     "(field 'old_password')")
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
        target = self._target(req, self_ok=False)
        if target.id == _me(req).user_id:
            raise HTTPError(403, "you cannot delete yourself")
        if target.role == Role.ADMIN and self.auth.users.count_admins(active_only=False) <= 1:
            raise HTTPError(400, "cannot delete the last admin user")
        self.auth.users.delete(target.id)
        self.auth.forget_user(target.id)
        audit(self.ctx, "user_deleted", req, target.username, role=target.role)
        return Response.json({"success": True, "message": "User deleted successfully"})

    def api_key(self, req: Request) -> Response:
        target = self._target(req)
        key = self.auth.new_api_key(target.id)
        if key is None:
            raise HTTPError(404, "user not found")
        audit(self.ctx, "api_key_changed", req, target.username)
        return Response.json({"success": True, "api_key": key})

    def password(self, req: Request) -> Response:
        target = self._target(req)
        me = _me(req)
        body = req.json_object()
        new = _str_field(body, "new_password")
        if (problem := check_password_policy(new)) is not None:
            raise HTTPError(400, problem)
        assert new is not None
        if target.password_change_locked:
            raise HTTPError(403, PASSWORD_LOCKED)
        if target.id == me.user_id:  # admins too: a stolen session must not take the account
            old = _str_field(body, "old_password")
            if not self.auth.check_password(target, old or ""):
                raise HTTPError(400, "current password is incorrect")
        self.auth.set_password(target.id, new, change_required=False,
                               keep_session=me.session_id if me.user_id == target.id else None)
        audit(self.ctx, "password_changed", req, target.username)
        return Response.json({"success": True, "message": "Password changed successfully"})

    def password_lock(self, req: Request) -> Response:
        target = self._target(req, self_ok=False)
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

    # ---- trusted devices (the caller's own) -----------------------------------------------
    def devices_list(self, req: Request) -> Response:
        me = _me(req)
        now = int(time.time())
        current = self._current_device(req, me.user_id, now)
        items = [{"id": d.id, "created_at": d.created_at, "last_used_at": d.last_used_at,
                  "expires_at": d.expires_at, "ip_address": d.ip_address,
                  "user_agent": d.user_agent, "current": d.id == current}
                 for d in self.auth.devices.list_for_user(me.user_id, now)]
        return Response.json({"trusted_devices": items})

    def _current_device(self, req: Request, user_id: int, now: int) -> int | None:
        token = cookie_value(req, DEVICE_COOKIE)
        device = self.auth.devices.find(user_id, token, now) if token and len(token) <= 256 \
            else None
        return device.id if device else None

    def devices_delete(self, req: Request) -> Response:
        me = _me(req)
        raw = req.params.get("id", "")
        if not raw.isdigit() or len(raw) > 18 or int(raw) <= 0:
            raise HTTPError(400, "trusted device id must be a positive integer")
        current = self._current_device(req, me.user_id, int(time.time()))
        if not self.auth.devices.delete(me.user_id, int(raw)):
            raise HTTPError(404, "Trusted device not found")
        headers = ({"Set-Cookie": self.auth.clear_device_cookie(req)}
                   if current == int(raw) else {})
        return Response.json({"success": True}, headers=headers)

    def lockout_clear(self, req: Request) -> Response:
        target = self._target(req, self_ok=False)
        cleared = self.auth.limiter.clear(target.username)
        audit(self.ctx, "lockout_cleared", req, target.username, cleared=cleared)
        return Response.json({"success": True, "cleared": cleared})

    # ---- TOTP -----------------------------------------------------------------------------
    def totp_setup(self, req: Request) -> Response:
        target = self._target(req)
        if target.totp_enabled:
            raise HTTPError(409, "TOTP is already enabled; disable it first")
        secret = pyotp.random_base32()
        self.auth.users.set_totp(target.id, secret, False)
        uri = pyotp.TOTP(secret).provisioning_uri(name=target.username, issuer_name="LightNVR")
        return Response.json({"success": True, "secret": secret, "otpauth_uri": uri,
                              "message": "Scan the QR code with your authenticator app, "
                                         "then verify with a code"})

    def totp_verify(self, req: Request) -> Response:
        target = self._target(req)
        code = _str_field(req.json_object(), "code", max_len=16)
        if not target.totp_secret:
            raise HTTPError(400, "TOTP not set up for this user; run setup first")
        if not self.auth.accept_totp(target, code):
            raise HTTPError(400, "invalid TOTP code")
        self.auth.users.set_totp(target.id, target.totp_secret, True)
        audit(self.ctx, "totp_enabled", req, target.username)
        return Response.json({"success": True, "message": "TOTP MFA enabled successfully"})

    def totp_disable(self, req: Request) -> Response:
        target = self._target(req)
        self._prove_caller(req, req.json_object())
        self.auth.users.set_totp(target.id, None, False)
        audit(self.ctx, "totp_disabled", req, target.username)
        return Response.json({"success": True, "message": "TOTP MFA disabled successfully"})

    def totp_status(self, req: Request) -> Response:
        target = self._target(req)
        return Response.json({"totp_enabled": target.totp_enabled,
                              "totp_configured": bool(target.totp_secret)})


def register(router: Router, ctx: WebContext) -> None:
    a = AuthApi(ctx, ensure_auth(ctx))
    P, R, W, A = Access.PUBLIC, Access.READ, Access.WRITE, Access.ADMIN
    creds = oa.obj({"username": oa.STRING, "password": oa.STRING, "totp_code": oa.STRING},
                   required=["username", "password"])
    routes: list[tuple[str, str, Any, Access, str, dict[str, Any]]] = [
        ("GET", "/api/auth/login/config", a.login_config, P, "Public login configuration",
         {"responses": {200: oa.obj({"auth_enabled": oa.BOOLEAN})}}),
        ("POST", "/api/auth/login", a.login, P, "Log in; sets the session cookie",
         {"request": creds, "responses": {200: LOGIN_OK}}),
        ("POST", "/api/auth/login/totp", a.login_totp, P, "Second login step with a TOTP code",
         {"request": oa.obj({"totp_token": oa.STRING, "code": oa.STRING},
                            required=["totp_token", "code"]), "responses": {200: LOGIN_OK}}),
        ("POST", "/api/auth/logout", a.logout, P, "Log out (ends the session)",
         {"responses": {200: oa.SUCCESS}}),
        ("GET", "/logout", a.logout, P, "Log out and redirect to the login page", {}),
        ("GET", "/api/auth/verify", a.verify, R, "Who am I",
         {"responses": {200: oa.obj({"authenticated": oa.BOOLEAN, "username": oa.STRING,
                                     "role": oa.STRING}, required=["authenticated"])}}),
        ("GET", "/api/auth/sessions", a.sessions_list, R, "My sessions",
         {"responses": {200: oa.obj({"sessions": oa.array(SESSION_SCHEMA)})}}),
        ("DELETE", "/api/auth/sessions/{id}", a.sessions_delete, R, "Revoke one of my sessions",
         {"params": ID, "responses": {200: oa.SUCCESS}}),
        ("GET", "/api/auth/users", a.users_list, A, "List users",
         {"responses": {200: oa.obj({"users": oa.array(USER_SCHEMA)}, required=["users"])}}),
        ("POST", "/api/auth/users", a.users_create, A, "Create a user",
         {"request": oa.obj({"username": oa.STRING, "password": oa.STRING, "email": oa.STRING,
                             "role": oa.INTEGER, "is_active": oa.BOOLEAN,
                             "allowed_tags": oa.nullable(oa.STRING),
                             "allowed_login_cidrs": oa.nullable(oa.STRING)},
                            required=["username", "password"]),
          "responses": {200: USER_SCHEMA}}),
        ("GET", "/api/auth/users/{id}", a.users_get, A, "One user",
         {"params": ID, "responses": {200: USER_SCHEMA}}),
        ("PUT", "/api/auth/users/{id}", a.users_update, W, "Update a user (self: name/email)",
         {"params": ID, "request": oa.obj({"username": oa.STRING, "email": oa.STRING,
                                           "role": oa.INTEGER, "is_active": oa.BOOLEAN,
                                           "password": oa.STRING,
                                           "old_password": oa.STRING,
                                           "allowed_tags": oa.nullable(oa.STRING),
                                           "allowed_login_cidrs": oa.nullable(oa.STRING)}),
          "responses": {200: USER_SCHEMA}}),
        ("DELETE", "/api/auth/users/{id}", a.users_delete, A, "Delete a user",
         {"params": ID, "responses": {200: oa.SUCCESS}}),
        ("POST", "/api/auth/users/{id}/api-key", a.api_key, W, "Generate a new API key",
         {"params": ID, "responses": {200: oa.obj({"success": oa.BOOLEAN,
                                                   "api_key": oa.STRING})}}),
        ("PUT", "/api/auth/users/{id}/password", a.password, R, "Change a password",
         {"params": ID, "request": oa.obj({"old_password": oa.STRING,
                                           "new_password": oa.STRING},
                                          required=["new_password"]),
          "responses": {200: oa.SUCCESS}}),
        ("POST", "/api/auth/users/{id}/totp/setup", a.totp_setup, R, "Start TOTP enrolment",
         {"params": ID, "responses": {200: oa.obj({"secret": oa.STRING,
                                                   "otpauth_uri": oa.STRING})}}),
        ("POST", "/api/auth/users/{id}/totp/verify", a.totp_verify, R,
         "Confirm a TOTP code and enable TOTP",
         {"params": ID, "request": oa.obj({"code": oa.STRING}, required=["code"]),
          "responses": {200: oa.SUCCESS}}),
        ("POST", "/api/auth/users/{id}/totp/disable", a.totp_disable, R,
         "Disable TOTP (needs the caller's current TOTP code or password)",
         {"params": ID, "request": oa.obj({"code": oa.STRING, "password": oa.STRING}),
          "responses": {200: oa.SUCCESS}}),
        ("GET", "/api/auth/users/{id}/totp/status", a.totp_status, R, "TOTP state",
         {"params": ID, "responses": {200: oa.obj({"totp_enabled": oa.BOOLEAN,
                                                   "totp_configured": oa.BOOLEAN})}}),
        ("PUT", "/api/auth/users/{id}/password-lock", a.password_lock, A,
         "Lock or unlock password changes of a user",
         {"params": ID, "request": oa.obj({"locked": oa.BOOLEAN}, required=["locked"]),
          "responses": {200: USER_SCHEMA}}),
        ("GET", "/api/auth/trusted-devices", a.devices_list, R,
         "My trusted devices (browsers that skip the TOTP step)",
         {"responses": {200: oa.obj({"trusted_devices": oa.array(DEVICE_SCHEMA)})}}),
        ("DELETE", "/api/auth/trusted-devices/{id}", a.devices_delete, R,
         "Forget one of my trusted devices",
         {"params": ID, "responses": {200: oa.SUCCESS}}),
        ("POST", "/api/auth/users/{id}/login-lockout/clear", a.lockout_clear, A,
         "Clear a user's login rate limit",
         {"params": ID, "responses": {200: oa.SUCCESS}}),
    ]
    for method, template, handler, access, summary, spec in routes:
        router.add(method, template, handler, access, summary)
        oa.describe(method, template, summary=summary, **spec)
