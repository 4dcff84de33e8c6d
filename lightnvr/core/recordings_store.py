"""The seam between recorders (video) and recording metadata (database).

A recorder is handed an object implementing `RecordingsStore`; the database subsystem provides
the SQLite implementation. Keeping the seam here lets `video` never import `database`.
The order of calls is the crash-safety protocol of docs/storage.md ("Recording a segment").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

TriggerType = Literal["scheduled", "detection", "manual"]


@dataclass(frozen=True, slots=True)
class SegmentOpened:
    """What is known about a segment when its file is created."""

    stream_name: str
    file_path: str
    start_time: float  # wall clock, seconds since the epoch
    width: int
    height: int
    fps: int
    codec: str
    trigger_type: TriggerType = "scheduled"


class RecordingsStore(Protocol):
    """Where recorders register their segments."""

    def segment_opened(self, segment: SegmentOpened) -> int:
        """Insert a row with is_complete=0 and return its id (step 1 of recording)."""
        ...

    def segment_closed(self, recording_id: int, end_time: float, size_bytes: int) -> None:
        """Complete the row after the file was fsynced (last step of recording)."""
        ...

    def segment_discarded(self, recording_id: int) -> None:
        """Remove the row of a segment whose file held no playable frame and was removed."""
        ...
