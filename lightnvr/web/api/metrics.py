"""GET /api/metrics: Prometheus text exposition of streams, recorder, storage, memory and HTTP."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from lightnvr.web import openapi as oa
from lightnvr.web.context import WebContext
from lightnvr.web.http import Access, Request, Response
from lightnvr.web.router import Router

if TYPE_CHECKING:
    from lightnvr.video.stream_manager import StreamStatus

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
STREAM_STATES = ("inactive", "starting", "active", "reconnecting", "stopping", "error")


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class _Text:
    """Accumulates metric families: one HELP/TYPE header, then samples."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str,
               samples: list[tuple[dict[str, str], float]]) -> None:
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            lab = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
            self.lines.append(f"{name}{{{lab}}} {value:g}" if lab else f"{name} {value:g}")


class MetricsApi:
    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx

    def metrics(self, req: Request) -> Response:
        t = _Text()
        for section in (self._streams, self._storage, self._memory, self._http):
            try:
                section(t)
            except Exception:
                # A failing subsystem leaves its metrics out instead of failing the scrape.
                log.warning("metrics: %s failed", section.__name__, exc_info=True)
        t.family("lightnvr_uptime_seconds", "gauge", "Seconds since the daemon started.",
                 [({}, round(time.time() - self.ctx.started_at, 1))])
        return Response(200, ("\n".join(t.lines) + "\n").encode(), {"Content-Type": CONTENT_TYPE})

    def _streams(self, t: _Text) -> None:
        sts = self.ctx.stream_manager.statuses()

        def per(get: Callable[[StreamStatus], float]) -> list[tuple[dict[str, str], float]]:
            return [({"stream": s.name}, float(get(s))) for s in sts]

        t.family("lightnvr_stream_packets_total", "counter", "Packets read from the camera.",
                 per(lambda s: s.packets))
        t.family("lightnvr_stream_bytes_total", "counter", "Bytes read from the camera.",
                 per(lambda s: s.bytes))
        t.family("lightnvr_stream_dropped_total", "counter", "Packets dropped by queues.",
                 per(lambda s: s.dropped))
        t.family("lightnvr_stream_reconnects_total", "counter", "Reconnections.",
                 per(lambda s: s.reconnects))
        t.family("lightnvr_stream_timestamp_repairs_total", "counter",
                 "Non-monotonic timestamps repaired.",
                 per(lambda s: s.timestamp_repairs))
        t.family("lightnvr_stream_recording", "gauge", "1 while a segment file is open.",
                 per(lambda s: 1 if s.recording else 0))
        t.family("lightnvr_recorder_segments_total", "counter", "Segments written.",
                 per(lambda s: s.segments_written))
        t.family("lightnvr_stream_state", "gauge", "1 for the stream's current state.",
                 [({"stream": s.name, "state": st}, 1.0 if s.state.value == st else 0.0)
                  for s in sts for st in STREAM_STATES])

    def _storage(self, t: _Text) -> None:
        h = self.ctx.storage.health()
        t.family("lightnvr_storage_free_bytes", "gauge", "Free bytes on the recordings disk.",
                 [({}, h.free_bytes)])
        t.family("lightnvr_storage_total_bytes", "gauge", "Size of the recordings disk.",
                 [({}, h.total_bytes)])
        t.family("lightnvr_storage_recordings_bytes", "gauge", "Bytes held by recordings.",
                 [({}, h.recordings_bytes)])
        t.family("lightnvr_storage_recordings", "gauge", "Number of recordings.",
                 [({}, h.recordings_count)])
        t.family("lightnvr_storage_level", "gauge",
                 "Disk pressure: 0 normal, 1 warning, 2 critical, 3 emergency.",
                 [({}, int(h.level))])

    def _memory(self, t: _Text) -> None:
        gov, pool = self.ctx.governor, self.ctx.pool
        if gov is not None:
            t.family("lightnvr_memory_pressure_level", "gauge",
                     "Governor level: 0 normal, 1 pressure, 2 critical.", [({}, int(gov.level))])
            reading = gov.last_reading
            if reading is not None:
                t.family("lightnvr_process_rss_bytes", "gauge", "Resident set size.",
                         [({}, reading.rss_bytes)])
                t.family("lightnvr_system_available_bytes", "gauge",
                         "System available memory.", [({}, reading.available_bytes)])
        if pool is not None:
            st = pool.stats()
            t.family("lightnvr_pool_utilization", "gauge", "Share of pool slabs in use.",
                     [({}, round(pool.utilization(), 4))])
            t.family("lightnvr_pool_slabs_in_use", "gauge", "Pool slabs in use.",
                     [({}, st.slabs_in_use)])
            t.family("lightnvr_pool_bytes_in_use", "gauge", "Pool bytes in use.",
                     [({}, st.bytes_in_use)])
            t.family("lightnvr_pool_exhaustions_total", "counter",
                     "Acquires that found their size class empty.", [({}, st.exhaustions)])
            t.family("lightnvr_pool_oversize_total", "counter",
                     "Acquires larger than the largest slab.", [({}, st.oversize)])

    def _http(self, t: _Text) -> None:
        counts = self.ctx.http_counters.snapshot()
        t.family("lightnvr_http_requests_total", "counter", "HTTP requests by status code.",
                 [({"code": str(code)}, n) for code, n in sorted(counts.items())])


def register(router: Router, ctx: WebContext) -> None:
    api = MetricsApi(ctx)
    router.add("GET", "/api/metrics", api.metrics, Access.READ,
               "Prometheus metrics (text exposition format)")
    oa.describe("GET", "/api/metrics", responses={200: oa.media("text/plain", oa.STRING)})
