"""GET /api/events: the history of NVR events (detections, recordings, streams, storage).

The rows are the ones the event hub writes (core/nvr_events.py -> EventsRepo.record), the
same events the MQTT service publishes (docs/mqtt.md). Only those kinds are listed here:
other rows of the `events` table (the security audit trail) have their own admin-only route.
"""

from __future__ import annotations

import orjson

from lightnvr.database.events import NVR_EVENT_TYPES, Event, EventsRepo
from lightnvr.web import openapi as oa
from lightnvr.web import scope
from lightnvr.web.api.recordings import parse_time
from lightnvr.web.context import WebContext
from lightnvr.web.http import Access, HTTPError, Request, Response
from lightnvr.web.router import Router

_KINDS = {k.value: k for k in NVR_EVENT_TYPES}


def _kind(e: Event) -> str | None:
    """The NVR event kind stored in the row's details, or None for other rows."""
    try:
        details = orjson.loads(e.details) if e.details else None
    except orjson.JSONDecodeError:
        return None
    kind = details.get("kind") if isinstance(details, dict) else None
    return kind if kind in _KINDS else None


def register(router: Router, ctx: WebContext) -> None:
    repo = EventsRepo(ctx.db)

    def events(req: Request) -> Response:
        kind = req.arg("kind")
        if kind is not None and kind not in _KINDS:
            raise HTTPError(400, "kind: must be one of " + ", ".join(sorted(_KINDS)))
        limit = req.int_arg("limit", 100, 1, 1000)
        stream = req.arg("stream") or None
        start, end = parse_time(req.arg("start"), "start"), parse_time(req.arg("end"), "end")
        types = ({NVR_EVENT_TYPES[_KINDS[kind]]} if kind is not None
                 else set(NVR_EVENT_TYPES.values()))
        seen = scope.visible_streams(ctx, req)  # the caller's camera tags (web/scope.py)
        rows: list[tuple[Event, str]] = []
        for t in sorted(types):
            for e in repo.list(start, end, stream, int(t), limit):
                if seen is not None and e.stream_name and e.stream_name not in seen:
                    continue
                k = _kind(e)
                if k is not None and (kind is None or k == kind):
                    rows.append((e, k))
        rows.sort(key=lambda r: (r[0].timestamp, r[0].id), reverse=True)
        out = [{**e.to_dict(), "kind": k, "details": orjson.loads(e.details)}
               for e, k in rows[:limit]]
        return Response.json({"events": out, "count": len(out)})

    router.add("GET", "/api/events", events, Access.READ,
               "NVR event history (?kind=&stream=&start=&end=&limit=), newest first")
    oa.describe("GET", "/api/events", responses={200: oa.obj({
        "events": oa.array(oa.obj({"id": oa.INTEGER, "kind": oa.STRING, "stream": oa.STRING,
                                   "timestamp": oa.NUMBER, "description": oa.STRING})),
        "count": oa.INTEGER}, required=["events", "count"])})
