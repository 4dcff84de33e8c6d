# Storage manager thread (lightnvr/storage/manager.py): disk heartbeat, retention, disk pressure,
# crash-safe deletion and filesystem<->DB reconciliation.
from collections.abc import Callable
from enum import IntEnum
from typing import Any

from lightnvr.core.clock import Clock
from lightnvr.core.config import StorageConfig
from lightnvr.core.heartbeat import HeartbeatRegistry
from lightnvr.core.worker_thread import WorkerThread
from lightnvr.database.manager import Database
from lightnvr.storage.probe import ProbeResult

RESUME_MARGIN_PCT: float     # recording resumes this far above the emergency line

def level_for(free_pct: float, config: StorageConfig) -> StorageLevel: ...

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
    def to_dict(self) -> dict[str, object]: ...   # /api/storage/health shape (level as lowercase name)

class RetentionResult:
    deleted: int
    freed_bytes: int
    errors: int

class SyncResult:
    rows_removed: int
    files_registered: int
    rows_repaired: int
    deletions_finished: int
    files_removed: int          # files with no playable frame (and no row, or an incomplete row)
    thumbnails_removed: int
    dirs_removed: int
    errors: int
    skipped_live: int           # incomplete rows / files a running recorder is still writing

class StorageManager(WorkerThread):
    def __init__(self, config: StorageConfig, db: Database,
                 pause_recording: Callable[[str | None], None] | None = None,
                 heartbeats: HeartbeatRegistry | None = None,
                 clock: Clock | None = None,
                 probe: Callable[[str], ProbeResult | None] | None = None,   # default: storage.probe.probe_segment
                 statvfs: Callable[[str], Any] | None = None) -> None: ...   # default: os.statvfs (tests inject)
    def reconfigure(self, config: StorageConfig) -> None: ...   # new rules from the next pass, at once (a running pass keeps its own); ValueError if path differs
    def start(self) -> bool: ...                       # thread "storage" (WorkerThread); False: running already
    def stop(self, timeout: float) -> bool: ...
    def health(self) -> StorageHealth: ...
    def run_retention(self) -> RetentionResult: ...    # synchronous pass (API cleanup, tests)
    def request_retention(self) -> None: ...           # nudge the thread
    def cleanup_now(self, wait: float) -> RetentionResult | None: ...   # a pass on the storage thread; None: not done within `wait` s (still queued/running)
    def sync_now(self, wait: float) -> SyncResult | None: ...           # reconcile() on the storage thread, likewise
    def heartbeat(self) -> StorageHealth: ...          # one statvfs check now (+ pressure steps if short)
    @property
    def pause_reason(self) -> str | None: ...          # why recording is paused, None when it is not
    def reconcile(self, startup: bool | None = None) -> SyncResult: ...   # True: before recorders run; False: POST /api/recordings/sync (skips files written in the last 120 s); None: True until start() was called, then False
    def delete_recording(self, recording_id: int) -> bool: ...   # crash-safe; False if unknown. A user delete ignores `protected` (that guards automatic removal only)
