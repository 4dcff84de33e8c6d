"""GET /api/storage/streams: per-stream storage used and how many days of footage are kept.

What LightNVR's System page shows as "stream storage" (its `streamStorage` items: `name`,
`size`, `count`, `retention_days`, `detection_retention_days`), plus ours: the oldest and
newest recording, `days_kept` (from the oldest recording to now) and the retention that
applies (`effective_retention_days`: the stream's own, else the global `retention_days`;
0 = kept until space runs out). Streams no longer configured but with recordings are listed
too (`configured: false`): their files still take space.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from lightnvr.database.recordings import RecordingQuery
from lightnvr.web import scope
from lightnvr.web.http import Access, Request, Response

if TYPE_CHECKING:
    from lightnvr.web.context import WebContext
    from lightnvr.web.router import Router

_DAY = 86400.0


def stream_storage(ctx: WebContext) -> list[dict[str, Any]]:
    """One item per stream that is configured or has recordings, largest first."""
    configured = {s.name: s for s in ctx.streams.list()}
    names = sorted(set(configured) | set(ctx.recordings.stream_names()))
    glob = ctx.config.storage.retention_days
    now = time.time()
    out: list[dict[str, Any]] = []
    for name in names:
        cfg = configured.get(name)
        first, _ = ctx.recordings.query(RecordingQuery(stream=name, sort="start_time",
                                                       order="asc", limit=1,
                                                       include_incomplete=True))
        last, _ = ctx.recordings.query(RecordingQuery(stream=name, sort="start_time",
                                                      order="desc", limit=1,
                                                      include_incomplete=True))
        oldest = first[0].start_time if first else None
        newest = (last[0].end_time or last[0].start_time) if last else None
        own = cfg.retention_days if cfg is not None else -1
        out.append({
            "name": name, "configured": cfg is not None,
            "size": ctx.recordings.total_size(name), "count": ctx.recordings.count(name),
            "oldest": oldest, "newest": newest,
            "days_kept": round(max(0.0, now - oldest) / _DAY, 2) if oldest else 0.0,
            "retention_days": own,
            "detection_retention_days": cfg.detection_retention_days if cfg else -1,
            "effective_retention_days": own if own >= 0 else glob,
        })
    out.sort(key=lambda d: (-int(d["size"]), str(d["name"])))
    return out


def register(router: Router, ctx: WebContext) -> None:
    """Add GET /api/storage/streams."""

    def streams(req: Request) -> Response:
        seen = scope.visible_streams(ctx, req)  # the caller's camera tags (web/scope.py)
        return Response.json({"streams": [i for i in stream_storage(ctx)
                                          if seen is None or i["name"] in seen],
                              "global_retention_days": ctx.config.storage.retention_days})

    router.add("GET", "/api/storage/streams", streams, Access.READ,
               "Storage used and days of footage kept, per stream")
