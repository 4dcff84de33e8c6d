"""Stream API: list/get/create/update/delete streams, test, manual recording, zones, retention.

Shapes follow the C project (api_handlers_streams_*.c): `GET /api/streams` is a JSON array;
`detection_threshold` travels as a percentage (0..100), `recording_schedule` and
`detection_schedule` as 168 booleans, Sunday 00:00 first. Every change is stored first, then
applied to the running stream manager.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lightnvr.core.redact import redact_text, redact_url
from lightnvr.core.stream_config import (
    SCHEDULE_SLOTS,
    STREAM_FIELDS,
    InvalidStreamConfig,
    StreamConfig,
    validate_stream_name,
)
from lightnvr.database.streams import StreamExists, StreamNotFound
from lightnvr.database.zones import InvalidZone, ZonesRepo, zone_from_json
from lightnvr.web import scope
from lightnvr.web.api._nvr_schemas import describe_streams
from lightnvr.web.http import Access, HTTPError, Request, Response, Role

if TYPE_CHECKING:
    from lightnvr.video.stream_manager import StreamStatus
    from lightnvr.web.context import WebContext
    from lightnvr.web.router import Router

_FIELD_TYPES: dict[str, type] = {
    f.name: type(f.default) for f in dataclasses.fields(StreamConfig)
    if f.default is not dataclasses.MISSING
}
_FIELD_TYPES.update(name=str, url=str)
_URL_FIELDS = ("url", "sub_stream_url", "detection_api_url")
_MAX_TEXT = 2048
# The C project's status words (api_handlers_streams_get.c), by our StreamState value.
_C_STATUS = {"inactive": "Stopped", "starting": "Starting", "active": "Running",
             "reconnecting": "Reconnecting", "stopping": "Stopping", "error": "Error"}


def strip_userinfo(url: str) -> str:
    """`url` as viewers see it: no userinfo, credential and account query values masked."""
    return redact_url(url, keep_user=False)


def demo_url_refusal(ctx: WebContext, body: Mapping[str, Any],
                     old: StreamConfig | None = None) -> Response | None:
    """400 naming the field when `body` sets a new `demo://` URL and demo mode is off.

    The demo camera encodes video in-process (CPU, memory): a feature of `[general]
    demo_mode`, not something any user may switch on for a stream. A URL equal to `old`'s
    (a client sending the whole stream back) is no new demo camera and passes.
    """
    if ctx.config.general.demo_mode:
        return None
    for key in _URL_FIELDS:
        value = body.get(key)
        if old is not None and value == getattr(old, key, None):
            continue
        if isinstance(value, str) and value.strip().lower().startswith("demo:"):
            return Response.json({
                "error": f"{key}: demo:// cameras are available only in demo mode "
                         "([general] demo_mode = true); use a camera URL such as "
                         "rtsp://host:554/path", "field": key}, 400)
    return None


def may_see_credentials(req: Request) -> bool:
    return req.principal is None or req.principal.role != Role.VIEWER


def may_write(req: Request) -> bool:
    return req.principal is None or req.principal.role != Role.VIEWER


def path_stream(ctx: WebContext, req: Request, key: str = "name") -> StreamConfig:
    """The stream named by route parameter `key`: 400 for an unsafe name, 404 if unknown."""
    name = req.params.get(key, "")
    try:
        validate_stream_name(name)
    except InvalidStreamConfig as exc:
        raise HTTPError(400, f"invalid stream name: {exc.message}") from None
    cfg = ctx.streams.get(name)
    if cfg is None:
        raise HTTPError(404, f"stream '{name}' not found")
    if not scope.may_see(ctx, req, cfg.name):  # the user's allowed_tags (web/scope.py)
        raise HTTPError(403, scope.STREAM_DENIED)
    return cfg


def _status_fields(st: StreamStatus | None, reveal: bool = True) -> dict[str, Any]:
    if st is None:
        return {"status": "Stopped", "state": "inactive", "last_error": "",
                "recording": False, "stats": None}
    state = st.state.value
    # Masked by the reader already; an answer does not rely on it, and viewers get no user.
    error = redact_text(st.last_error, keep_user=reveal)
    return {
        "status": _C_STATUS.get(state, "Unknown"), "state": state,
        "last_error": error, "recording": st.recording,
        "recording_paused_reason": st.recording_paused_reason,
        **({"error_message": error} if state == "error" and error else {}),
        "stats": {
            "packets": st.packets, "bytes": st.bytes, "dropped": st.dropped,
            "reconnects": st.reconnects, "timestamp_repairs": st.timestamp_repairs,
            "segments_written": st.segments_written, "video_codec": st.video_codec,
            "width": st.width, "height": st.height, "fps": st.fps,
            "audio_codec": st.audio_codec, "bitrate_bps": st.bitrate_bps,
            "last_packet_age": st.last_packet_age,
        },
        # the stream's detector (docs/video.md, "Motion detection"; docs/detection.md):
        # state "error" and `error` when an object detector cannot work
        "detection": {"state": st.detection or "off", "frames": st.detection_frames,
                      "moving": st.detection_moving, "events": st.detection_events,
                      "error": redact_text(st.detection_error, keep_user=reveal)},
    }


def stream_json(ctx: WebContext, cfg: StreamConfig, reveal: bool) -> dict[str, Any]:
    """A stream object in the C project's shape plus our live status fields."""
    d = cfg.to_dict()
    d["detection_threshold"] = round(cfg.detection_threshold * 100)
    sched = cfg.recording_schedule
    d["recording_schedule"] = ([c == "1" for c in sched] if sched
                               else [True] * SCHEDULE_SLOTS)
    sched = cfg.detection_schedule
    d["detection_schedule"] = ([c == "1" for c in sched] if sched
                               else [True] * SCHEDULE_SLOTS)
    if not reveal:
        for key in _URL_FIELDS:
            d[key] = strip_userinfo(d[key])
    d.update(_status_fields(ctx.stream_manager.status(cfg.name), reveal))
    d["manual_recording"] = ctx.stream_manager.manual_recording(cfg.name)
    return d


