# NVR events and their hub (lightnvr/core/nvr_events.py): thread "events"; emit() never blocks.
import enum
from collections.abc import Callable, Sequence

from lightnvr.core.clock import Clock
from lightnvr.core.heartbeat import Heartbeat

DEFAULT_CAPACITY: int
WATCH_PERIOD_SECONDS: float
STARTUP_DETAIL: str

class EventKind(enum.Enum):
    DETECTION = "detection"
    DETECTION_END = "detection_end"
    RECORDING_STARTED = "recording_started"
    RECORDING_STOPPED = "recording_stopped"
    STREAM_ONLINE = "stream_online"
    STREAM_OFFLINE = "stream_offline"
    STREAM_ADDED = "stream_added"
    STREAM_REMOVED = "stream_removed"
    STORAGE_PRESSURE = "storage_pressure"

class DetectedObject:
    label: str
    confidence: float
    x: float
    y: float
    width: float
    height: float
    zone_id: str

class NvrEvent:
    kind: EventKind
    stream: str
    timestamp: float
    objects: tuple[DetectedObject, ...]
    detail: str
    snapshot: str  # a detection's JPEG, /api/snapshots/... ("" when none was saved)

class StreamState:
    name: str
    online: bool
    recording: bool
    error: str

class EventHub:
    dropped: int            # events dropped from a full queue (oldest first)
    delivered: int
    def __init__(self, capacity: int = ..., clock: Clock | None = None,
                 heartbeat: Heartbeat | None = None) -> None: ...
    def add_sink(self, sink: Callable[[NvrEvent], object]) -> None: ...    # runs on "events"
    def watch_streams(self, source: Callable[[], Sequence[StreamState]]) -> None: ...
    def watch_storage(self, source: Callable[[], str]) -> None: ...      # level name
    def add_periodic(self, fn: Callable[[], None]) -> None: ...          # every ~1 s
    def emit(self, event: NvrEvent) -> None: ...                         # never blocks
    def run_soon(self, fn: Callable[[], None]) -> None: ...
    def start(self) -> None: ...
    def streams(self) -> list[StreamState]: ...      # as of the last poll
    def storage_level(self) -> str: ...
    def stop(self, timeout: float) -> None: ...      # delivers what is queued, then ends

def stream_changes(before: dict[str, StreamState], after: dict[str, StreamState],
                   now: float) -> list[NvrEvent]: ...
def is_startup_announcement(event: NvrEvent) -> bool: ...   # the first poll's STREAM_ADDED
