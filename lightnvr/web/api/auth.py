"""/api/auth/*, signing in and out: login (password, TOTP step), logout, verify, sessions.

Shapes follow the C project. Accounts are in auth_users.py, API keys, TOTP and trusted
devices in auth_factors.py; what all three share is in _auth_common.py.

Under `[web] force_mfa_on_login` a TOTP account sends its code with the password (field
`totp_code`); otherwise a password login answers `totp_required` with a token for the second
step (POST /api/auth/login/totp). Either step may ask to `remember_device`: the answer then
also sets the `trusted_device` cookie, and that browser skips the code until the device is
forgotten or `trusted_device_days` pass.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from lightnvr.web import openapi as oa
from lightnvr.web.api._auth_common import (
    ID,
    add_routes,
    bool_field,
    caller,
    positive_id,
    str_field,
)
from lightnvr.web.app import ensure_auth
from lightnvr.web.auth import (
    DEVICE_COOKIE,
    Auth,
    LoginResult,
    cookie_value,
    role_name,
    session_token,
)
from lightnvr.web.client import client_address
from lightnvr.web.context import WebContext
from lightnvr.web.http import Access, HTTPError, Request, Response
from lightnvr.web.router import Router

LOGIN_OK = oa.obj({"success": oa.BOOLEAN, "redirect": oa.STRING,
                   "must_change_password": oa.BOOLEAN, "totp_required": oa.BOOLEAN,
                   "totp_token": oa.STRING})
SESSION_SCHEMA = oa.obj({"id": oa.INTEGER, "created_at": oa.INTEGER,
                         "last_activity_at": oa.INTEGER, "idle_expires_at": oa.INTEGER,
                         "expires_at": oa.INTEGER, "ip_address": oa.STRING,
                         "user_agent": oa.STRING, "current": oa.BOOLEAN})


class LoginApi:
    """Handlers of sign-in, sign-out, "who am I" and the caller's own sessions."""

    def __init__(self, auth: Auth) -> None:
        self.auth = auth

    def _login_body(self, req: Request) -> tuple[str, str, str | None, bool, bool]:
        """(username, password, TOTP code, form?, remember_device) of a JSON or HTML-form
        login; 400 naming a missing or malformed field."""
        ctype = req.headers.get("content-type", "")
        if "application/x-www-form-urlencoded" in ctype:
            form = urllib.parse.parse_qs(req.body().decode("utf-8", "replace"))
            username, password = form.get("username", [""])[0], form.get("password", [""])[0]
            if not username:
                raise HTTPError(400, "fields 'username' and 'password' are required")
            return username, password, None, True, False
        body = req.json_object()
        username = str_field(body, "username", max_len=128) or ""
        password = str_field(body, "password") or ""
        code = str_field(body, "totp_code", required=False, max_len=16)
        return username, password, code, False, bool_field(body, "remember_device") is True

    def _login_answer(self, req: Request, result: LoginResult, form: bool) -> Response:
        """The HTTP answer to a login attempt: 429, 401, the TOTP step, or a session
        cookie (plus the trusted-device cookie when one was granted); forms redirect."""
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

    def login_config(self, req: Request) -> Response:
        """Public: what the login page needs to know (forced MFA, trusted devices)."""
        w = self.auth.web
        return Response.json({"auth_enabled": w.auth_enabled,
                              "force_mfa_on_login": w.force_mfa_on_login,
                              "remember_device_enabled": w.trusted_device_days > 0,
                              "trusted_device_days": w.trusted_device_days,
                              "auth_timeout_hours": w.auth_timeout_hours,
                              "auth_absolute_timeout_hours": w.auth_absolute_timeout_hours})

    def _client(self, req: Request) -> str:
        return client_address(req, self.auth.web.trusted_proxy_cidrs)

    def login(self, req: Request) -> Response:
        username, password, code, form, remember = self._login_body(req)
        result = self.auth.login(username, password, self._client(req),
                                 req.headers.get("user-agent", ""), code or None,
                                 cookie_value(req, DEVICE_COOKIE), remember)
        return self._login_answer(req, result, form)

    def login_totp(self, req: Request) -> Response:
        body = req.json_object()
        token = str_field(body, "totp_token", max_len=256) or ""
        code = str_field(body, "code", max_len=16) or ""
        result = self.auth.login_totp(token, code, self._client(req),
                                      req.headers.get("user-agent", ""),
                                      bool_field(body, "remember_device") is True)
        return self._login_answer(req, result, False)

    def logout(self, req: Request) -> Response:
        """Ends the session and clears its cookie (the trusted-device cookie stays)."""
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
        me = caller(req)
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

    def sessions_list(self, req: Request) -> Response:
        me = caller(req)
        current = me.session_id if me.via == "session" else None
        items = [{"id": s.id, "created_at": s.created_at, "last_activity_at": s.last_activity_at,
                  "idle_expires_at": s.idle_expires_at, "expires_at": s.expires_at,
                  "ip_address": s.ip_address, "user_agent": s.user_agent,
                  "current": s.id == current}
                 for s in self.auth.sessions.list_for_user(me.user_id)]
        return Response.json({"sessions": items})

    def sessions_delete(self, req: Request) -> Response:
        """Revokes one of the caller's own sessions (404 for anyone else's)."""
        me = caller(req)
        s = self.auth.sessions.get(positive_id(req, "session"))
        if s is None or s.user_id != me.user_id:
            raise HTTPError(404, "session not found")
        self.auth.sessions.delete(s.id)
        headers = ({"Set-Cookie": self.auth.clear_cookie(req)}
                   if me.session_id == s.id and session_token(req) else {})
        return Response.json({"success": True}, headers=headers)


def register(router: Router, ctx: WebContext) -> None:
    """Add the sign-in and session routes."""
    a = LoginApi(ensure_auth(ctx))
    P, R = Access.PUBLIC, Access.READ
    creds = oa.obj({"username": oa.STRING, "password": oa.STRING, "totp_code": oa.STRING,
                    "remember_device": oa.BOOLEAN}, required=["username", "password"])
    add_routes(router, [
        ("GET", "/api/auth/login/config", a.login_config, P, "Public login configuration",
         {"responses": {200: oa.obj({"auth_enabled": oa.BOOLEAN})}}),
        ("POST", "/api/auth/login", a.login, P, "Log in; sets the session cookie",
         {"request": creds, "responses": {200: LOGIN_OK}}),
        ("POST", "/api/auth/login/totp", a.login_totp, P, "Second login step with a TOTP code",
         {"request": oa.obj({"totp_token": oa.STRING, "code": oa.STRING,
                             "remember_device": oa.BOOLEAN},
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
    ])
