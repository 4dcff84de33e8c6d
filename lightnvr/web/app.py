"""The WSGI application: request parsing, routing, central auth/CSRF, errors, security headers.

Every request goes: parse (413 beyond `[web] max_request_bytes`, beyond `AUTH_MAX_BODY` on
/api/auth/*) -> route match (404/405; UI paths fall through to static files) -> authenticate
-> enforce the route's `Access` (401 unauthenticated, 403 cross-site write, 403 "password
change required", 403 viewer on WRITE, 403 non-admin on ADMIN) -> handler. `HTTPError`
becomes `{"error": ...}`; any other exception is logged with its traceback and answered 500
`{"error": "internal error"}`. Security headers go on every response, and every response is
counted by status for /api/metrics.

Cross-site writes: a cookie session must show it is same-origin (Origin, else Referer, else
X-Requested-With). Every other browser-replayable way in (HTTP Basic, auth disabled) is
refused when it sends a foreign Origin; JSON bodies must be labelled application/json
(Request.json), which a cross-site page cannot send without a preflight we never grant.
API keys are exempt: browsers never attach them on their own.
"""

from __future__ import annotations

import http
import logging
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from lightnvr.database.sessions import SessionsRepo
from lightnvr.database.users import UsersRepo
from lightnvr.web.audit import audit_log
from lightnvr.web.auth import Auth
from lightnvr.web.client import from_trusted_proxy
from lightnvr.web.context import WebContext
from lightnvr.web.http import Access, HTTPError, Request, Response, Role
from lightnvr.web.router import Router
from lightnvr.web.static import StaticFiles, resolve_static_root

log = logging.getLogger(__name__)

# The UI is Preact + htm as ES modules from 'self'; hls.js feeds MediaSource through blob:
# URLs and may start a blob: worker. Inline styles are allowed (style attributes); scripts not.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' blob:; worker-src 'self' blob:; "
    "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # same-origin (not no-referrer): our own pages keep sending Referer, which the CSRF
    # check accepts when a browser omits Origin.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# Login, TOTP step, password change: a few fields each. Unauthenticated callers reach these,
# so they must not get the server to read (and parse) megabytes.
AUTH_MAX_BODY = 4096
PASSWORD_CHANGE_REQUIRED = "password change required"
# What an account flagged password_change_required may still do (public routes aside).
_WHILE_PASSWORD_CHANGE_REQUIRED = {("GET", "/api/auth/verify"),
                                   ("PUT", "/api/auth/users/{id}/password")}
StartResponse = Callable[..., Any]


def ensure_auth(ctx: WebContext) -> Auth:
    """The context's Auth, created (and the first admin ensured) on first use."""
    if ctx.auth is None:
        auth = Auth(ctx.config.web, UsersRepo(ctx.db), SessionsRepo(ctx.db), ctx.data_dir)
        auth.limiter.audit = audit_log(ctx).login_event  # failed logins, lockouts -> audit
        auth.ensure_admin()
        ctx.auth = auth
    return ctx.auth


def same_origin(req: Request, trusted_proxy_cidrs: str = "") -> bool:
    """Origin (else Referer) names our host; with neither, X-Requested-With must be present.

    Browsers never let a cross-site page set X-Requested-With without a CORS preflight,
    which this server does not grant. Our host is the Host header, or X-Forwarded-Host when
    the request comes from one of `trusted_proxy_cidrs` (anyone else could name any host).
    """
    forwarded = (req.headers.get("x-forwarded-host")
                 if from_trusted_proxy(req, trusted_proxy_cidrs) else None)
    host = (forwarded or req.headers.get("host") or "").lower()
    host = host.split(",")[0].strip()
    for name in ("origin", "referer"):
        value = req.headers.get(name)
        if value is not None:
            if value == "null":
                return False
            return bool(host) and urllib.parse.urlsplit(value).netloc.lower() == host
    return "x-requested-with" in req.headers


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class _Closing:
    """Wrap a streamed body so the handler's `close` runs when the server is done with it."""

    def __init__(self, body: Iterable[bytes], close: Callable[[], None] | None) -> None:
        self._body = body
        self._close = close

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        try:
            closer = getattr(self._body, "close", None)
            if closer is not None:
                closer()
        finally:
            if self._close is not None:
                self._close()


