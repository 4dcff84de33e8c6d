"""The one owner of SQLite connection policy: pragmas, migrations, integrity, backups.

Design: no thread of its own. Connection policy (see docs/storage.md, "Database"):

- WAL journal with ``synchronous=NORMAL``. In WAL mode NORMAL syncs the WAL at checkpoints, not
  at every commit, so a commit costs no fsync. It is durable against application crashes (the
  WAL is in the OS page cache); a power loss may lose the last few transactions but never
  corrupts the file. That trade is right here: the crash-safety protocol of docs/storage.md
  re-derives recording rows from the segment files at start-up, so a lost commit is repaired.
- Writes are serialized through ONE writer connection behind a ``threading.Lock``: ``writer()``
  takes the lock, runs one ``BEGIN IMMEDIATE`` transaction and releases it. With a single
  writer inside the process, SQLite's own write lock is never contended by us, so
  "database is locked" cannot happen between our threads; ``busy_timeout`` covers other
  processes (``lightnvr check --repair``, ``tools/rebuild_recordings.py``). Callers keep
  write transactions tiny (one row or one small batch), so a recorder waits microseconds.
- Readers use a small pool of read connections (any thread may take one). WAL readers never
  block the writer and the writer never blocks readers, so a slow API page cannot stall a
  recorder. Each ``reader()`` block is one read transaction: a consistent snapshot.
- Migrations are numbered ``NNNN_name.sql`` files applied in order; all pending ones run in
  ONE transaction together with their ``schema_migrations`` rows: a failed migration leaves
  the database exactly as it was before start-up.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lightnvr.database.backup import backup_database, list_backups, verify_database
from lightnvr.database.lightnvr_import_formats import (
    LightNVRDatabase,
    lightnvr_database_message,
    lightnvr_schema_version,
)

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_MIGRATION_NAME = re.compile(r"^(\d{4})_[A-Za-z0-9_]+\.sql$")
BUSY_TIMEOUT_MS = 5000
QUICK_CHECK_ABOVE_BYTES = 64 * 1024 * 1024  # full integrity_check is O(size); quick_check above
MAX_IDLE_READERS = 8


class SchemaTooNew(Exception):
    """The database was written by a newer lightnvr; refusing to touch it."""


class MigrationFailed(Exception):
    """A migration script failed; the database was left as it was."""


def available_migrations(directory: Path = MIGRATIONS_DIR) -> list[tuple[int, Path]]:
    """(version, file) of every migration script, in version order."""
    found: list[tuple[int, Path]] = []
    for p in directory.iterdir():
        m = _MIGRATION_NAME.match(p.name)
        if m:
            found.append((int(m.group(1)), p))
    found.sort()
    versions = [v for v, _ in found]
    if len(set(versions)) != len(versions):
        raise MigrationFailed(f"duplicate migration numbers in {directory}")
    return found


def split_statements(sql: str) -> list[str]:
    """The SQL statements of a script, each ending at a ``;`` that completes it.

    (``executescript`` would COMMIT any open transaction first, so migrations run statement
    by statement inside ours.)
    """
    out: list[str] = []
    start = 0
    for i, ch in enumerate(sql):
        if ch == ";" and sqlite3.complete_statement(sql[start:i + 1]):
            out.append(sql[start:i + 1])
            start = i + 1
    rest = sql[start:]
    if any(line.strip() and not line.strip().startswith("--") for line in rest.splitlines()):
        out.append(rest)  # an unterminated last statement still runs (or fails loudly)
    return out


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                           timeout=BUSY_TIMEOUT_MS / 1000)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


class Database:
    """A lightnvr SQLite database: call ``open()`` once, then ``reader()``/``writer()``."""

    path: str
    backup_dir: str
    restored_from: str | None

    def __init__(self, path: str, backup_dir: str | None = None) -> None:
        self.path = os.path.abspath(path)
        self.backup_dir = backup_dir or os.path.join(os.path.dirname(self.path), "backups")
        self.migrations_dir = MIGRATIONS_DIR
        self.restored_from: str | None = None  # set when open() had to restore a backup
        self._write_lock = threading.Lock()
        self._writer: sqlite3.Connection | None = None
        self._idle: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------------------

    def open(self) -> None:
        """Check integrity (restoring the newest good backup on corruption), then migrate.

        Raises SchemaTooNew when the file comes from a newer lightnvr, MigrationFailed when a
        migration script fails (the database is then unchanged), LightNVRDatabase when it is
        a LightNVR (C) database (left untouched: it is to be imported, see docs/migrate.md).
        """
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self._ensure_intact()
        conn = _connect(self.path)
        try:
            self._refuse_lightnvr(conn)  # before WAL mode: that alone would rewrite its header
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                log.warning("database %s: journal_mode is %s, not WAL", self.path, mode)
            conn.execute("PRAGMA synchronous = NORMAL")
            self._migrate(conn)
        except BaseException:
            conn.close()
            raise
        self._writer = conn
        self._closed = False
        log.info("database %s open, schema version %d", self.path, self.schema_version)

    def close(self) -> None:
        """Checkpoint the WAL into the main file and close every connection."""
        if self._writer is None:
            return
        try:
            self.checkpoint()
        except sqlite3.Error:
            log.warning("final WAL checkpoint of %s failed", self.path, exc_info=True)
        with self._write_lock:
            self._closed = True
            while True:
                try:
                    self._idle.get_nowait().close()
                except queue.Empty:
                    break
            self._writer.close()
            self._writer = None

    # -- connections ---------------------------------------------------------------------------

    @contextmanager
    def writer(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``), serialized with every other writer.

        Commits when the block ends, rolls back when it raises. Keep it short: recorders wait
        for it.
        """
        with self._write_lock:
            conn = self._writer
            if conn is None:
                raise sqlite3.ProgrammingError(f"database {self.path} is not open")
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def reader(self) -> Iterator[sqlite3.Connection]:
        """A read connection holding one snapshot for the block; never waits for writers."""
        if self._writer is None:
            raise sqlite3.ProgrammingError(f"database {self.path} is not open")
        try:
            conn = self._idle.get_nowait()
        except queue.Empty:
            conn = _connect(self.path)
            conn.execute("PRAGMA query_only = ON")
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if self._closed or self._idle.qsize() >= MAX_IDLE_READERS:
                conn.close()
            else:
                self._idle.put(conn)

    # -- schema --------------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        with self.reader() as conn:
            return _applied_version(conn)

    def _refuse_lightnvr(self, conn: sqlite3.Connection) -> None:
        version = lightnvr_schema_version(conn)
        if version is not None:
            message = lightnvr_database_message(self.path, version)
            log.critical("%s", message)
            raise LightNVRDatabase(message)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                     "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)")
        migrations = available_migrations(self.migrations_dir)
        known = migrations[-1][0] if migrations else 0
        current = _applied_version(conn)
        if current > known:
            raise SchemaTooNew(
                f"database {self.path} has schema version {current}, but this lightnvr knows "
                f"versions up to {known}: it was written by a newer lightnvr. Run that "
                f"version, or restore a backup made by this one (see {self.backup_dir})")
        applied = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
        pending = [(v, p) for v, p in migrations if v not in applied]
        if pending:
            self._apply(conn, pending)

    def _apply(self, conn: sqlite3.Connection, pending: list[tuple[int, Path]]) -> None:
        """Apply every pending script in ONE transaction: all land, or none does."""
        script = pending[0][1]
        conn.execute("BEGIN IMMEDIATE")
        try:
            for version, script in pending:
                for statement in split_statements(script.read_text(encoding="utf-8")):
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_migrations(version, applied_at) "
                             "VALUES (?, ?)", (version, int(time.time())))
            conn.execute("COMMIT")
        except sqlite3.Error as e:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise MigrationFailed(
                f"migration {script.name} failed on {self.path}: {e}; "
                "the database was left unchanged") from e
        log.info("database %s: applied migrations %s", self.path,
                 ", ".join(p.name for _, p in pending))

    # -- integrity and backups -----------------------------------------------------------------

    def _ensure_intact(self) -> None:
        """Move a corrupted file aside and restore the newest backup that verifies."""
        if not os.path.exists(self.path) or os.path.getsize(self.path) == 0:
            return
        problem = verify_database(self.path, quick=self._is_big())
        if problem is None:
            return
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = f"{self.path}.corrupt-{stamp}"
        log.critical("DATABASE CORRUPTED: %s (%s); moving it to %s", self.path, problem, aside)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(self.path + suffix):
                os.replace(self.path + suffix, aside + suffix)
        for candidate in list_backups(self.backup_dir):
            if verify_database(candidate, quick=False) is None:
                tmp = self.path + ".restore-tmp"
                shutil.copyfile(candidate, tmp)
                with open(tmp, "rb+") as f:
                    os.fsync(f.fileno())
                os.replace(tmp, self.path)
                self.restored_from = candidate
                log.critical("DATABASE RESTORED from backup %s; recordings made since then are "
                             "re-registered from their files by start-up reconciliation",
                             candidate)
                return
            log.error("backup %s is damaged too, trying an older one", candidate)
        log.critical("NO GOOD BACKUP in %s: starting with an EMPTY database; recordings are "
                     "re-registered from their files, streams and users must be re-created",
                     self.backup_dir)

    def _is_big(self) -> bool:
        return os.path.getsize(self.path) > QUICK_CHECK_ABOVE_BYTES

    def integrity_problem(self) -> str | None:
        """None when ``PRAGMA quick_check``/``integrity_check`` passes, else its first message."""
        with self.reader() as conn:
            pragma = "quick_check" if self._is_big() else "integrity_check"
            row = conn.execute(f"PRAGMA {pragma}").fetchone()
        return None if row and row[0] == "ok" else str(row[0] if row else "no answer")

    def backup(self, dest_dir: str | None = None, keep: int = 24) -> str:
        """Online backup (sqlite3 backup API) into ``dest_dir``; keeps the newest ``keep``.

        Safe while recording: the copy is one read snapshot and never blocks writers.
        Returns the new backup's path.
        """
        if self._writer is None:
            raise sqlite3.ProgrammingError(f"database {self.path} is not open")
        return backup_database(self.path, dest_dir or self.backup_dir, keep)

    def checkpoint(self) -> None:
        """Copy the WAL into the main file and truncate it (shutdown, after big deletions)."""
        with self._write_lock:
            if self._writer is not None:
                self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


def _applied_version(conn: sqlite3.Connection) -> int:
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' "
                          "AND name='schema_migrations'").fetchone()
    if not exists:
        return 0
    row = conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
    return int(row[0] or 0)