def _coerce(field: str, value: Any) -> Any:
    kind = _FIELD_TYPES[field]
    if field == "detection_threshold":  # percent on the wire, as the C API
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidStreamConfig(field, "must be a number (percent, 0..100)")
        if not 0 <= value <= 100:
            raise InvalidStreamConfig(field, "must be between 0 and 100 (percent)")
        return float(value) / 100.0
    if field in ("recording_schedule", "detection_schedule"):
        if isinstance(value, list):
            if len(value) != SCHEDULE_SLOTS or not all(isinstance(v, (bool, int))
                                                      for v in value):
                raise InvalidStreamConfig(field, f"must be {SCHEDULE_SLOTS} booleans")
            return "".join("1" if v else "0" for v in value)
        if not isinstance(value, str):
            raise InvalidStreamConfig(field, f"must be {SCHEDULE_SLOTS} booleans")
        return value
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise InvalidStreamConfig(field, "must be true or false")
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            raise InvalidStreamConfig(field, "must be an integer")
        if not -(2**31) <= value < 2**31:
            raise InvalidStreamConfig(field, "is out of range")
        return int(value)
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidStreamConfig(field, "must be a number")
        return float(value)
    if not isinstance(value, str):
        raise InvalidStreamConfig(field, "must be a string")
    if len(value) > _MAX_TEXT or any(ord(c) < 32 for c in value):
        raise InvalidStreamConfig(field, f"at most {_MAX_TEXT} printable characters")
    return value


