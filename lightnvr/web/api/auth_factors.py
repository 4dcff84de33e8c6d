"""/api/auth: a user's other ways in — API keys, TOTP (setup, verify, disable, status) and the
caller's trusted devices (browsers that skip the TOTP code).

Self-service is open to every authenticated role, viewers included; admins reach anyone's
API key and TOTP. Turning TOTP off needs proof beyond the session: the caller's current TOTP
code or password, so a stolen session cookie alone cannot weaken the account. Trusted devices
are only ever the caller's own (another user's id is a 404).
"""

from __future__ import annotations

import time
from typing import Any

import pyotp

from lightnvr.web import openapi as oa
from lightnvr.web.api._auth_common import (
    ID,
    add_routes,
    caller,
    positive_id,
    str_field,
    target_user,
)
from lightnvr.web.app import ensure_auth
from lightnvr.web.audit import audit
from lightnvr.web.auth import DEVICE_COOKIE, Auth, cookie_value
from lightnvr.web.context import WebContext
from lightnvr.web.http import Access, HTTPError, Request, Response
from lightnvr.web.router import Router

DEVICE_SCHEMA = oa.obj({"id": oa.INTEGER, "created_at": oa.INTEGER, "last_used_at": oa.INTEGER,
                        "expires_at": oa.INTEGER, "ip_address": oa.STRING,
                        "user_agent": oa.STRING, "current": oa.BOOLEAN})


class FactorsApi:
    """Handlers of the API-key, TOTP and trusted-device routes."""

    def __init__(self, ctx: WebContext, auth: Auth) -> None:
        self.ctx = ctx
        self.auth = auth

    def _prove_caller(self, req: Request, body: dict[str, Any]) -> None:
        """The caller shows their current TOTP code (`code`) or their password (`password`).

        With auth disabled there is no account to prove; the route is open as everything is.
        """
        me = caller(req)
        if me.via == "anonymous":
            return
        code = str_field(body, "code", required=False, max_len=16)
        password = str_field(body, "password", required=False)
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

    # ---- API keys -------------------------------------------------------------------------
    def api_key(self, req: Request) -> Response:
        """A new API key for the user (shown once; the old one stops working)."""
        target = target_user(self.auth, req)
        key = self.auth.new_api_key(target.id)
        if key is None:
            raise HTTPError(404, "user not found")
        audit(self.ctx, "api_key_changed", req, target.username)
        return Response.json({"success": True, "api_key": key})

    # ---- TOTP -----------------------------------------------------------------------------
    def totp_setup(self, req: Request) -> Response:
        """A new secret, stored but not in force until totp_verify sees a code from it."""
        target = target_user(self.auth, req)
        if target.totp_enabled:
            raise HTTPError(409, "TOTP is already enabled; disable it first")
        secret = pyotp.random_base32()
        self.auth.users.set_totp(target.id, secret, False)
        uri = pyotp.TOTP(secret).provisioning_uri(name=target.username, issuer_name="LightNVR")
        return Response.json({"success": True, "secret": secret, "otpauth_uri": uri,
                              "message": "Scan the QR code with your authenticator app, "
                                         "then verify with a code"})

    def totp_verify(self, req: Request) -> Response:
        target = target_user(self.auth, req)
        code = str_field(req.json_object(), "code", max_len=16)
        if not target.totp_secret:
            raise HTTPError(400, "TOTP not set up for this user; run setup first")
        if not self.auth.accept_totp(target, code):
            raise HTTPError(400, "invalid TOTP code")
        self.auth.users.set_totp(target.id, target.totp_secret, True)
        audit(self.ctx, "totp_enabled", req, target.username)
        return Response.json({"success": True, "message": "TOTP MFA enabled successfully"})

    def totp_disable(self, req: Request) -> Response:
        target = target_user(self.auth, req)
        self._prove_caller(req, req.json_object())
        self.auth.users.set_totp(target.id, None, False)
        audit(self.ctx, "totp_disabled", req, target.username)
        return Response.json({"success": True, "message": "TOTP MFA disabled successfully"})

    def totp_status(self, req: Request) -> Response:
        target = target_user(self.auth, req)
        return Response.json({"totp_enabled": target.totp_enabled,
                              "totp_configured": bool(target.totp_secret)})

    # ---- trusted devices (the caller's own) -----------------------------------------------
    def _current_device(self, req: Request, user_id: int, now: int) -> int | None:
        """The id of the trusted device this request's cookie names, if it is the user's."""
        token = cookie_value(req, DEVICE_COOKIE)
        device = self.auth.devices.find(user_id, token, now) if token and len(token) <= 256 \
            else None
        return device.id if device else None

    def devices_list(self, req: Request) -> Response:
        """The caller's unexpired trusted devices; `current` marks this browser."""
        me = caller(req)
        now = int(time.time())
        current = self._current_device(req, me.user_id, now)
        items = [{"id": d.id, "created_at": d.created_at, "last_used_at": d.last_used_at,
                  "expires_at": d.expires_at, "ip_address": d.ip_address,
                  "user_agent": d.user_agent, "current": d.id == current}
                 for d in self.auth.devices.list_for_user(me.user_id, now)]
        return Response.json({"trusted_devices": items})

    def devices_delete(self, req: Request) -> Response:
        """Forgets one of the caller's devices; forgetting this browser clears its cookie."""
        me = caller(req)
        device_id = positive_id(req, "trusted device")
        current = self._current_device(req, me.user_id, int(time.time()))
        if not self.auth.devices.delete(me.user_id, device_id):
            raise HTTPError(404, "Trusted device not found")
        headers = ({"Set-Cookie": self.auth.clear_device_cookie(req)}
                   if current == device_id else {})
        return Response.json({"success": True}, headers=headers)


def register(router: Router, ctx: WebContext) -> None:
    """Add the API-key, TOTP and trusted-device routes."""
    a = FactorsApi(ctx, ensure_auth(ctx))
    R, W = Access.READ, Access.WRITE
    add_routes(router, [
        ("POST", "/api/auth/users/{id}/api-key", a.api_key, W, "Generate a new API key",
         {"params": ID, "responses": {200: oa.obj({"success": oa.BOOLEAN,
                                                   "api_key": oa.STRING})}}),
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
        ("GET", "/api/auth/trusted-devices", a.devices_list, R,
         "My trusted devices (browsers that skip the TOTP step)",
         {"responses": {200: oa.obj({"trusted_devices": oa.array(DEVICE_SCHEMA)})}}),
        ("DELETE", "/api/auth/trusted-devices/{id}", a.devices_delete, R,
         "Forget one of my trusted devices",
         {"params": ID, "responses": {200: oa.SUCCESS}}),
    ])
