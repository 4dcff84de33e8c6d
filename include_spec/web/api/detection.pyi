# lightnvr/web/api/detection.py: routes are added by routes.build_router through register().
from typing import Any

from lightnvr.web.context import WebContext
from lightnvr.web.router import Router

def register(router: Router, ctx: WebContext) -> None: ...

# (label, confidence) of a trigger body
def parse_objects(body: dict[str, Any]) -> list[tuple[str, float]]: ...

class DetectionApi:   # the route handlers; reached only through register()
    def __init__(self, ctx: WebContext) -> None: ...
