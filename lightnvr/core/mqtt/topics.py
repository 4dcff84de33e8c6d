"""LightNVR's MQTT topic layout and payloads (docs/mqtt.md documents each one).

Under `{topic_prefix}` (LightNVR's names first, ours after):
  availability                       online / offline (retained; the last will)
  detections/{stream}                detection event JSON (LightNVR's fields)
  detections/{stream}/snapshot       the event's JPEG, published just before the JSON
  cameras/{stream}/snapshot          periodic JPEG for the Home Assistant camera
  cameras/{stream}/motion            ON / OFF
  cameras/{stream}/detection_count   objects in the last detection (0 after motion OFF)
  cameras/{stream}/{label}           objects of that label in the last detection
  cameras/{stream}/recording         ON / OFF, retained (ours: the recording switch state)
  cameras/{stream}/recording/set     ON / OFF command (ours)
  recordings/{stream}                {"event": "started"|"stopped", ...} (ours)
  streams/{stream}/status            {"state": "online"|"offline", ...}, retained (ours)
  storage/pressure                   {"level": ...}, retained (ours)
"""

from __future__ import annotations

import re

import orjson

from lightnvr.core.nvr_events import EventKind, NvrEvent

# Topic levels of cameras/{stream}/... that a label must not shadow.
RESERVED_LEVELS = frozenset({"snapshot", "motion", "detection_count", "recording"})
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def topic_safe(name: str) -> str:
    """`name` as one topic level: MQTT wildcards, '/' and spaces become '_' (LightNVR does so).

    Also safe as a Home Assistant object id / unique id part."""
    return _UNSAFE.sub("_", name) or "_"


def label_level(label: str) -> str:
    """The topic level of a label's count, never one of RESERVED_LEVELS."""
    safe = topic_safe(label.lower())
    return f"label_{safe}" if safe in RESERVED_LEVELS else safe


class Topics:
    """Every topic of one node (one `topic_prefix`)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix.strip().rstrip("/") or "lightnvr"

    @property
    def availability(self) -> str:
        return f"{self.prefix}/availability"

    def detection(self, stream: str) -> str:
        return f"{self.prefix}/detections/{topic_safe(stream)}"

    def detection_snapshot(self, stream: str) -> str:
        return f"{self.detection(stream)}/snapshot"

    def camera(self, stream: str, leaf: str) -> str:
        return f"{self.prefix}/cameras/{topic_safe(stream)}/{leaf}"

    def recording_state(self, stream: str) -> str:
        return self.camera(stream, "recording")

    def recording_command(self, stream: str) -> str:
        return self.camera(stream, "recording/set")

    @property
    def recording_command_filter(self) -> str:
        return f"{self.prefix}/cameras/+/recording/set"

    def recordings(self, stream: str) -> str:
        return f"{self.prefix}/recordings/{topic_safe(stream)}"

    def stream_status(self, stream: str) -> str:
        return f"{self.prefix}/streams/{topic_safe(stream)}/status"

    @property
    def storage_pressure(self) -> str:
        return f"{self.prefix}/storage/pressure"

    def stream_of_command(self, topic: str) -> str | None:
        """The topic-safe stream level of a recording command topic, else None."""
        parts = topic.split("/")
        head = self.prefix.split("/")
        if len(parts) != len(head) + 4 or parts[:len(head)] != head:
            return None
        cameras, stream, leaf, verb = parts[len(head):]
        if (cameras, leaf, verb) != ("cameras", "recording", "set"):
            return None
        return stream


def detection_payload(event: NvrEvent, snapshot_topic: str = "", snapshot_path: str = "",
                      snapshot_url: str = "") -> bytes:
    """LightNVR's detection JSON; snapshot fields only when the snapshot was published."""
    body: dict[str, object] = {"stream": event.stream, "timestamp": int(event.timestamp),
                               "count": len(event.objects)}
    if snapshot_path:
        body["snapshot_path"] = snapshot_path
    if snapshot_url:
        body["snapshot_url"] = snapshot_url
    if snapshot_topic:
        body["snapshot_topic"] = snapshot_topic
    dets: list[dict[str, object]] = []
    for o in event.objects:
        d: dict[str, object] = {"label": o.label, "confidence": round(o.confidence, 4),
                                "x": o.x, "y": o.y, "width": o.width, "height": o.height}
        if o.zone_id:
            d["zone_id"] = o.zone_id
        dets.append(d)
    body["detections"] = dets
    return orjson.dumps(body)


def recording_payload(event: NvrEvent) -> bytes:
    started = event.kind is EventKind.RECORDING_STARTED
    return orjson.dumps({"stream": event.stream, "event": "started" if started else "stopped",
                         "timestamp": int(event.timestamp), "detail": event.detail})


def stream_status_payload(stream: str, online: bool, timestamp: float, error: str = "") -> bytes:
    return orjson.dumps({"stream": stream, "state": "online" if online else "offline",
                         "timestamp": int(timestamp), "error": error})


def storage_payload(level: str, timestamp: float) -> bytes:
    return orjson.dumps({"level": level, "timestamp": int(timestamp)})
