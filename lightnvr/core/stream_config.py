"""The settings of one camera stream: the one shape every subsystem passes around.

Field names and defaults follow LightNVR's `streams` table and REST API, so rows, JSON bodies
and the stream manager all speak the same language.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from lightnvr.core.field_error import FieldError

MAX_STREAM_NAME_LENGTH = 64
SCHEDULE_SLOTS = 168  # 7 days x 24 hours, Sunday first (as in the C project)
_FORBIDDEN_NAME = re.compile(r"[/\\\x00-\x1f\x7f]")


class InvalidStreamConfig(FieldError):
    """A stream setting is out of range; `field` names the offending setting."""


def validate_stream_name(name: str) -> str:
    """Return `name` if it is safe to use in file paths and URLs, else raise InvalidStreamConfig.

    Spaces are allowed (as in the C project); slashes, backslashes, control characters, `..`
    and leading dots are not, and the length is bounded.
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidStreamConfig("name", "must be a non-empty string")
    if len(name) > MAX_STREAM_NAME_LENGTH:
        raise InvalidStreamConfig("name", f"at most {MAX_STREAM_NAME_LENGTH} characters")
    if _FORBIDDEN_NAME.search(name) or ".." in name or name.startswith("."):
        raise InvalidStreamConfig(
            "name", "must not contain '/', '\\', '..', control characters or start with '.'"
        )
    if name != name.strip():
        raise InvalidStreamConfig("name", "must not start or end with whitespace")
    return name


@dataclass(frozen=True, slots=True)
class StreamConfig:
    """One stream's configuration (LightNVR's stream fields)."""

    name: str
    url: str
    enabled: bool = True
    streaming_enabled: bool = True
    width: int = 0
    height: int = 0
    fps: int = 0
    codec: str = ""
    priority: int = 5
    record: bool = True
    segment_duration: int = 60
    protocol: int = 0  # 0 = RTSP over TCP, 1 = UDP
    record_audio: bool = True
    detection_based_recording: bool = False
    detection_model: str = ""
    detection_threshold: float = 0.5
    detection_interval: int = 10
    pre_detection_buffer: int = 5
    post_detection_buffer: int = 10
    detection_api_url: str = ""
    retention_days: int = -1  # -1 inherit global, 0 unlimited, N days
    detection_retention_days: int = -1
    max_storage_mb: int = 0  # 0 = no per-stream quota
    record_on_schedule: bool = False
    recording_schedule: str = ""  # 168 chars of '0'/'1', Sunday 00:00 first; '' = always
    sub_stream_url: str = ""
    tags: str = ""
    # (ours) the built-in motion detector (detection_model = "motion"); docs/video.md
    motion_sensitivity: float = 0.5  # 0..1: higher sees smaller brightness changes
    motion_min_area: float = 0.01    # fraction of the picture that must change (0..1)
    motion_cooldown: int = 3         # s between two motion events (LightNVR's default)
    detection_schedule: str = ""     # like recording_schedule: when detection may trigger
    motion_trigger_source: str = ""  # (LightNVR) record when this other stream detects
    detection_every_frame: bool = False  # decode every frame, not keyframes only (long GOPs)
    # (LightNVR) object detection's class filter: none | include | exclude the labels listed
    detection_object_filter: str = "none"
    detection_object_filter_list: str = ""  # comma-separated labels

    def validate(self) -> StreamConfig:
        """Return self if every field is in range, else raise InvalidStreamConfig."""
        validate_stream_name(self.name)
        if not isinstance(self.url, str) or not self.url:
            raise InvalidStreamConfig("url", "must be a non-empty URL")
        if not 1 <= self.segment_duration <= 86400:
            raise InvalidStreamConfig("segment_duration", "must be 1..86400 seconds")
        if self.protocol not in (0, 1):
            raise InvalidStreamConfig("protocol", "must be 0 (TCP) or 1 (UDP)")
        for f in ("retention_days", "detection_retention_days"):
            if getattr(self, f) < -1:
                raise InvalidStreamConfig(f, "must be -1 (inherit), 0 (unlimited) or N days")
        if self.max_storage_mb < 0:
            raise InvalidStreamConfig("max_storage_mb", "must be >= 0")
        if self.recording_schedule and (
            len(self.recording_schedule) != SCHEDULE_SLOTS
            or set(self.recording_schedule) - {"0", "1"}
        ):
            raise InvalidStreamConfig(
                "recording_schedule", f"must be {SCHEDULE_SLOTS} characters of '0'/'1'"
            )
        if not 0.0 <= self.detection_threshold <= 1.0:
            raise InvalidStreamConfig("detection_threshold", "must be between 0 and 1")
        self._validate_detection()
        return self

    def _validate_detection(self) -> None:
        if not 1 <= self.detection_interval <= 3600:
            raise InvalidStreamConfig("detection_interval", "must be 1..3600 seconds")
        for f in ("pre_detection_buffer", "post_detection_buffer"):
            if not 0 <= getattr(self, f) <= 300:
                raise InvalidStreamConfig(f, "must be 0..300 seconds")
        if not 0.0 <= self.motion_sensitivity <= 1.0:
            raise InvalidStreamConfig("motion_sensitivity", "must be between 0 and 1")
        if not 0.0 < self.motion_min_area <= 1.0:
            raise InvalidStreamConfig("motion_min_area",
                                      "must be a fraction of the picture, above 0 and at most 1")
        if not 0 <= self.motion_cooldown <= 3600:
            raise InvalidStreamConfig("motion_cooldown", "must be 0..3600 seconds")
        if self.detection_schedule and (
            len(self.detection_schedule) != SCHEDULE_SLOTS
            or set(self.detection_schedule) - {"0", "1"}
        ):
            raise InvalidStreamConfig(
                "detection_schedule", f"must be {SCHEDULE_SLOTS} characters of '0'/'1'")
        if self.detection_object_filter not in OBJECT_FILTERS:
            raise InvalidStreamConfig("detection_object_filter",
                                      f"must be one of {', '.join(OBJECT_FILTERS)}")
        if len(self.detection_object_filter_list) > 1024:
            raise InvalidStreamConfig("detection_object_filter_list",
                                      "must be at most 1024 characters of comma-separated labels")
        if self.motion_trigger_source:
            validate_stream_name(self.motion_trigger_source)
            if self.motion_trigger_source == self.name:
                raise InvalidStreamConfig("motion_trigger_source",
                                          "must name another stream (or be empty)")

    def replace(self, **changes: Any) -> StreamConfig:
        """A copy with `changes` applied (not validated)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def restart_needed(self, other: StreamConfig) -> bool:
        """True when switching from self to `other` needs the stream's threads restarted."""
        # segment_duration is not among them: the recorder cuts at its next keyframe past the
        # new length (Recorder.update_config), so a change leaves no gap.
        keys = ("url", "enabled", "streaming_enabled", "record", "protocol", "record_audio",
                "detection_based_recording")
        return any(getattr(self, k) != getattr(other, k) for k in keys)


OBJECT_FILTERS = ("none", "include", "exclude")  # detection_object_filter values

STREAM_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(StreamConfig))
