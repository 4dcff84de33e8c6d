"""8 recorder threads write rows while API readers page and retention deletes: no locks, no loss."""

from __future__ import annotations

import os
import threading
import time

from lightnvr.core.recordings_store import SegmentOpened
from lightnvr.database.recordings import RecordingQuery
from lightnvr.storage.check import CheckReport, check_files
from lightnvr.storage.manager import StorageManager
from tests.fixtures.db import TestDb

RECORDERS = 8
SEGMENTS_EACH = 60
OLD_ROWS = 600


def test_recorders_readers_and_retention_together(testdb: TestDb) -> None:
    day = 86400.0
    for i in range(OLD_ROWS):  # 40 days old: retention must remove all of them
        testdb.add_recording(stream=("front", "back")[i % 2], start=testdb.now - 40 * day + i,
                             size=10)
    manager = StorageManager(testdb.storage_config(retention_days=30), testdb.db)
    errors: list[BaseException] = []
    written: list[int] = []
    lock = threading.Lock()
    stop_readers = threading.Event()

    def recorder(n: int) -> None:
        try:
            for k in range(SEGMENTS_EACH):
                start = testdb.now + n * 10000 + k
                path = testdb.segment_path(f"cam{n}", start)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                seg = SegmentOpened(f"cam{n}", path, start, 320, 240, 10, "h264")
                rid = testdb.recordings.segment_opened(seg)
                with open(path, "wb") as f:
                    f.write(b"x" * 64)
                testdb.recordings.segment_closed(rid, start + 1, 64)
                with lock:
                    written.append(rid)
        except BaseException as e:  # collected and asserted below
            errors.append(e)

    def reader() -> None:
        try:
            while not stop_readers.is_set():
                page = 1
                while True:
                    rows, total = testdb.recordings.query(RecordingQuery(page=page, limit=50))
                    if page * 50 >= total or not rows:
                        break
                    page += 1
        except BaseException as e:
            errors.append(e)

    def retention() -> None:
        try:
            while not stop_readers.is_set():
                manager.run_retention()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=recorder, args=(n,), name=f"recorder:cam{n}")
               for n in range(RECORDERS)]
    helpers = [threading.Thread(target=reader, name=f"api-{i}") for i in range(3)]
    helpers.append(threading.Thread(target=retention, name="retention"))
    for t in helpers + threads:
        t.start()
    for t in threads:
        t.join(120)
    manager.run_retention()  # retention may have been mid-pass when the old rows ran out
    stop_readers.set()
    for t in helpers:
        t.join(60)

    assert not errors, errors[:3]
    assert not any("locked" in str(e) for e in errors)
    assert len(written) == RECORDERS * SEGMENTS_EACH
    _, total = testdb.recordings.query(RecordingQuery(limit=1))
    assert total == RECORDERS * SEGMENTS_EACH  # every new row kept, every old row gone
    assert {r.id for r in testdb.recordings.all()} == set(written)
    report = CheckReport()
    check_files(testdb.recordings, testdb.storage_path, report, time.time() + 3600)
    assert report.ok, report.violations[:5]


def test_slow_reader_does_not_block_a_recorder(testdb: TestDb) -> None:
    """A read transaction held open for a second (a slow API page) never delays a write."""
    holding = threading.Event()
    release = threading.Event()

    def slow_reader() -> None:
        with testdb.db.reader() as c:
            c.execute("SELECT COUNT(*) FROM recordings").fetchone()  # snapshot taken
            holding.set()
            release.wait(5)

    t = threading.Thread(target=slow_reader, name="slow-reader")
    t.start()
    assert holding.wait(5)
    try:
        worst = 0.0
        for i in range(20):
            t0 = time.monotonic()
            rid = testdb.recordings.segment_opened(
                SegmentOpened("front", f"/r/{i}.mp4", 1000.0 + i, 1, 1, 1, "h264"))
            testdb.recordings.segment_closed(rid, 1001.0 + i, 1)
            worst = max(worst, time.monotonic() - t0)
    finally:
        release.set()
        t.join(5)
    assert worst < 0.1, f"a write waited {worst:.3f} s behind a reader"
    assert testdb.recordings.count() == 20
