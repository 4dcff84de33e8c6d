"""``lightnvr check``: verify (and with --repair fix) the invariants of docs/storage.md.

Safe to run while the daemon records: files written to in the last ``LIVE_GRACE_SECONDS``
belong to a running recorder and are not violations, and repairs go through SQLite's locking.
"""

from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lightnvr.database.backup import verify_database
from lightnvr.database.lightnvr_import_formats import (
    LightNVRDatabase,
    lightnvr_database_message,
    lightnvr_schema_version,
)
from lightnvr.database.manager import Database, available_migrations
from lightnvr.database.recordings import RecordingsRepo
from lightnvr.storage.paths import (
    empty_date_dirs,
    orphan_thumbnails,
    recording_file,
    segment_files,
)
from lightnvr.storage.probe import ProbeResult, probe_segment
from lightnvr.storage.sync import LIVE_GRACE_SECONDS, Reconciler

if TYPE_CHECKING:
    from lightnvr.core.config import StorageConfig

log = logging.getLogger(__name__)

EXIT_OK, EXIT_VIOLATIONS, EXIT_USAGE = 0, 1, 2


@dataclass
class CheckReport:
    """Violations as ``(invariant number, message)``; ``repaired`` lists what --repair did."""

    violations: list[tuple[int, str]] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def add(self, invariant: int, message: str) -> None:
        self.violations.append((invariant, message))


def _schema_version(db_path: str) -> int:
    conn = sqlite3.connect(Path(db_path).absolute().as_uri() + "?mode=ro", uri=True)
    try:
        lightnvr = lightnvr_schema_version(conn)
        if lightnvr is not None:
            raise LightNVRDatabase(lightnvr_database_message(db_path, lightnvr))
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name='schema_migrations'"
                            ).fetchone():
            return 0
        return int(conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0]
                   or 0)
    finally:
        conn.close()


def _check_database(db_path: str, report: CheckReport) -> bool:
    """Invariant 1; True when the file can be opened for the other checks."""
    if not os.path.exists(db_path):
        report.add(1, f"database {db_path} does not exist")
        return False
    problem = verify_database(db_path)
    if problem is not None:
        report.add(1, f"database {db_path} fails integrity_check: {problem}")
        return False
    known = available_migrations()[-1][0]
    try:
        version = _schema_version(db_path)
    except LightNVRDatabase as e:
        report.add(1, str(e))
        return False
    if version != known:
        report.add(1, f"database schema version is {version}, this lightnvr expects {known}")
        return False
    return True


def check_files(repo: RecordingsRepo, root: str, report: CheckReport, now: float,
                excludes: tuple[str, ...] = ()) -> None:
    """Invariants 2-8 over the rows of ``repo`` and the files under ``root``."""
    root = os.path.abspath(root)

    def live(path: str) -> bool:
        try:
            return os.path.getmtime(path) > now - LIVE_GRACE_SECONDS
        except OSError:
            return False

    rows = repo.all()
    for rec in rows:
        path = recording_file(root, rec.file_path)
        if rec.deleting:
            report.add(4, f"recording {rec.id} ({path}): deletion not finished")
            continue
        exists = os.path.exists(path)
        if not exists:
            report.add(2, f"recording {rec.id}: file {path} is missing")
            continue
        if not rec.is_complete:
            if not live(path):
                report.add(5, f"recording {rec.id} ({path}) is incomplete and its file is "
                           "not being written")
            continue
        size = os.path.getsize(path)
        if size != rec.size_bytes:
            report.add(6, f"recording {rec.id} ({path}): row says {rec.size_bytes} bytes, "
                       f"file has {size}")
        if rec.end_time is None or rec.end_time < rec.start_time:
            report.add(6, f"recording {rec.id} ({path}): end_time {rec.end_time} before "
                       f"start_time {rec.start_time}")
    known = {recording_file(root, r.file_path) for r in rows}
    for path in segment_files(root, excludes):
        if os.path.normpath(path) not in known and not live(path):
            report.add(3, f"file {path} has no row")
    for thumb in orphan_thumbnails(root, excludes):
        report.add(7, f"thumbnail {thumb} has no segment")
    for d in empty_date_dirs(root, excludes):
        report.add(8, f"empty date directory {d}")


def run_check(storage: StorageConfig, db_path: str, repair: bool = False,
              probe: Callable[[str], ProbeResult | None] | None = None,
              now: float | None = None) -> CheckReport:
    """Check every invariant; with ``repair`` fix what can be fixed, then check again."""
    report = CheckReport()
    now = time.time() if now is None else now
    db_ok = _check_database(db_path, report)
    if not db_ok and not repair:
        return report
    db = Database(db_path)
    try:
        db.open()  # repair: restores a corrupted file from backup, applies migrations
    except Exception as e:
        report.add(1, f"database {db_path} cannot be opened: {e}")
        return report
    try:
        repo = RecordingsRepo(db)
        excludes = (os.path.abspath(storage.path_hls),) if storage.path_hls else ()
        if db_ok:
            check_files(repo, storage.path, report, now, excludes)
        if not repair or report.ok:
            return report
        size_fixes = [f"fixed: {m}" for n, m in report.violations if n == 6]
        result = Reconciler(repo, storage.path, probe or probe_segment, now, startup=False,
                            excludes=excludes).run()
        _fix_sizes(repo, storage.path)
        report.repaired = [f"reconciliation: {result}", *size_fixes]
        report.violations = []
        if not _check_database(db_path, report):
            return report
        check_files(repo, storage.path, report, now, excludes)
        return report
    finally:
        db.close()


def _fix_sizes(repo: RecordingsRepo, root: str) -> None:
    """Invariant 6 repair: the file is the truth for size; end_time no earlier than start."""
    for rec in repo.all():
        path = recording_file(root, rec.file_path)
        if not rec.is_complete or rec.deleting or not os.path.exists(path):
            continue
        size = os.path.getsize(path)
        end = rec.end_time if rec.end_time is not None else rec.start_time
        if size != rec.size_bytes or end < rec.start_time or rec.end_time is None:
            repo.repair(rec.id, max(end, rec.start_time), size)


def add_check_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("-c", "--config", dest="check_config", metavar="PATH",
                   help="configuration file (paths of the storage and the database)")
    p.add_argument("--repair", action="store_true", help="fix every violation that can be")


def check_command(config_path: str | None, repair: bool) -> int:
    """Run the check for a configuration file; print the report; return the exit code."""
    from lightnvr.core.config import ConfigError, load_config

    try:
        config = load_config(config_path)
    except ConfigError as e:
        print(f"lightnvr check: configuration error: {e}", file=sys.stderr)
        return EXIT_USAGE
    report = run_check(config.storage, config.database.path, repair)
    for line in report.repaired:
        print(f"repaired: {line}")
    for n, message in report.violations:
        print(f"invariant {n}: {message}")
    print(f"{len(report.violations)} violation(s) "
          f"(storage {config.storage.path}, database {config.database.path})")
    return EXIT_OK if report.ok else EXIT_VIOLATIONS


def check_main(argv: list[str]) -> int:
    """``lightnvr check [-c CONFIG] [--repair]``: 0 only when every invariant holds."""
    parser = argparse.ArgumentParser(prog="lightnvr check", description=__doc__)
    add_check_args(parser)
    args = parser.parse_args(argv)
    return check_command(args.check_config, args.repair)
