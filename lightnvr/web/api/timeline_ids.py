"""GET /api/timeline/segments-by-ids?ids=1,2,3: timeline segments of chosen recordings.

LightNVR's shape (`handle_get_timeline_segments_by_ids`): the same segment objects as
`/api/timeline/segments`, from any streams, with `"stream": "(selected)"` and
`"multi_stream": true`. Unknown or deleted ids are skipped; recordings of streams the caller's
camera tags do not reach are skipped too (web/scope.py), as LightNVR skips what it cannot load.
"""

from __future__ import annotations

from typing import Any

from lightnvr.database.detections import DetectionsRepo
from lightnvr.web import openapi as oa
from lightnvr.web import scope
from lightnvr.web.api.timeline import local_time, segment_json
from lightnvr.web.context import WebContext
from lightnvr.web.http import Access, HTTPError, Request, Response
from lightnvr.web.router import Router

MAX_IDS = 8640  # LightNVR's MAX_TIMELINE_SEGMENTS


def parse_ids(raw: str | None) -> list[int]:
    """The ids of `?ids=` in order, duplicates dropped; 400 when none is a positive integer."""
    if not raw:
        raise HTTPError(400, "Missing required parameter: ids")
    ids: list[int] = []
    for token in raw.split(",")[:MAX_IDS]:
        token = token.strip()
        if token.isdigit() and 0 < int(token) < 1 << 62 and int(token) not in ids:
            ids.append(int(token))
    if not ids:
        raise HTTPError(400, "No valid recording IDs provided")
    return ids


def register(router: Router, ctx: WebContext) -> None:
    detections = DetectionsRepo(ctx.db)

    def by_ids(req: Request) -> Response:
        ids = parse_ids(req.arg("ids"))
        seen = scope.visible_streams(ctx, req)
        rows = [r for r in (ctx.recordings.get(i) for i in ids)
                if r is not None and not r.deleting and (seen is None or r.stream_name in seen)]
        rows.sort(key=lambda r: r.start_time)
        out: list[dict[str, Any]] = []
        for r in rows:
            end = r.end_time if r.end_time is not None else r.start_time
            has_det = r.trigger_type == "detection" or bool(
                detections.timestamps(r.stream_name, r.start_time, end))
            out.append(segment_json(r, end, has_det))
        start = rows[0].start_time if rows else 0.0
        end_all = max((s["end_timestamp"] for s in out), default=0.0)
        return Response.json({"segments": out, "stream": "(selected)", "multi_stream": True,
                              "start_time": local_time(start) if rows else "",
                              "end_time": local_time(end_all) if rows else "",
                              "segment_count": len(out)})

    router.add("GET", "/api/timeline/segments-by-ids", by_ids, Access.READ,
               "Timeline segments of the recordings named in ?ids=")
    oa.describe("GET", "/api/timeline/segments-by-ids", query={"ids": oa.STRING},
                required_query=["ids"], responses={200: oa.obj(
                    {"segments": oa.array(oa.obj({"id": oa.INTEGER, "stream": oa.STRING})),
                     "stream": oa.STRING, "multi_stream": oa.BOOLEAN,
                     "segment_count": oa.INTEGER})})
