# Storage manager thread (lightnvr/storage/manager.py): disk heartbeat, retention, disk pressure,
# crash-safe deletion and filesystem<->DB reconciliation.
from collections.abc import Callable
from enum import IntEnum
from lightnvr.core.clock import Clock
from lightnvr.core.config import StorageConfig
from lightnvr.core.heartbeat import HeartbeatRegistry
from lightnvr.database.manager import Database

class StorageLevel(IntEnum):
    NORMAL = 0
    WARNING = 1
    CRITICAL = 2
    EMERGENCY = 3

class StorageHealth:
    path: str
    total_bytes: int
    free_bytes: int
    free_pct: float
    recordings_bytes: int
    recordings_count: int
    level: StorageLevel
    recording_paused: bool
    last_retention_at: float | None
    last_retention_deleted: int

class RetentionResult:
    deleted: int
    freed_bytes: int
    errors: int

class SyncResult:
    rows_removed: int
    files_registered: int
    rows_repaired: int
    deletions_finished: int

class StorageManager:
    def __init__(self, config: StorageConfig, db: Database,
                 pause_recording: Callable[[str | None], None] | None = None,
                 heartbeats: HeartbeatRegistry | None = None,
                 clock: Clock | None = None) -> None: ...
    def start(self) -> None: ...                       # thread "storage"
    def stop(self, timeout: float) -> None: ...
    def health(self) -> StorageHealth: ...
    def run_retention(self) -> RetentionResult: ...    # synchronous pass (API cleanup, tests)
    def request_retention(self) -> None: ...           # nudge the thread
    def reconcile(self) -> SyncResult: ...             # start-up and POST /api/recordings/sync
    def delete_recording(self, recording_id: int) -> bool: ...   # crash-safe; False if unknown. A user delete ignores `protected` (that guards automatic removal only)
