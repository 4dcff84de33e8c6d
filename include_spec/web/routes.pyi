# Router assembly (lightnvr/web/routes.py). Every lightnvr/web/api/<area>.py module defines
#     def register(router: Router, ctx: WebContext) -> None
from lightnvr.web.context import WebContext
from lightnvr.web.router import Router

def api_modules() -> list[str]: ...
def build_router(ctx: WebContext, strict: bool = False) -> Router: ...
