# lightnvr/web/api/timeline.py: routes are added by routes.build_router through register().
from lightnvr.web.context import WebContext
from lightnvr.web.router import Router

def register(router: Router, ctx: WebContext) -> None: ...
