"""GET /api/metrics: Prometheus text exposition of streams, recorder, storage, memory and HTTP.

Our metric names and, beside them, LightNVR's (`lightnvr_stream_up`, `lightnvr_stream_fps`,
`lightnvr_stream_bitrate_bps`, `lightnvr_recording_active`, `lightnvr_storage_*_bytes`,
`lightnvr_instance_*`), so a LightNVR dashboard keeps working. Per-stream samples are limited
to the streams the caller's camera tags reach (web/scope.py). POST /api/telemetry/player
takes the players' quality-of-experience events (LightNVR's fields) and exports their totals.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from lightnvr.web import openapi as oa
from lightnvr.web import scope
from lightnvr.web.api.health import bitrate_meter, stream_health
from lightnvr.web.context import WebContext
from lightnvr.web.http import Access, HTTPError, Request, Response
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


class PlayerTelemetry:
    """Totals of the players' QoE events, per stream and transport (bounded label sets)."""

    MAX_SERIES = 256  # stream x transport pairs kept; more are counted under "other"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._series: dict[tuple[str, str], list[float]] = {}  # events, ttff, rebuffers, ms

    def record(self, stream: str, transport: str, ttff_ms: float, rebuffers: int,
               rebuffer_ms: float) -> None:
        with self._lock:
            key = (stream, transport)
            if key not in self._series and len(self._series) >= self.MAX_SERIES:
                key = ("other", "other")
            row = self._series.setdefault(key, [0.0, 0.0, 0.0, 0.0])
            row[0] += 1
            row[1] += ttff_ms
            row[2] += rebuffers
            row[3] += rebuffer_ms

    def snapshot(self) -> dict[tuple[str, str], list[float]]:
        with self._lock:
            return {k: list(v) for k, v in self._series.items()}


