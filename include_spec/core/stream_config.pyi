from typing import Any

from lightnvr.core.field_error import FieldError

MAX_STREAM_NAME_LENGTH: int
SCHEDULE_SLOTS: int
STREAM_FIELDS: tuple[str, ...]
OBJECT_FILTERS: tuple[str, ...]  # none, include, exclude

class InvalidStreamConfig(FieldError): ...

def validate_stream_name(name: str) -> str: ...

class StreamConfig:
    name: str
    url: str
    enabled: bool
    streaming_enabled: bool
    width: int
    height: int
    fps: int
    codec: str
    priority: int
    record: bool
    segment_duration: int
    protocol: int
    record_audio: bool
    detection_based_recording: bool
    detection_model: str
    detection_threshold: float
    detection_interval: int
    pre_detection_buffer: int
    post_detection_buffer: int
    detection_api_url: str
    retention_days: int
    detection_retention_days: int
    max_storage_mb: int
    record_on_schedule: bool
    recording_schedule: str
    sub_stream_url: str
    tags: str
    motion_sensitivity: float
    motion_min_area: float
    motion_cooldown: int
    detection_schedule: str
    motion_trigger_source: str
    detection_every_frame: bool
    detection_object_filter: str       # none | include | exclude (LightNVR's class filter)
    detection_object_filter_list: str  # comma-separated labels
    def validate(self) -> StreamConfig: ...
    def replace(self, **changes: Any) -> StreamConfig: ...
    def to_dict(self) -> dict[str, Any]: ...
    def restart_needed(self, other: StreamConfig) -> bool: ...
