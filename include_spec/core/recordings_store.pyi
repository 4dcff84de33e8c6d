from typing import Literal, Protocol

TriggerType = Literal["scheduled", "detection", "manual"]

class SegmentOpened:
    stream_name: str
    file_path: str
    start_time: float
    width: int
    height: int
    fps: int
    codec: str
    trigger_type: TriggerType

class RecordingsStore(Protocol):
    def segment_opened(self, segment: SegmentOpened) -> int: ...
    def segment_closed(self, recording_id: int, end_time: float, size_bytes: int) -> None: ...
    def segment_discarded(self, recording_id: int) -> None: ...