def config_from_json(body: Mapping[str, Any], base: StreamConfig | None) -> StreamConfig:
    """`base` (or the defaults) with the known fields of `body` applied, validated.

    Unknown keys are ignored (C clients send ONVIF and go2rtc fields we do not keep).
    """
    changes = {k: _coerce(k, v) for k, v in body.items() if k in STREAM_FIELDS and v is not None}
    if base is None:
        for key in ("name", "url"):
            if key not in changes:
                raise InvalidStreamConfig(key, "is required")
        cfg = StreamConfig(name=changes.pop("name"), url=changes.pop("url"))
    else:
        if "name" in changes and changes["name"] != base.name:
            raise InvalidStreamConfig("name", "cannot be changed; create a new stream")
        cfg = base
    return cfg.replace(**changes).validate()


def _bad_config(exc: InvalidStreamConfig) -> Response:
    return Response.json({"error": f"{exc.field}: {exc.message}", "field": exc.field}, 400)


def scheduled_now(cfg: StreamConfig, now: datetime.datetime | None = None) -> bool:
    """Whether continuous recording is wanted at `now` (local time) by `cfg`'s schedule."""
    if not cfg.record_on_schedule or not cfg.recording_schedule:
        return True
    now = now or datetime.datetime.now()
    slot = ((now.weekday() + 1) % 7) * 24 + now.hour  # Sunday first, as the C project
    return cfg.recording_schedule[slot:slot + 1] == "1"

