# lightnvr/web/api/timeline.py: routes are added by routes.build_router through register().
from typing import Any

from lightnvr.database.recordings import Recording
from lightnvr.web.context import WebContext
from lightnvr.web.media import LayoutCache
from lightnvr.web.router import Router

def register(router: Router, ctx: WebContext) -> None: ...

def local_time(ts: float) -> str: ...   # local "YYYY-MM-DD HH:MM:SS", as the C project
# one segment object of /api/timeline/segments and /segments-by-ids, ending at `end`
def segment_json(r: Recording, end: float, has_detection: bool) -> dict[str, Any]: ...

# HLS v7 VOD playlist
def build_playlist(ctx: WebContext, rows: list[Recording], layouts: LayoutCache) -> str: ...

class TimelineApi:   # the route handlers; reached only through register()
    def __init__(self, ctx: WebContext) -> None: ...
