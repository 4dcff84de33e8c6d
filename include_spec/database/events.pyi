# System events (lightnvr/database/events.py).
from enum import IntEnum

from lightnvr.core.nvr_events import EventKind, NvrEvent
from lightnvr.database.manager import Database

class EventType(IntEnum):
    INFO = 0
    STREAM_STARTED = 1
    STREAM_STOPPED = 2
    STREAM_ERROR = 3
    RECORDING_STARTED = 4
    RECORDING_STOPPED = 5
    DETECTION = 6
    STORAGE = 7
    SYSTEM = 8
    AUTH = 9
    AUDIT = 10   # (ours) security audit trail (lightnvr/web/audit.py writes it)

NVR_EVENT_TYPES: dict[EventKind, EventType]   # events.type of each NVR event kind
NVR_EVENTS_KEPT_PER_TYPE: int   # record() keeps this many of each NVR type (not INFO)
NVR_TRIM_EVERY: int

def describe_nvr_event(event: NvrEvent) -> str: ...   # the description column

class Event:
    id: int
    type: int
    timestamp: float
    stream_name: str
    description: str
    details: str
    def to_dict(self) -> dict[str, object]: ...

class EventsRepo:
    def __init__(self, db: Database) -> None: ...
    def add(self, type: int, timestamp: float, description: str, stream_name: str = "",
            details: str = "") -> int: ...
    def record(self, event: NvrEvent) -> int: ...   # EventHub sink; JSON details; trims old rows
    def list(self, start: float | None = None, end: float | None = None,
             stream: str | None = None, type: int | None = None,
             limit: int = 100) -> list[Event]: ...   # newest first
    def page(self, type: int, before_id: int | None = None,
             limit: int = 100) -> list[Event]: ...   # one type, id descending, ids < before_id
    def trim(self, type: int, keep: int) -> int: ...   # newest `keep` of one type stay
    def prune(self, older_than: float) -> int: ...
