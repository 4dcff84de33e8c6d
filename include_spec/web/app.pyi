# The WSGI application (lightnvr/web/app.py).
from collections.abc import Callable, Iterable
from typing import Any

from lightnvr.web.auth import Auth
from lightnvr.web.context import WebContext
from lightnvr.web.http import Request, Response
from lightnvr.web.router import Router
from lightnvr.web.static import StaticFiles

CONTENT_SECURITY_POLICY: str
SECURITY_HEADERS: dict[str, str]
AUTH_MAX_BODY: int                 # body cap on /api/auth/* (413 beyond)
PASSWORD_CHANGE_REQUIRED: str      # the 403 error text while a password change is pending

def ensure_auth(ctx: WebContext) -> Auth: ...    # creates ctx.auth (and the first admin) once
def same_origin(req: Request, trusted_proxy_cidrs: str = "") -> bool: ...

class WebApp:
    ctx: WebContext
    auth: Auth
    router: Router
    static: StaticFiles
    def __init__(self, ctx: WebContext, router: Router | None = None,
                 static: StaticFiles | None = None) -> None: ...
    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]: ...
    def respond(self, environ: dict[str, Any]) -> tuple[Response, bool]: ...   # never raises
