"""GET /api/health and /api/health/hls: unauthenticated liveness answers in LightNVR's shape.

`/api/health` answers 200 while the database answers, 503 (logged once per outage, with the
cause) while it does not. Its body is LightNVR's (`api_handlers_health.c`): `healthy`,
`status` ("healthy", "degraded" when a stream is reconnecting or starting, "critical" when
one is down — "unhealthy" with a 503), `uptime`, `totalRequests`/`failedRequests`, a local
`timestamp` string, `streams` counts and `storage` bytes; plus our `database` and `version`.
Per-stream detail (`streams_detail`) only goes to a signed-in caller, limited to the streams
their camera tags reach: stream names are not for anonymous load balancers. The web server's
own probe (web/probe.py) polls this route, so it reads only in-memory state, one statvfs and
one trivial query.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

import lightnvr
from lightnvr.web import openapi as oa
from lightnvr.web import scope
from lightnvr.web.context import WebContext
from lightnvr.web.http import Access, Request, Response
from lightnvr.web.outage_log import OutageLog
from lightnvr.web.router import Router

if TYPE_CHECKING:
    from lightnvr.video.stream_manager import StreamStatus

log = logging.getLogger(__name__)

STALE_SECONDS = 10.0  # an active stream with no packet for this long counts as degraded


def stream_health(s: StreamStatus) -> str:
    """LightNVR's health word for a stream: "up", "degraded" or "down"."""
    state = str(getattr(s.state, "value", s.state))
    if state == "active":
        age = s.last_packet_age
        return "up" if age is not None and age < STALE_SECONDS else "degraded"
    if state in ("starting", "reconnecting"):
        return "degraded"
    return "down"


class BitrateMeter:
    """Measured bitrate per stream: bytes read between two looks, at least `MIN_GAP` apart.

    Stream statuses carry byte counters, not rates; LightNVR reports the current rate, so the
    web layer differences the counters. Until a stream has two looks, the camera's declared
    bitrate stands in.
    """

    MIN_GAP = 1.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[str, tuple[float, int, float]] = {}  # name -> (mono, bytes, bps)

    def bps(self, s: StreamStatus) -> float:
        now = time.monotonic()
        with self._lock:
            prev = self._last.get(s.name)
            if prev is None or s.bytes < prev[1]:
                self._last[s.name] = (now, s.bytes, float(s.bitrate_bps))
                return float(s.bitrate_bps)
            if now - prev[0] < self.MIN_GAP:
                return prev[2]
            rate = (s.bytes - prev[1]) * 8 / (now - prev[0])
            self._last[s.name] = (now, s.bytes, rate)
            return rate


def bitrate_meter(ctx: WebContext) -> BitrateMeter:
    """The daemon's one meter (health and metrics share it)."""
    meter = ctx.extra.get("bitrate_meter")
    if not isinstance(meter, BitrateMeter):
        meter = ctx.extra["bitrate_meter"] = BitrateMeter()
    return meter


def _local_now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())


def register(router: Router, ctx: WebContext) -> None:
    """Add GET /api/health and GET /api/health/hls."""
    outage = OutageLog(log, "database check of /api/health")
    meter = bitrate_meter(ctx)

    def health(req: Request) -> Response:
        # One trivial query proves the database answers; nothing heavier runs here.
        db_ok = True
        try:
            with ctx.db.reader() as conn:
                conn.execute("SELECT 1").fetchone()
        except Exception as e:
            db_ok = False
            outage.failed(e, "answering 503")
        else:
            outage.succeeded()
        sts = ctx.stream_manager.statuses()
        words = [stream_health(s) for s in sts]
        status = ("unhealthy" if not db_ok else "critical" if "down" in words
                  else "degraded" if "degraded" in words else "healthy")
        counts = ctx.http_counters.snapshot()
        body: dict[str, Any] = {
            "healthy": db_ok, "status": status,
            "uptime": round(max(0.0, time.time() - ctx.started_at), 1),
            "totalRequests": sum(counts.values()),
            "failedRequests": sum(n for code, n in counts.items() if int(code) >= 500),
            "timestamp": _local_now(),
            "streams": {"total": len(sts), "up": words.count("up"),
                        "degraded": words.count("degraded"), "down": words.count("down")},
            "database": "ok" if db_ok else "unavailable", "version": lightnvr.__version__}
        try:
            h = ctx.storage.health()
            body["storage"] = {"used_bytes": h.recordings_bytes,
                               "available_bytes": h.free_bytes}
        except Exception:
            log.debug("storage health unavailable for /api/health", exc_info=True)
        if req.principal is not None:
            seen = scope.visible_streams(ctx, req)
            body["streams_detail"] = [
                {"name": s.name, "status": w, "fps": s.fps, "bitrate_bps": round(meter.bps(s)),
                 "reconnects": s.reconnects, "frames_total": s.packets,
                 "frames_dropped": s.dropped, "recording_active": s.recording}
                for s, w in zip(sts, words, strict=True) if seen is None or s.name in seen]
        return Response.json(body, 200 if db_ok else 503)

    def hls_health(req: Request) -> Response:
        # LightNVR restarts a wedged HLS writer from a watchdog and counts it; our live
        # HLS writers restart with their stream, so the count is the streams' reconnects.
        restarts = sum(s.reconnects for s in ctx.stream_manager.statuses())
        return Response.json({"healthy": True, "status": "ok",
                              "watchdogRestartCount": restarts, "timestamp": _local_now()})

    router.add("GET", "/api/health", health, Access.PUBLIC, "Liveness (no authentication)")
    oa.describe("GET", "/api/health", responses={
        200: oa.obj({"status": oa.STRING, "healthy": oa.BOOLEAN, "version": oa.STRING,
                     "uptime": oa.NUMBER, "totalRequests": oa.INTEGER,
                     "failedRequests": oa.INTEGER, "timestamp": oa.STRING,
                     "streams": oa.obj({"total": oa.INTEGER, "up": oa.INTEGER,
                                        "degraded": oa.INTEGER, "down": oa.INTEGER}),
                     "storage": oa.obj({"used_bytes": oa.INTEGER,
                                        "available_bytes": oa.INTEGER})},
                    required=["status", "healthy"])})
    router.add("GET", "/api/health/hls", hls_health, Access.PUBLIC,
               "Live HLS health (no authentication)")
    oa.describe("GET", "/api/health/hls", responses={200: oa.obj(
        {"healthy": oa.BOOLEAN, "status": oa.STRING, "watchdogRestartCount": oa.INTEGER,
         "timestamp": oa.STRING}, required=["healthy", "status"])})
