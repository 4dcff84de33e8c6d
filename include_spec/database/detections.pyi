# Detection results (lightnvr/database/detections.py): what detectors and /api/motion/trigger saw.
from collections.abc import Sequence
from typing import Any

from lightnvr.database.manager import Database

class Detection:
    id: int
    stream_name: str
    timestamp: float
    label: str
    confidence: float
    x: float
    y: float
    width: float
    height: float
    recording_id: int | None
    zone_id: str | None
    def to_dict(self) -> dict[str, Any]: ...

class NewDetection:
    stream_name: str
    timestamp: float
    label: str
    confidence: float
    x: float
    y: float
    width: float
    height: float
    recording_id: int | None
    zone_id: str | None

class DetectionsRepo:
    def __init__(self, db: Database) -> None: ...
    def add_many(self, detections: Sequence[NewDetection]) -> int: ...
    def in_range(self, stream_name: str, start: float, end: float,
                 limit: int = 1000) -> list[Detection]: ...          # newest first
    def timestamps(self, stream_name: str, start: float, end: float) -> list[float]: ...  # ascending
    def labels_summary(self, stream_name: str, start: float,
                       end: float) -> list[tuple[str, int]]: ...   # (label, count), most first
    def labels(self, streams: Sequence[str] | None = None) -> list[str]: ...  # None: all streams
    def prune_before(self, timestamp: float) -> int: ...
    def prune_unattached(self, stream: str, before: float) -> int: ...   # Retention step 7
    def stream_names(self) -> list[str]: ...