class MetricsApi:
    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx
        self.telemetry = PlayerTelemetry()
        self._sts: list[StreamStatus] = []

    def metrics(self, req: Request) -> Response:
        t = _Text()
        seen = scope.visible_streams(self.ctx, req)
        try:
            self._sts = [s for s in self.ctx.stream_manager.statuses()
                         if seen is None or s.name in seen]
        except Exception:
            log.warning("metrics: stream statuses failed", exc_info=True)
            self._sts = []
        for section in (self._streams, self._storage, self._memory, self._http,
                        self._lightnvr, self._players):
            try:
                section(t)
            except Exception:
                # A failing subsystem leaves its metrics out instead of failing the scrape.
                log.warning("metrics: %s failed", section.__name__, exc_info=True)
        t.family("lightnvr_uptime_seconds", "gauge", "Seconds since the daemon started.",
                 [({}, round(time.time() - self.ctx.started_at, 1))])
        return Response(200, ("\n".join(t.lines) + "\n").encode(), {"Content-Type": CONTENT_TYPE})

    def _streams(self, t: _Text) -> None:
        sts = self._sts

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

    def _lightnvr(self, t: _Text) -> None:
        """LightNVR's names (api_handlers_metrics.c) for what we also export under ours."""
        sts = self._sts
        meter = bitrate_meter(self.ctx)
        up = {s.name: stream_health(s) == "up" for s in sts}
        t.family("lightnvr_stream_up", "gauge",
                 "Whether stream is connected and producing frames",
                 [({"stream": s.name}, 1.0 if up[s.name] else 0.0) for s in sts])
        t.family("lightnvr_stream_fps", "gauge", "Current measured frame rate",
                 [({"stream": s.name}, round(s.fps, 1)) for s in sts])
        t.family("lightnvr_stream_bitrate_bps", "gauge",
                 "Current measured bitrate in bits per second",
                 [({"stream": s.name}, round(meter.bps(s))) for s in sts])
        t.family("lightnvr_stream_frames_total", "counter",
                 "Total frames received since stream start",
                 [({"stream": s.name}, float(s.packets)) for s in sts])
        t.family("lightnvr_stream_frames_dropped", "counter", "Frames dropped due to errors",
                 [({"stream": s.name}, float(s.dropped)) for s in sts])
        t.family("lightnvr_recording_active", "gauge", "Whether recording is active for stream",
                 [({"stream": s.name}, 1.0 if s.recording else 0.0) for s in sts])
        t.family("lightnvr_recording_segments_total", "counter",
                 "Total recording segments created",
                 [({"stream": s.name}, float(s.segments_written)) for s in sts])
        h = self.ctx.storage.health()
        t.family("lightnvr_storage_used_bytes", "gauge", "Total storage consumed by recordings",
                 [({}, h.recordings_bytes)])
        t.family("lightnvr_storage_available_bytes", "gauge",
                 "Available storage on recording volume", [({}, h.free_bytes)])
        t.family("lightnvr_instance_streams_configured", "gauge",
                 "Number of streams configured", [({}, len(sts))])
        t.family("lightnvr_instance_streams_up", "gauge", "Number of streams currently up",
                 [({}, sum(up.values()))])
        cpu = os.times()
        alive = max(1e-3, time.time() - self.ctx.started_at)
        # Average over the process's life: a scrape has no earlier sample to diff against.
        t.family("lightnvr_instance_cpu_percent", "gauge", "Process CPU usage",
                 [({}, round(100.0 * (cpu.user + cpu.system) / alive, 1))])

    def _players(self, t: _Text) -> None:
        series = self.telemetry.snapshot()
        seen = {s.name for s in self._sts}
        rows = [(k, v) for k, v in sorted(series.items()) if k[0] in seen or k[0] == "other"]

        def fam(i: int) -> list[tuple[dict[str, str], float]]:
            return [({"stream": k[0], "transport": k[1]}, v[i]) for k, v in rows]

        t.family("lightnvr_player_events_total", "counter",
                 "Player telemetry events received.", fam(0))
        t.family("lightnvr_player_ttff_ms_total", "counter",
                 "Sum of players' time to first frame, ms.", fam(1))
        t.family("lightnvr_player_rebuffers_total", "counter", "Player rebuffer events.",
                 fam(2))
        t.family("lightnvr_player_rebuffer_ms_total", "counter",
                 "Time players spent rebuffering, ms.", fam(3))

    def player_telemetry(self, req: Request) -> Response:
        """LightNVR's POST /api/telemetry/player: fields read if present, 204 either way
        for a well-formed JSON object (a player must never fail over its telemetry)."""
        if not req.body():
            return Response(204)
        body = req.json_object()
        stream = body.get("stream_name")
        if not isinstance(stream, str) or not stream or len(stream) > 64:
            return Response(204)
        if self.ctx.streams.get(stream) is None:
            return Response(204)  # unknown streams would grow the label set without bound
        if not scope.may_see(self.ctx, req, stream):
            raise HTTPError(403, scope.STREAM_DENIED)
        transport = body.get("transport")
        transport = transport if transport in ("hls", "webrtc", "mse", "mjpeg") else "other"

        def num(name: str) -> float:
            v = body.get(name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v < 1e9:
                return 0.0
            return float(v)

        self.telemetry.record(stream, transport, num("ttff_ms"), int(num("rebuffer_count")),
                              num("rebuffer_duration_ms"))
        return Response(204)

    def _http(self, t: _Text) -> None:
        counts = self.ctx.http_counters.snapshot()
        t.family("lightnvr_http_requests_total", "counter", "HTTP requests by status code.",
                 [({"code": str(code)}, n) for code, n in sorted(counts.items())])


def register(router: Router, ctx: WebContext) -> None:
    api = MetricsApi(ctx)
    router.add("GET", "/api/metrics", api.metrics, Access.READ,
               "Prometheus metrics (text exposition format)")
    oa.describe("GET", "/api/metrics", responses={200: oa.media("text/plain", oa.STRING)})
    router.add("POST", "/api/telemetry/player", api.player_telemetry, Access.READ,
               "Player quality-of-experience event (204)")
    oa.describe("POST", "/api/telemetry/player", request=oa.obj(
        {"stream_name": oa.STRING, "session_id": oa.STRING, "transport": oa.STRING,
         "ttff_ms": oa.NUMBER, "rebuffer_count": oa.INTEGER,
         "rebuffer_duration_ms": oa.NUMBER, "resolution_switches": oa.INTEGER,
         "webrtc_rtt_ms": oa.NUMBER}), request_required=False, responses={204: {}})
