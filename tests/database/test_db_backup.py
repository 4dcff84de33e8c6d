"""Online backups, rotation, the backup thread, and restoring a corrupted database."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from lightnvr.core.stream_config import StreamConfig
from lightnvr.database import manager as manager_module
from lightnvr.database.backup import BackupThread, backup_main, list_backups, verify_database
from lightnvr.database.manager import Database
from lightnvr.database.streams import StreamsRepo
from tests.fixtures.db import TestDb
from tests.fixtures.wait import wait_until


def test_backup_rotation_and_content(testdb: TestDb) -> None:
    dest = testdb.base / "bk"
    made = [testdb.db.backup(str(dest), keep=3) for _ in range(5)]
    kept = list_backups(str(dest))
    assert kept == sorted(made[-3:], reverse=True)
    assert not any(p.endswith(".tmp") for p in os.listdir(dest))
    assert verify_database(kept[0]) is None
    copy = Database(kept[0], backup_dir=str(testdb.base / "none"))
    copy.open()
    try:
        assert [s.name for s in StreamsRepo(copy).list()] == ["front"]
    finally:
        copy.close()


def test_backup_while_recorders_write(testdb: TestDb) -> None:
    stop = threading.Event()
    written = [0]

    def write() -> None:
        while not stop.is_set():
            testdb.add_recording(start=1000.0 + written[0], write_file=False)
            written[0] += 1

    t = threading.Thread(target=write, name="test-writer")
    t.start()
    try:
        paths = [testdb.db.backup(keep=10) for _ in range(5)]
    finally:
        stop.set()
        t.join(10)
    assert written[0] > 0
    for p in paths:
        assert verify_database(p) is None


def _corrupt(path: str) -> None:
    size = os.path.getsize(path)
    with open(path, "r+b") as f:  # smash the b-tree pages, keep the header
        f.seek(4096)
        f.write(os.urandom(size - 4096))


@pytest.mark.parametrize("quick", [False, True], ids=["integrity_check", "quick_check"])
def test_corrupted_database_is_restored_from_newest_good_backup(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
        quick: bool) -> None:
    if quick:  # as if the file were big: open() uses quick_check
        monkeypatch.setattr(manager_module, "QUICK_CHECK_ABOVE_BYTES", 0)
    path = str(tmp_path / "lightnvr.db")
    db = Database(path)
    db.open()
    StreamsRepo(db).create(StreamConfig("old", "rtsp://a"))
    db.backup()
    StreamsRepo(db).create(StreamConfig("newer", "rtsp://b"))
    time.sleep(0.001)
    good = db.backup()
    for i in range(300):  # enough pages that corruption hits real data
        StreamsRepo(db).create(StreamConfig(f"s{i}", "rtsp://c" + "x" * 200))
    db.close()
    # the newest backup is damaged too: the restore must skip it
    time.sleep(0.001)
    damaged = os.path.join(db.backup_dir, "backup-29991231-235959-999999.db")
    with open(damaged, "wb") as f:
        f.write(b"SQLite format 3\0" + os.urandom(8000))
    _corrupt(path)
    assert verify_database(path) is not None

    db2 = Database(path)
    db2.open()  # the daemon keeps running: no exception
    try:
        assert db2.restored_from == good
        assert [s.name for s in StreamsRepo(db2).list()] == ["newer", "old"]
        assert db2.integrity_problem() is None
        StreamsRepo(db2).create(StreamConfig("after", "rtsp://d"))  # and it is writable
    finally:
        db2.close()
    assert any(n.startswith("lightnvr.db.corrupt-") for n in os.listdir(tmp_path))
    assert any(r.levelname == "CRITICAL" and "CORRUPTED" in r.message for r in caplog.records)


def test_corrupted_database_without_backup_starts_empty(tmp_path: Path) -> None:
    path = str(tmp_path / "lightnvr.db")
    db = Database(path)
    db.open()
    for i in range(300):
        StreamsRepo(db).create(StreamConfig(f"s{i}", "rtsp://c" + "x" * 200))
    db.close()
    _corrupt(path)
    db = Database(path)
    db.open()
    try:
        assert db.restored_from is None
        assert StreamsRepo(db).list() == []
        assert db.integrity_problem() is None
    finally:
        db.close()


def test_backup_thread_runs_and_stops_within_deadline(testdb: TestDb) -> None:
    before = threading.active_count()
    # a minute is the config's floor; the test runs the same loop every 0.05 s
    bt = BackupThread(testdb.db, interval_minutes=0.05 / 60, keep=2,
                      dest_dir=str(testdb.base / "bt"))
    assert bt.period == pytest.approx(0.05)
    bt.start()
    assert any(t.name == "db-backup" for t in threading.enumerate())
    wait_until(lambda: len(list_backups(str(testdb.base / "bt"))) >= 2, 10, step=0.02)
    t0 = time.monotonic()
    bt.stop(5)
    assert time.monotonic() - t0 < 1
    assert threading.active_count() == before
    assert bt.last_backup is not None and bt.failures == 0
    assert len(list_backups(str(testdb.base / "bt"))) == 2


def test_backup_cli(testdb: TestDb, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conf = tmp_path / "lightnvr.conf"
    conf.write_text(f"[database]\npath = {testdb.db.path}\nbackup_retention_count = 2\n"
                    f"backup_path = {tmp_path / 'cli-bk'}\n")
    for _ in range(3):
        assert backup_main(["-c", str(conf)]) == 0
    out = capsys.readouterr().out.split()
    assert out and os.path.exists(out[-1])
    assert len(list_backups(str(tmp_path / "cli-bk"))) == 2
    assert backup_main(["-c", str(conf), "--dest", str(tmp_path / "other"), "--keep", "1"]) == 0
    assert len(list_backups(str(tmp_path / "other"))) == 1
