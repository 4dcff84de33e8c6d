# Router (lightnvr/web/router.py).
import re
from collections.abc import Callable

from lightnvr.web.http import Access, Request, Response

Handler = Callable[[Request], Response]

class Route:
    method: str
    template: str
    handler: Handler
    access: Access
    summary: str
    pattern: re.Pattern[str]

class Router:
    def __init__(self) -> None: ...
    def add(self, method: str, template: str, handler: Handler,
            access: Access = ..., summary: str = "") -> None: ...
    def routes(self) -> list[Route]: ...
    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]: ...
