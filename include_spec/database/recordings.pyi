# Recording metadata rows (lightnvr/database/recordings.py). RecordingsRepo is also the
# RecordingsStore the recorders write through.
from collections.abc import Sequence

from lightnvr.core.recordings_store import SegmentOpened, TriggerType
from lightnvr.database.manager import Database

SORT_COLUMNS: tuple[str, ...]   # whitelist for sort= (query() raises ValueError otherwise)
MAX_PAGE_SIZE: int

class Recording:
    id: int
    stream_name: str
    file_path: str
    start_time: float
    end_time: float | None
    size_bytes: int
    width: int
    height: int
    fps: int
    codec: str
    is_complete: bool
    trigger_type: TriggerType
    protected: bool
    retention_override_days: int | None
    deleting: bool
    @property
    def duration(self) -> float: ...
    def to_dict(self) -> dict[str, object]: ...   # LightNVR API shape (times as epoch seconds)

class RecordingQuery:
    stream: str | None
    start: float | None
    end: float | None
    page: int
    limit: int
    sort: str
    order: str                      # "asc" | "desc"
    protected: bool | None
    trigger_type: str | None
    tag: str | None
    has_detection: bool | None
    detection_label: str | None
    include_incomplete: bool        # default False: only complete rows are listed
    streams: tuple[str, ...] | None  # default None: every stream; else only these
    def validate(self) -> RecordingQuery: ...   # ValueError("field: what is allowed")

class RecordingsRepo:
    def __init__(self, db: Database) -> None: ...
    # RecordingsStore
    def segment_opened(self, segment: SegmentOpened) -> int: ...
    def segment_closed(self, recording_id: int, end_time: float, size_bytes: int) -> None: ...
    def segment_discarded(self, recording_id: int) -> None: ...
    # queries
    def get(self, recording_id: int) -> Recording | None: ...
    def get_by_path(self, file_path: str) -> Recording | None: ...
    def query(self, q: RecordingQuery) -> tuple[list[Recording], int]: ...   # (page, total)
    def in_range(self, stream: str, start: float, end: float) -> list[Recording]: ...  # ordered by start
    def incomplete(self) -> list[Recording]: ...
    def all(self) -> list[Recording]: ...               # every row, deleting ones too
    def all_paths(self) -> set[str]: ...
    def total_size(self, stream: str | None = None) -> int: ...
    def count(self, stream: str | None = None) -> int: ...
    def stream_names(self) -> list[str]: ...            # streams that have rows
    def removable(self, stream: str | None = None, triggers: Sequence[str] | None = None,
                  started_before: float | None = None, overridden: bool | None = False,
                  limit: int = 500) -> list[Recording]: ...   # complete, unprotected, not deleting; oldest first
    def protected_ids(self, ids: Sequence[int]) -> set[int]: ...   # the protected among ids
    # changes
    def set_protected(self, ids: Sequence[int], protected: bool) -> int: ...
    def set_retention_override(self, recording_id: int, days: int | None) -> bool: ...
    def register(self, segment: SegmentOpened, end_time: float, size_bytes: int) -> int: ...  # complete row
    def repair(self, recording_id: int, end_time: float, size_bytes: int) -> None: ...
    def update_media(self, recording_id: int, width: int, height: int, fps: int, codec: str) -> None: ...
    def mark_deleting(self, recording_id: int) -> bool: ...   # False if unknown or already marked
    def remove(self, recording_id: int) -> None: ...
    def pending_deletions(self) -> list[Recording]: ...
    # tags
    def tags(self, recording_id: int) -> list[str]: ...
    def set_tags(self, recording_id: int, tags: Sequence[str]) -> None: ...
    def all_tags(self, streams: Sequence[str] | None = None) -> list[str]: ...  # None: all streams