class StreamsApi:
    """Handlers of the /api/streams routes."""

    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx
        self.zones = ZonesRepo(ctx.db)

    def list_streams(self, req: Request) -> Response:
        reveal = may_see_credentials(req)
        seen = scope.visible_streams(self.ctx, req)
        return Response.json([stream_json(self.ctx, c, reveal) for c in self.ctx.streams.list()
                              if seen is None or c.name in seen])

    def get_stream(self, req: Request) -> Response:
        cfg = path_stream(self.ctx, req)
        return Response.json(stream_json(self.ctx, cfg, may_see_credentials(req)))

    def get_full(self, req: Request) -> Response:
        cfg = path_stream(self.ctx, req)
        d = stream_json(self.ctx, cfg, may_see_credentials(req))
        d["zones"] = [z.to_dict() for z in self.zones.list(cfg.name)]
        d["retention"] = {"retention_days": cfg.retention_days,
                          "detection_retention_days": cfg.detection_retention_days,
                          "max_storage_mb": cfg.max_storage_mb}
        return Response.json(d)

    def create(self, req: Request) -> Response:
        body = req.json_object()
        refusal = demo_url_refusal(self.ctx, body)
        if refusal is not None:
            return refusal
        if "segment_duration" not in body:  # the configured default, not the dataclass's
            body = {**body, "segment_duration": self.ctx.config.storage.mp4_segment_duration}
        try:
            cfg = config_from_json(body, None)
        except InvalidStreamConfig as exc:
            return _bad_config(exc)
        limit = self.ctx.config.streams.max_streams
        if self.ctx.streams.get(cfg.name) is not None:
            raise HTTPError(409, f"stream '{cfg.name}' already exists")
        if self.ctx.streams.count() >= limit:
            raise HTTPError(409, f"stream limit reached: [streams] max_streams is {limit}")
        try:
            self.ctx.streams.create(cfg)
        except StreamExists:
            raise HTTPError(409, f"stream '{cfg.name}' already exists") from None
        self.ctx.stream_manager.apply(cfg)
        return Response.json({"success": True, "name": cfg.name}, 201)

    def update(self, req: Request) -> Response:
        old = path_stream(self.ctx, req)
        body = req.json_object()
        refusal = demo_url_refusal(self.ctx, body, old)
        if refusal is not None:
            return refusal
        try:
            cfg = config_from_json(body, old)
        except InvalidStreamConfig as exc:
            return _bad_config(exc)
        try:
            self.ctx.streams.update(cfg)
        except StreamNotFound:
            raise HTTPError(404, f"stream '{old.name}' not found") from None
        self.ctx.stream_manager.apply(cfg)
        return Response.json({"success": True, "name": cfg.name,
                              "restarted": old.restart_needed(cfg)})

    def delete(self, req: Request) -> Response:
        cfg = path_stream(self.ctx, req)
        raw = (req.arg("permanent") or "false").lower()
        if raw not in ("true", "false", "1", "0"):
            raise HTTPError(400, "query parameter 'permanent' must be true or false")
        permanent = raw in ("true", "1")
        self.ctx.stream_manager.remove(cfg.name)
        try:
            if permanent:
                self.ctx.streams.delete(cfg.name)
                self.zones.delete_all(cfg.name)
            else:
                self.ctx.streams.soft_delete(cfg.name)
        except StreamNotFound:
            raise HTTPError(404, f"stream '{cfg.name}' not found") from None
        return Response.json({"success": True, "permanent": permanent, "name": cfg.name})

    def test(self, req: Request) -> Response:
        body = req.json_object()
        url, protocol = body.get("url"), body.get("protocol", 0)
        if not isinstance(url, str) or not url.strip():
            raise HTTPError(400, "url: a non-empty string is required")
        if protocol not in (0, 1) or isinstance(protocol, bool):
            raise HTTPError(400, "protocol: must be 0 (TCP) or 1 (UDP)")
        refusal = demo_url_refusal(self.ctx, {"url": url})
        if refusal is not None:
            return refusal
        result = self.ctx.stream_manager.probe(url, protocol)
        if not result.ok:
            return Response.json({"success": False, "message": redact_text(result.error)})
        return Response.json({"success": True, "info": {
            "width": result.width, "height": result.height, "fps": round(result.fps),
            "codec": result.video_codec, "audio_codec": result.audio_codec}})

    def state(self, req: Request) -> Response:
        cfg = path_stream(self.ctx, req)
        st = self.ctx.stream_manager.status(cfg.name)
        active = bool(st and st.recording)
        manual = self.ctx.stream_manager.manual_recording(cfg.name)
        continuous = cfg.enabled and cfg.record and scheduled_now(cfg)
        writable = may_write(req)
        reason = "read_only" if not writable else "continuous_recording" if continuous else None
        return Response.json({
            "stream": cfg.name, "state": "recording" if active else "idle",
            "recording_active": active,
            "capture_method": ("manual" if manual else "scheduled") if active else None,
            "recording_id": None, "manual": manual,
            "manual_control_allowed": writable and not continuous,
            "manual_control_reason": reason})

    def control(self, req: Request) -> Response:
        cfg = path_stream(self.ctx, req)
        action = req.json_object().get("action")
        if action not in ("start", "stop"):
            raise HTTPError(400, "action must be 'start' or 'stop'")
        manual = self.ctx.stream_manager.manual_recording(cfg.name)
        if action == "start":
            if cfg.enabled and cfg.record and scheduled_now(cfg):
                raise HTTPError(409, "continuous recording is configured for this stream")
            if manual:
                raise HTTPError(409, "a manual recording is already active")
            if not cfg.enabled or not self.ctx.stream_manager.set_manual_recording(cfg.name, True):
                raise HTTPError(409, f"stream '{cfg.name}' is not running (enable it first)")
            return Response.json({"success": True, "stream": cfg.name, "action": "start",
                                  "state": "starting"}, 202)
        if not manual:
            raise HTTPError(409, "only an active manual recording can be stopped here")
        self.ctx.stream_manager.set_manual_recording(cfg.name, False)
        return Response.json({"success": True, "stream": cfg.name, "action": "stop",
                              "state": "idle"})

    def refresh(self, req: Request) -> Response:
        cfg = path_stream(self.ctx, req)
        # The contract has no "restart": removing and re-adding restarts only this stream.
        self.ctx.stream_manager.remove(cfg.name)
        self.ctx.stream_manager.apply(cfg)
        return Response.json({"success": True, "stream": cfg.name,
                              "message": "Stream refresh request accepted and processing"}, 202)

    def get_zones(self, req: Request) -> Response:
        cfg = path_stream(self.ctx, req)
        return Response.json({"zones": [z.to_dict() for z in self.zones.list(cfg.name)]})

    def set_zones(self, req: Request) -> Response:
        cfg = path_stream(self.ctx, req)
        items = req.json_object().get("zones")
        if not isinstance(items, list):
            raise HTTPError(400, "zones: an array is required")
        try:
            parsed = [zone_from_json(cfg.name, z, i) for i, z in enumerate(items)]
            self.zones.replace(cfg.name, parsed)
        except InvalidZone as exc:
            return Response.json({"error": f"{exc.field}: {exc.message}",
                                  "field": exc.field}, 400)
        # the detectors follow at once (no restart)
        self.ctx.stream_manager.set_detection_zones(cfg.name, parsed)
        return Response.json({"success": True, "message": "Zones saved successfully",
                              "count": len(parsed)})

    def delete_zones(self, req: Request) -> Response:
        cfg = path_stream(self.ctx, req)
        n = self.zones.delete_all(cfg.name)
        self.ctx.stream_manager.set_detection_zones(cfg.name, ())
        return Response.json({"success": True, "message": "Zones deleted successfully",
                              "count": n})

    @staticmethod
    def retention_json(cfg: StreamConfig) -> dict[str, Any]:
        return {"stream_name": cfg.name, "retention_days": cfg.retention_days,
                "detection_retention_days": cfg.detection_retention_days,
                "max_storage_mb": cfg.max_storage_mb}

    def get_retention(self, req: Request) -> Response:
        return Response.json(self.retention_json(path_stream(self.ctx, req)))

    def put_retention(self, req: Request) -> Response:
        old = path_stream(self.ctx, req)
        body = req.json_object()
        keys = ("retention_days", "detection_retention_days", "max_storage_mb")
        try:
            cfg = config_from_json({k: body[k] for k in keys if k in body}, old)
        except InvalidStreamConfig as exc:
            return _bad_config(exc)
        self.ctx.streams.update(cfg)
        self.ctx.stream_manager.apply(cfg)
        return Response.json({**self.retention_json(cfg),
                              "message": "Retention config updated successfully"})

