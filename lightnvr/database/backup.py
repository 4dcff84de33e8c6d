"""Online database backups: the sqlite3 backup API, rotation, verification, thread and CLI.

Design: one thread, "db-backup" (``BackupThread``), wakes every ``backup_interval_minutes``,
copies the live database into ``backup_path`` with the sqlite3 backup API (one read snapshot:
recorders keep writing meanwhile), verifies the copy, renames it into place and keeps the
newest ``backup_retention_count`` files. It is separate from the storage thread so a slow disk
pass never delays backups and the other way round. ``stop(timeout)`` sets its event and joins
(core.worker_thread).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING

from lightnvr.core.worker_thread import WorkerThread

if TYPE_CHECKING:
    from lightnvr.core.clock import Clock
    from lightnvr.core.heartbeat import HeartbeatRegistry
    from lightnvr.database.manager import Database

log = logging.getLogger(__name__)

_BACKUP_NAME = re.compile(r"^backup-\d{8}-\d{6}-\d{6}\.db$")


def list_backups(backup_dir: str) -> list[str]:
    """Paths of the backups in ``backup_dir``, newest first (names sort by time)."""
    try:
        names = [n for n in os.listdir(backup_dir) if _BACKUP_NAME.match(n)]
    except FileNotFoundError:
        return []
    return [os.path.join(backup_dir, n) for n in sorted(names, reverse=True)]


def verify_database(path: str, quick: bool = False) -> str | None:
    """None when ``path`` opens and passes integrity_check (quick_check), else the problem.

    A busy, locked or unreadable file is not a corrupted one: those errors propagate, so
    nobody moves a healthy database aside because another process held a lock.
    """
    try:
        conn = sqlite3.connect(Path(path).absolute().as_uri() + "?mode=ro", uri=True,
                               timeout=10)
    except sqlite3.OperationalError:
        raise
    except sqlite3.Error as e:
        return str(e)
    try:
        pragma = "quick_check" if quick else "integrity_check"
        rows = conn.execute(f"PRAGMA {pragma}").fetchall()
        if rows and rows[0][0] == "ok":
            return None
        return "; ".join(str(r[0]) for r in rows[:5]) or "no answer"
    except sqlite3.OperationalError as e:
        if any(w in str(e) for w in ("locked", "busy", "unable to open", "readonly")):
            raise
        return str(e)
    except sqlite3.Error as e:
        return str(e)
    finally:
        conn.close()


def backup_database(db_path: str, dest_dir: str, keep: int = 24) -> str:
    """Copy ``db_path`` (possibly live) into ``dest_dir``; keep the newest ``keep``; return it.

    The copy is written to a temporary name, verified with quick_check, fsynced and renamed,
    so a crash mid-backup never leaves a half file that a restore could pick.
    """
    os.makedirs(dest_dir, exist_ok=True)
    now = time.time()
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now)) + f"-{int(now * 1e6) % 1000000:06d}"
    final = os.path.join(dest_dir, f"backup-{stamp}.db")
    tmp = final + ".tmp"
    src = sqlite3.connect(Path(db_path).absolute().as_uri() + "?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)  # pages=-1: one step, one snapshot, no restarts
            # a standalone copy: no WAL beside it, so copying the single file is enough
            dst.execute("PRAGMA journal_mode = DELETE")
        finally:
            dst.close()
    finally:
        src.close()
    problem = verify_database(tmp, quick=True)
    if problem is not None:
        os.unlink(tmp)
        raise sqlite3.DatabaseError(f"backup of {db_path} failed verification: {problem}")
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, final)
    _fsync_dir(dest_dir)
    for old in list_backups(dest_dir)[max(keep, 1):]:
        try:
            os.unlink(old)
        except OSError:
            log.warning("could not remove old backup %s", old, exc_info=True)
    log.info("database backup written: %s", final)
    return final


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BackupThread(WorkerThread):
    """Thread "db-backup": ``db.backup()`` every ``interval_minutes`` (0 disables it)."""

    last_backup: str | None
    failures: int

    def __init__(self, db: Database, interval_minutes: float, keep: int,
                 dest_dir: str | None = None, heartbeats: HeartbeatRegistry | None = None,
                 clock: Clock | None = None) -> None:
        super().__init__("db-backup")
        self._db = db
        self._period = interval_minutes * 60.0
        self._keep = keep
        self._dest = dest_dir
        if heartbeats is not None:  # not critical: a late backup is no reason to restart
            self.watch(heartbeats, max_age=self._period * 2 + 60, critical=False)
        self.last_backup: str | None = None
        self.failures = 0

    @property
    def period(self) -> float:
        """Seconds between backups (0: disabled)."""
        return self._period

    def start(self) -> bool:
        """Start thread "db-backup"; False (and no thread) when backups are disabled."""
        if self._period <= 0:
            log.info("database backups disabled (backup_interval_minutes = 0)")
            return False
        return super().start()

    def _run(self) -> None:
        log.info("thread db-backup started (every %.0f min, keep %d)", self._period / 60,
                 self._keep)
        try:
            while not self._stop.wait(self._period):
                try:
                    self.last_backup = self._db.backup(self._dest, self._keep)
                except Exception:
                    self.failures += 1
                    log.error("database backup failed", exc_info=True)
                self._beat()
        finally:
            log.info("thread db-backup exiting")


def backup_command(config_path: str | None, dest: str | None, keep: int | None) -> int:
    """One online backup of the configured database; prints its path; returns the exit code."""
    from lightnvr.core.config import ConfigError, load_config  # the CLI needs config

    try:
        cfg = load_config(config_path).database
    except ConfigError as e:
        print(f"lightnvr backup: configuration error: {e}")
        return 2
    dest = dest or cfg.backup_path or os.path.join(
        os.path.dirname(os.path.abspath(cfg.path)), "backups")
    keep = keep if keep is not None else cfg.backup_retention_count
    if not os.path.exists(cfg.path):
        print(f"lightnvr backup: no database at {cfg.path} ([database] path)")
        return 1
    try:
        path = backup_database(cfg.path, dest, keep)
    except (OSError, sqlite3.Error) as e:
        print(f"lightnvr backup: failed: {e}")
        return 1
    print(path)
    return 0


def backup_main(argv: list[str]) -> int:
    """``lightnvr backup [-c CONFIG] [--dest DIR] [--keep N]``: one online backup now."""
    parser = argparse.ArgumentParser(prog="lightnvr backup",
                                     description="Write an online backup of the database.")
    parser.add_argument("-c", "--config", help="configuration file")
    parser.add_argument("--dest", help="backup directory (default: [database] backup_path)")
    parser.add_argument("--keep", type=int, help="backups to keep "
                        "(default: [database] backup_retention_count)")
    args = parser.parse_args(argv)
    return backup_command(args.config, args.dest, args.keep)
