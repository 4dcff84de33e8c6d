# Online database backups (lightnvr/database/backup.py): backup API, rotation, thread "db-backup", CLI.
from lightnvr.core.clock import Clock
from lightnvr.core.heartbeat import HeartbeatRegistry
from lightnvr.core.worker_thread import WorkerThread
from lightnvr.database.manager import Database

def list_backups(backup_dir: str) -> list[str]: ...                 # newest first
def verify_database(path: str, quick: bool = False) -> str | None: ...   # None = integrity ok
def backup_database(db_path: str, dest_dir: str, keep: int = 24) -> str: ...   # works on a live DB

class BackupThread(WorkerThread):
    last_backup: str | None
    failures: int
    def __init__(self, db: Database, interval_minutes: float, keep: int,
                 dest_dir: str | None = None, heartbeats: HeartbeatRegistry | None = None,
                 clock: Clock | None = None) -> None: ...
    @property
    def period(self) -> float: ...        # seconds between backups (fractions of a minute allowed)
    def start(self) -> bool: ...          # thread "db-backup"; interval 0 = disabled (no thread, False)
    def stop(self, timeout: float) -> bool: ...

def backup_command(config_path: str | None, dest: str | None, keep: int | None) -> int: ...
def backup_main(argv: list[str]) -> int: ...
