# File serving for the web layer (lightnvr/web/media.py).
from collections.abc import Mapping

from lightnvr.web.http import Request, Response

CHUNK: int
CONTENT_TYPES: dict[str, str]

def parse_range(header: str | None, size: int) -> tuple[int, int] | None: ...   # HTTPError 416
def serve_file(req: Request, path: str, content_type: str, *,
               download_name: str | None = None,
               headers: Mapping[str, str] | None = None) -> Response: ...   # Range, ETag, 404
def contained_path(root: str, *parts: str) -> str | None: ...   # None when it escapes root
def is_within(root: str, path: str) -> bool: ...

class Fragment:
    offset: int
    length: int
    start: float

class Fmp4Layout:
    init_length: int
    fragments: tuple[Fragment, ...]
    timescale: int

def fmp4_layout(path: str) -> Fmp4Layout | None: ...

class LayoutCache:
    def __init__(self, capacity: int = 256) -> None: ...
    def get(self, path: str) -> Fmp4Layout | None: ...

class ThumbnailMaker:
    def __init__(self) -> None: ...
    def get(self, recording_path: str, idx: int, count: int, duration: float) -> str | None: ...
