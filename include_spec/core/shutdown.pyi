# Priority shutdown coordinator (lightnvr/core/shutdown.py). Highest priority stops first.
from collections.abc import Callable

from lightnvr.core.clock import Clock

PRIORITY_WEB: int          # 100: stop accepting, finish in-flight requests
PRIORITY_DETECTION: int    # 90: detectors, MQTT, ONVIF
PRIORITY_READERS: int      # 80: stream readers; their queues are closed
PRIORITY_LIVE: int         # 70: live (HLS) writers
PRIORITY_RECORDERS: int    # 60: recorders finish the fragment, close files, complete rows
PRIORITY_STORAGE: int      # 50: storage manager
PRIORITY_GOVERNOR: int     # 45: memory governor
PRIORITY_DATABASE: int     # 40: WAL checkpoint, close

class ShutdownReport:
    ok: bool
    overran: list[str]          # components that missed their deadline
    failed: list[str]           # components whose stop raised
    elapsed: float

class ShutdownCoordinator:
    def __init__(self, global_deadline: float = 30.0, clock: Clock | None = None) -> None: ...
    def register(self, name: str, priority: int, stop: Callable[[float], object],
                 deadline: float = 5.0) -> None: ...   # stop(seconds_allowed); names are unique
    def unregister(self, name: str) -> None: ...
    def registered(self) -> list[str]: ...              # in stop order
    def shutdown(self) -> ShutdownReport: ...           # idempotent; second call returns first report
    @property
    def stopping(self) -> bool: ...
    @property
    def global_deadline(self) -> float: ...
    @property
    def current(self) -> str | None: ...          # component being stopped now
