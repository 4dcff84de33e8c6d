"""Detection API: stored detection results, the model list, and external motion triggers.

`POST /api/motion/trigger` follows the C project's docs/API.md: detections are stored (filtered
by the stream's zones), the event is handed to the stream manager (`trigger_detection`: start,
stop, or a pulse of `duration_ms`), and tags are applied to the stream's open recording. When
the stream records continuously the open segment is the record (it gets the tags);
otherwise the stream manager records a "detection" clip with the stream's pre/post buffers and
`recording_triggered` is true when a clip started or was extended.

`GET /api/detection/results/{stream}` is LightNVR's route for the live view's boxes; besides
its stored `detections` it carries `motion`, the built-in detector's latest analysed frame
(moving cells and their box, normalised, and the frame's time), so an overlay can follow
motion at every detection interval, not only at events (docs/video.md).
"""

from __future__ import annotations

import datetime
import importlib.util
import os
import threading
import time
from typing import TYPE_CHECKING, Any

from lightnvr.database.detections import DetectionsRepo, NewDetection
from lightnvr.database.zones import ZonesRepo
from lightnvr.web import scope
from lightnvr.web.api.recordings import MAX_TAG_LENGTH, parse_time
from lightnvr.web.api.streams import _C_STATUS, path_stream
from lightnvr.web.http import Access, HTTPError, Request, Response

if TYPE_CHECKING:
    from lightnvr.core.stream_config import StreamConfig
    from lightnvr.web.context import WebContext
    from lightnvr.web.router import Router

MIN_DETECTION_AGE = 30.0  # live view keeps a box this long (C: MIN_DETECTION_AGE)
MAX_OBJECTS = 20
MAX_TRIGGER_TAGS = 16
MAX_PULSE_MS = 600_000
CLIP_ROW_WAIT_SECONDS = 1.0  # a new clip's row appears at the recorder's next tick (~0.1 s)


def _confidence(value: Any, field: str) -> float:
    if value is None:
        return 1.0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise HTTPError(400, f"{field}: must be a number between 0 and 1")
    return float(value)


def _label(value: Any, field: str) -> str:
    if not isinstance(value, str) or not 0 < len(value.strip()) <= 64 \
            or any(ord(c) < 32 for c in value):
        raise HTTPError(400, f"{field}: must be a label of 1..64 printable characters")
    return value.strip()


def parse_objects(body: dict[str, Any]) -> list[tuple[str, float]]:
    """(label, confidence) pairs from `label`/`objects`/`confidence` of a trigger body."""
    default = _confidence(body.get("confidence"), "confidence")
    out: list[tuple[str, float]] = []
    if body.get("label") is not None:
        out.append((_label(body["label"], "label"), default))
    objects = body.get("objects")
    if objects is not None:
        if not isinstance(objects, list):
            raise HTTPError(400, "objects: must be an array of labels or {label, confidence}")
        for i, o in enumerate(objects):
            if isinstance(o, dict):
                out.append((_label(o.get("label"), f"objects[{i}].label"),
                            _confidence(o.get("confidence", default), f"objects[{i}].confidence")))
            else:
                out.append((_label(o, f"objects[{i}]"), default))
    return out[:MAX_OBJECTS]


def _box(b: tuple[float, float, float, float]) -> dict[str, float]:
    return {"x": round(b[0], 4), "y": round(b[1], 4), "width": round(b[2], 4),
            "height": round(b[3], 4)}


def _tags(body: dict[str, Any]) -> list[str]:
    tags = body.get("tags")
    if tags is None:
        return []
    if not isinstance(tags, list) or len(tags) > MAX_TRIGGER_TAGS:
        raise HTTPError(400, f"tags: must be an array of at most {MAX_TRIGGER_TAGS} strings")
    for i, t in enumerate(tags):
        if not isinstance(t, str) or not 0 < len(t.strip()) <= MAX_TAG_LENGTH:
            raise HTTPError(400, f"tags[{i}]: must be 1..{MAX_TAG_LENGTH} characters")
    return [t.strip() for t in tags]


