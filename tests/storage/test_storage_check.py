"""``lightnvr check``: each invariant of docs/storage.md is detected, and --repair fixes it."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from lightnvr import cli
from lightnvr.storage.check import check_main, run_check
from lightnvr.storage.paths import thumbnail_path
from tests.fixtures.db import TestDb


def _break_everything(t: TestDb, clip: bytes) -> None:
    ok = t.add_recording(start=t.now - 7200, content=clip)
    missing = t.add_recording(start=t.now - 7000, content=clip)
    os.unlink(missing.file_path)                                     # 2
    orphan = t.segment_path("front", t.now - 6000)
    Path(orphan).write_bytes(clip)                                   # 3
    os.utime(orphan, (t.now - 3600, t.now - 3600))
    marked = t.add_recording(start=t.now - 5000, content=clip)
    t.recordings.mark_deleting(marked.id)                            # 4
    stale = t.add_recording(start=t.now - 4000, content=clip, complete=False)
    os.utime(stale.file_path, (t.now - 3600, t.now - 3600))          # 5
    wrong = t.add_recording(start=t.now - 3000, content=clip)
    with t.db.writer() as c:                                         # 6
        c.execute("UPDATE recordings SET size_bytes = 5 WHERE id = ?", (wrong.id,))
    Path(thumbnail_path(os.path.join(os.path.dirname(ok.file_path), "x.mp4"), 0)).write_bytes(
        b"j")                                                        # 7
    os.makedirs(os.path.join(t.storage_path, "front", "1999", "12", "31"))  # 8


def test_every_invariant_detected_then_repaired(testdb: TestDb, real_clip: bytes) -> None:
    assert run_check(testdb.storage_config(), testdb.db.path).ok
    _break_everything(testdb, real_clip)
    report = run_check(testdb.storage_config(), testdb.db.path)
    assert sorted({n for n, _ in report.violations}) == [2, 3, 4, 5, 6, 7, 8]
    repaired = run_check(testdb.storage_config(), testdb.db.path, repair=True)
    assert repaired.ok, repaired.violations
    assert repaired.repaired
    assert run_check(testdb.storage_config(), testdb.db.path).ok


def test_corrupted_database_is_invariant_1(testdb: TestDb, tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"SQLite format 3\0" + b"\x07" * 9000)
    report = run_check(testdb.storage_config(), str(bad))
    assert [n for n, _ in report.violations] == [1]
    conn = sqlite3.connect(testdb.db.path)
    conn.execute("INSERT INTO schema_migrations(version, applied_at) VALUES (999, 0)")
    conn.commit()
    conn.close()
    report = run_check(testdb.storage_config(), testdb.db.path)
    assert report.violations[0][0] == 1 and "999" in report.violations[0][1]


def test_cli_exit_codes(testdb: TestDb, real_clip: bytes, tmp_path: Path,
                        capsys: pytest.CaptureFixture[str]) -> None:
    conf = tmp_path / "lightnvr.conf"
    conf.write_text(f"[storage]\npath = {testdb.storage_path}\npath_hls = {tmp_path / 'hls'}\n"
                    f"[database]\npath = {testdb.db.path}\n")
    assert check_main(["-c", str(conf)]) == 0
    _break_everything(testdb, real_clip)
    assert check_main(["-c", str(conf)]) == 1
    out = capsys.readouterr().out
    assert "invariant 2:" in out and "violation(s)" in out
    # the same through the `lightnvr` command line, with the subcommands registered
    import lightnvr.storage.commands  # noqa: F401  (registers check and backup)

    assert cli.main(["check", "-c", str(conf), "--repair"]) == 0
    assert cli.main(["-c", str(conf), "check"]) == 0
    assert cli.main(["backup", "-c", str(conf), "--dest", str(tmp_path / "bk")]) == 0
    assert len(os.listdir(tmp_path / "bk")) == 1
    bad = tmp_path / "bad.conf"
    bad.write_text("[storage]\nretention_days = lots\n")
    assert check_main(["-c", str(bad)]) == 2