def register(router: Router, ctx: WebContext) -> None:
    """Add the /api/streams routes."""
    api = StreamsApi(ctx)
    describe_streams()
    r, w = Access.READ, Access.WRITE
    one = "/api/streams/{name}"
    for method, path, handler, access, summary in (
            ("GET", "/api/streams", api.list_streams, r, "List streams"),
            ("POST", "/api/streams", api.create, w, "Create a stream"),
            ("POST", "/api/streams/test", api.test, w, "Probe a camera URL"),
            ("GET", one, api.get_stream, r, "Get a stream"),
            ("PUT", one, api.update, w, "Update a stream"),
            ("DELETE", one, api.delete, w, "Disable a stream, or remove it with ?permanent=true"),
            ("GET", one + "/full", api.get_full, r, "A stream with its zones and retention"),
            ("GET", one + "/recording", api.state, r, "Recording state of a stream"),
            ("POST", one + "/recording", api.control, w, "Start or stop a manual recording"),
            ("POST", one + "/refresh", api.refresh, w, "Reconnect a stream"),
            ("GET", one + "/zones", api.get_zones, r, "Detection zones"),
            ("POST", one + "/zones", api.set_zones, w, "Replace the detection zones"),
            ("DELETE", one + "/zones", api.delete_zones, w, "Delete the detection zones"),
            ("GET", one + "/retention", api.get_retention, r, "Retention settings of a stream"),
            ("PUT", one + "/retention", api.put_retention, w,
             "Change the retention settings of a stream")):
        router.add(method, path, handler, access, summary)
