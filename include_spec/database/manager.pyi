# DB manager (lightnvr/database/manager.py): the one owner of SQLite connection policy.
import sqlite3
from contextlib import AbstractContextManager
from pathlib import Path

class SchemaTooNew(Exception): ...
class MigrationFailed(Exception): ...

MIGRATIONS_DIR: Path
BUSY_TIMEOUT_MS: int

def available_migrations(directory: Path = ...) -> list[tuple[int, Path]]: ...
def split_statements(sql: str) -> list[str]: ...   # a script's statements (triggers kept whole)

class Database:
    path: str
    backup_dir: str                 # default: <dir of path>/backups
    restored_from: str | None       # set when open() restored a backup after corruption
    def __init__(self, path: str, backup_dir: str | None = None) -> None: ...
    def open(self) -> None: ...     # integrity check (restore newest good backup on corruption), migrate
    def reader(self) -> AbstractContextManager[sqlite3.Connection]: ...   # any thread, never blocks on writers
    def writer(self) -> AbstractContextManager[sqlite3.Connection]: ...   # serialized, one transaction
    @property
    def schema_version(self) -> int: ...
    def backup(self, dest_dir: str | None = None, keep: int = 24) -> str: ...   # online backup API; returns path
    def integrity_problem(self) -> str | None: ...   # None when integrity/quick_check passes
    def checkpoint(self) -> None: ...
    def close(self) -> None: ...
