# Static UI files (lightnvr/web/static.py).
from collections.abc import Collection

from lightnvr.web.http import Request, Response

NODE_MODULES_ALLOWLIST: set[str]     # packages served from /node_modules/<pkg>/...; extend here
NOT_STATIC_PREFIXES: tuple[str, ...]

def content_type(path: str) -> str: ...
def resolve_static_root(configured: str) -> str: ...   # ValueError naming [web] root

class StaticFiles:
    root: str
    def __init__(self, root: str, node_modules: str | None = None,
                 allow: Collection[str] = ...) -> None: ...
    @staticmethod
    def handles(path: str) -> bool: ...
    def serve(self, req: Request) -> Response: ...    # HTTPError 404/405