class DetectionApi:
    """Handlers of the detection and motion routes."""

    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx
        self.detections = DetectionsRepo(ctx.db)
        self.zones = ZonesRepo(ctx.db)

    def results(self, req: Request) -> Response:
        cfg = path_stream(self.ctx, req, "stream")
        start = parse_time(req.arg("start"), "start")
        end = parse_time(req.arg("end"), "end")
        now = time.time()
        if start is None and end is None:  # live boxes: the last couple of detection rounds
            start = now - max(MIN_DETECTION_AGE, cfg.detection_interval * 2.0)
        rows = self.detections.in_range(cfg.name, start or 0.0, end if end is not None else now + 1,
                                   limit=req.int_arg("limit", 1000, 1, 10000))
        st = self.ctx.stream_manager.status(cfg.name)
        live = self.ctx.stream_manager.live_motion(cfg.name)
        return Response.json({
            "motion": None if live is None else {
                "timestamp": live.wall, "moving": live.moving, "area": live.area,
                "box": None if live.box is None else _box(live.box),
                "cells": [_box(c) for c in live.cells]},
            "detections": [{"label": d.label, "confidence": d.confidence, "x": d.x, "y": d.y,
                            "width": d.width, "height": d.height, "timestamp": d.timestamp,
                            "end_timestamp": d.timestamp, "recording_id": d.recording_id,
                            "zone_id": d.zone_id} for d in rows],
            "timestamp": datetime.datetime.fromtimestamp(now).strftime("%Y-%m-%d %H:%M:%S"),
            "stream_status": _C_STATUS.get(st.state.value, "Unknown") if st else "Stopped"})

    def labels(self, req: Request) -> Response:
        """LightNVR's GET /api/recordings/detection-labels: every label detections carry
        (the motion detector's is "motion"), for the recordings list's label filter; only
        the labels of streams the caller's camera tags reach (web/scope.py)."""
        seen = scope.visible_streams(self.ctx, req)
        labels = self.detections.labels(None if seen is None else sorted(seen))
        return Response.json({"labels": labels, "count": len(labels)})

    def models(self, req: Request) -> Response:
        """LightNVR's model list: the built-in motion detector, the detection API when
        [api_detection] url is set, and every model under [models] path with its input size,
        output layout and labels, or why it cannot be used (`unsupported_reason`)."""
        out: list[dict[str, Any]] = [{
            "id": "motion", "name": "Built-in Motion Detection", "path": "motion",
            "type": "builtin", "supported": True, "description": "Built-in motion detection"}]
        if self.ctx.config.api_detection.url:
            out.append({"id": "api-detection", "name": "API Detection (light-object-detect)",
                        "path": "api-detection", "type": "api", "supported": True,
                        "description": "External API-based object detection"})
        for m in self.ctx.stream_manager.detection_models():
            entry: dict[str, Any] = {
                "id": m.name, "name": m.name, "path": m.path,
                "type": "tflite" if m.engine == "litert" else m.engine,
                "supported": not m.error, "labels": list(m.labels)}
            if m.error:
                entry["unsupported_reason"] = entry["error"] = m.error
            else:
                entry.update(input_width=m.input_width, input_height=m.input_height,
                             input_type=m.input_type, layout=m.layout)
            try:
                entry["size"] = os.path.getsize(m.path)
            except OSError:
                pass
            out.append(entry)
        return Response.json({
            "models": out, "count": len(out),
            "models_path": self.ctx.config.models.path,
            "onnx_available": importlib.util.find_spec("onnxruntime") is not None,
            "litert_available": importlib.util.find_spec("ai_edge_litert") is not None,
            "sod_available": False})

    def store(self, cfg: StreamConfig, objects: list[tuple[str, float]], at: float) -> int:
        # exclude zones say where motion must not count; a whole-frame trigger has no place
        active = [z for z in self.zones.list(cfg.name) if z.enabled and not z.exclude]
        keep: list[NewDetection] = []
        for label, conf in objects:
            # A trigger carries no box: it covers the whole frame, so zones filter by class.
            zone = next((z for z in active if z.accepts(label, conf)), None)
            if active and zone is None:
                continue
            keep.append(NewDetection(cfg.name, at, label, conf,
                                     zone_id=zone.id if zone else None))
        return self.detections.add_many(keep)

    def open_recording(self, stream: str, wait: float = 0.0) -> int | None:
        """The id of the stream's open segment; waits up to `wait` s for one to appear."""
        deadline = time.monotonic() + wait
        pause = threading.Event()
        while True:
            rows = [r for r in self.ctx.recordings.incomplete() if r.stream_name == stream]
            if rows or time.monotonic() >= deadline:
                return max(rows, key=lambda r: r.start_time).id if rows else None
            pause.wait(0.05)

    def start_event(self, cfg: StreamConfig, action: str, duration_ms: int,
                    objects: list[tuple[str, float]] | None = None
                    ) -> tuple[bool, dict[str, Any]]:
        """Hand the event to the stream manager: (recording_triggered, extra response fields)."""
        mgr = self.ctx.stream_manager
        active = action != "stop"
        seconds = duration_ms / 1000.0 if action == "pulse" else None
        if not mgr.trigger_detection(cfg.name, active, seconds, objects or ()):
            return False, {"warning": "the stream is not running; the event was recorded "
                                      "but no recording was triggered"}
        st = mgr.status(cfg.name)
        triggered = bool(active and st is not None and st.detection_recording)
        if active and not triggered and cfg.record and st is not None \
                and not st.recording_paused_reason:
            return False, {"message": "continuous recording is on: the event annotates the "
                                      "current segment"}
        return triggered, {}

    def trigger(self, req: Request) -> Response:
        body = req.json_object()
        if not isinstance(body.get("stream"), str):
            raise HTTPError(400, "stream: a stream name is required")
        req.params["stream"] = body["stream"]
        action = body.get("action")
        if action not in ("start", "stop", "pulse"):
            raise HTTPError(400, "action: must be start, stop or pulse")
        duration = body.get("duration_ms")
        if duration is not None and action != "pulse":
            raise HTTPError(400, "duration_ms: only valid with action 'pulse'")
        if duration is None:
            duration = 2000
        if isinstance(duration, bool) or not isinstance(duration, int) \
                or not 0 < duration <= MAX_PULSE_MS:
            raise HTTPError(400, f"duration_ms: must be an integer 1..{MAX_PULSE_MS}")
        objects = parse_objects(body)
        tags = _tags(body)
        cfg = path_stream(self.ctx, req, "stream")
        stored = self.store(cfg, objects, time.time()) if action != "stop" else 0
        triggered, extra = self.start_event(cfg, action, duration, objects)
        applied = 0
        rid = (self.open_recording(cfg.name, CLIP_ROW_WAIT_SECONDS if triggered else 0.0)
               if tags else None)
        if rid is not None:
            self.ctx.recordings.set_tags(rid, [*self.ctx.recordings.tags(rid), *tags])
            applied = len(tags)
        out: dict[str, Any] = {"success": True, "stream": cfg.name, "action": action,
                               "recording_triggered": triggered, "detections_stored": stored,
                               "tags_applied": applied, **extra}
        if action == "pulse":
            out["duration_ms"] = duration
        return Response.json(out, 202)



def register(router: Router, ctx: WebContext) -> None:
    """Add /api/detection/results/{stream}, /api/detection/models, /api/motion/trigger and
    /api/recordings/detection-labels."""
    api = DetectionApi(ctx)
    router.add("GET", "/api/detection/results/{stream}", api.results, Access.READ,
               "Stored detections of a stream (recent, or ?start=&end=)")
    router.add("GET", "/api/detection/models", api.models, Access.READ, "Detection models")
    # before recordings.py's /api/recordings/{id}: modules register in name order
    router.add("GET", "/api/recordings/detection-labels", api.labels, Access.READ,
               "Every detection label in use (LightNVR)")
    router.add("POST", "/api/motion/trigger", api.trigger, Access.WRITE,
               "External motion event: store detections, trigger a detection recording, "
               "tag the open recording")
