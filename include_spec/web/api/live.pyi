# lightnvr/web/api/live.py: GET /api/live/{stream}/mse (WebSocket of fMP4), added by register().
from lightnvr.web.context import WebContext
from lightnvr.web.router import Router

UNAVAILABLE: str

def register(router: Router, ctx: WebContext) -> None: ...