class WebApp:
    """The WSGI callable. Build once per daemon; safe to call from many worker threads."""

    ctx: WebContext
    auth: Auth
    router: Router
    static: StaticFiles

    def __init__(self, ctx: WebContext, router: Router | None = None,
                 static: StaticFiles | None = None) -> None:
        from lightnvr.web.routes import build_router  # routes imports every API module

        self.ctx = ctx
        self.auth = ensure_auth(ctx)
        self.router = router if router is not None else build_router(ctx)
        if static is None:
            static = StaticFiles(resolve_static_root(ctx.config.web.root))
        self.static = static
        self.counters = ctx.http_counters

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        began = time.monotonic()
        resp, head = self.respond(environ)
        self.counters.add(resp.status)
        headers = dict(SECURITY_HEADERS)
        headers.update(resp.headers)
        body = resp.body
        if isinstance(body, (bytes, bytearray)):
            headers["Content-Length"] = str(len(body))
        if resp.status in (204, 304):
            headers.pop("Content-Length", None)
            body = b""
        start_response(f"{resp.status} {_phrase(resp.status)}", list(headers.items()))
        log.debug("%s %s -> %d (%.1f ms)", environ.get("REQUEST_METHOD"),
                  environ.get("PATH_INFO"), resp.status, (time.monotonic() - began) * 1000)
        if head:
            _Closing([] if isinstance(body, (bytes, bytearray)) else body, resp.close).close()
            return [b""]
        if isinstance(body, (bytes, bytearray)):
            # close (e.g. "restart now") runs once the server has written the answer.
            return _Closing([bytes(body)], resp.close) if resp.close is not None else [bytes(body)]
        return _Closing(body, resp.close)

    def respond(self, environ: dict[str, Any]) -> tuple[Response, bool]:
        """The Response for one request and whether it was HEAD; never raises."""
        head = str(environ.get("REQUEST_METHOD", "")).upper() == "HEAD"
        try:
            req = Request.from_environ(environ, self.ctx.config.web.max_request_bytes)
            return self._dispatch(req), head
        except HTTPError as e:
            return Response.error(e.status, e.message, e.headers), head
        except Exception:
            log.error("unhandled error in %s %s", environ.get("REQUEST_METHOD"),
                      environ.get("PATH_INFO"), exc_info=True)
            return Response.error(500, "internal error"), head

    def _dispatch(self, req: Request) -> Response:
        try:
            route, params = self.router.match(req.method, req.path)
        except HTTPError as e:
            if e.status == 404 and self.static.handles(req.path):
                return self.static.serve(req)
            raise
        req.params = params
        if req.path.startswith("/api/auth/"):
            req.max_body = min(req.max_body, AUTH_MAX_BODY)
        req.principal = self.auth.authenticate(req)
        self._authorize(route.method, route.template, route.access, req)
        resp = route.handler(req)
        if req.path.startswith("/api/") and "Cache-Control" not in resp.headers:
            resp.headers["Cache-Control"] = "no-store"
        return resp

    def _authorize(self, method: str, template: str, access: Access, req: Request) -> None:
        unsafe = req.method not in _SAFE_METHODS
        p = req.principal
        cidrs = self.ctx.config.web.trusted_proxy_cidrs
        if access == Access.PUBLIC:
            # Login CSRF: a cross-site page must not post credentials into our origin.
            if unsafe and ("origin" in req.headers or "referer" in req.headers) \
                    and not same_origin(req, cidrs):
                raise HTTPError(403, "cross-site request refused")
            return
        if p is None:
            raise self._unauthenticated(req)
        if unsafe and p.via == "session" and not same_origin(req, cidrs):
            raise HTTPError(403, "cross-site request refused: send Origin or X-Requested-With")
        if unsafe and p.via != "api_key" and "origin" in req.headers \
                and not same_origin(req, cidrs):
            # Browsers replay cached Basic credentials (and need none with auth disabled).
            raise HTTPError(403, "cross-site request refused: Origin is not this server")
        if p.must_change_password and not self._allowed_before_password_change(
                method, template, req):
            raise HTTPError(403, PASSWORD_CHANGE_REQUIRED)
        if access == Access.WRITE and p.role == Role.VIEWER:
            raise HTTPError(403, "viewers may not change anything")
        if access == Access.ADMIN and p.role != Role.ADMIN:
            raise HTTPError(403, "administrator role required")

    @staticmethod
    def _unauthenticated(req: Request) -> HTTPError:
        if req.auth_error is not None:
            # Offering Basic again would only make a browser ask for the same password;
            # what can work for this account is a session (login page) or an API key.
            return HTTPError(401, req.auth_error, {"WWW-Authenticate": 'Bearer realm="LightNVR"'})
        headers = ({"WWW-Authenticate": 'Basic realm="LightNVR"'}
                   if req.headers.get("authorization", "")[:6].lower() == "basic " else {})
        return HTTPError(401, "authentication required", headers)

    @staticmethod
    def _allowed_before_password_change(method: str, template: str, req: Request) -> bool:
        """Only verify and changing one's OWN password (login and logout are public)."""
        if (method, template) not in _WHILE_PASSWORD_CHANGE_REQUIRED:
            return False
        assert req.principal is not None
        return "id" not in req.params or req.params["id"] == str(req.principal.user_id)
