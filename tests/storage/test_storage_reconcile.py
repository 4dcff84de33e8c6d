"""Crashes in the middle of deletions and recordings: reconciliation leaves rows == files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from lightnvr.storage.check import run_check
from lightnvr.storage.deletion import unlink_segment
from lightnvr.storage.manager import StorageManager
from lightnvr.storage.paths import recording_file, segment_files, stored_path, thumbnail_path
from lightnvr.storage.rebuild import rebuild
from tests.fixtures.db import TestDb, open_testdb, reopen_testdb


def _rows_equal_files(t: TestDb) -> None:
    rows = {recording_file(t.storage_path, r.file_path) for r in t.recordings.all()}
    files = set(segment_files(t.storage_path))
    assert all(not os.path.isabs(r.file_path) for r in t.recordings.all())  # canonical
    assert rows == files, (rows - files, files - rows)
    assert not t.recordings.pending_deletions() and not t.recordings.incomplete()


def _thumbs(path: str, n: int = 2) -> list[str]:
    out = []
    for i in range(n):
        with open(thumbnail_path(path, i), "wb") as f:
            f.write(b"\xff\xd8jpeg")
        out.append(thumbnail_path(path, i))
    return out


def test_startup_reconciliation_of_every_crash_state(testdb: TestDb, real_clip: bytes) -> None:
    t = testdb
    h = 3600.0
    keep = t.add_recording(start=t.now - 10 * h, content=real_clip)
    # deletion interrupted after step 1 (row marked, file and thumbnails still there)
    a = t.add_recording(start=t.now - 9 * h, content=real_clip)
    a_thumbs = _thumbs(a.file_path)
    t.recordings.mark_deleting(a.id)
    # ... after the unlink (row marked, file gone, one thumbnail left)
    b = t.add_recording(start=t.now - 8 * h, content=real_clip)
    t.recordings.mark_deleting(b.id)
    b_thumb = _thumbs(b.file_path)[0]
    os.unlink(b.file_path)
    # recording interrupted: half a segment (playable up to its last complete fragment)
    c = t.add_recording(start=t.now - 7 * h, content=real_clip[: len(real_clip) * 2 // 3],
                        complete=False)
    # ... before the first fragment (no playable frame)
    d = t.add_recording(start=t.now - 6 * h, content=real_clip[:600], complete=False)
    # ... before the file was created
    e = t.add_recording(start=t.now - 5 * h, complete=False, write_file=False)
    # a file whose row was lost (power loss took the last transaction)
    f_path = t.segment_path("back", t.now - 4 * h)
    os.makedirs(os.path.dirname(f_path))
    Path(f_path).write_bytes(real_clip)
    # a complete row whose file vanished
    g = t.add_recording(start=t.now - 3 * h, content=real_clip)
    os.unlink(g.file_path)
    # junk with no row and no playable frame; a stray thumbnail; an empty date dir
    junk = os.path.join(os.path.dirname(keep.file_path), "junk.mp4")
    Path(junk).write_bytes(b"not a video" * 10)
    stray = thumbnail_path(os.path.join(os.path.dirname(keep.file_path), "gone.mp4"), 0)
    Path(stray).write_bytes(b"x")
    empty = os.path.join(t.storage_path, "front", "2001", "01", "01")
    os.makedirs(empty)

    assert not run_check(t.storage_config(), t.db.path).ok
    result = StorageManager(t.storage_config(), t.db).reconcile(startup=True)

    assert result.deletions_finished == 2
    assert result.rows_repaired == 1
    assert result.files_registered == 1
    assert result.rows_removed == 3  # d (unplayable), e (no file), g (file gone)
    assert result.files_removed == 2  # d's file and the junk
    assert result.errors == 0
    ids = {r.id for r in t.recordings.all()}
    assert ids >= {keep.id, c.id} and not ids & {a.id, b.id, d.id, e.id, g.id}
    assert not any(os.path.exists(p) for p in [a.file_path, *a_thumbs, b_thumb, d.file_path,
                                               junk, stray, empty])
    assert not os.path.exists(os.path.join(t.storage_path, "front", "2001"))
    repaired = t.recordings.get(c.id)
    assert repaired is not None and repaired.is_complete
    assert repaired.size_bytes == os.path.getsize(c.file_path)
    assert 0 < repaired.duration <= 0.4 + 1e-6  # the clip holds 0.4 s; part of it survived
    registered = t.recordings.get_by_path(stored_path(t.storage_path, f_path))
    assert registered is not None and registered.stream_name == "back"
    assert registered.codec == "h264" and registered.width == 320
    _rows_equal_files(t)
    report = run_check(t.storage_config(), t.db.path)
    assert report.ok, report.violations


def test_sync_outside_startup_leaves_a_live_recording_alone(testdb: TestDb,
                                                             real_clip: bytes) -> None:
    live = testdb.add_recording(content=real_clip[:600], complete=False)  # being written now
    unknown = testdb.segment_path("front", testdb.now - 100)
    Path(unknown).parent.mkdir(parents=True, exist_ok=True)  # another day's folder after midnight
    Path(unknown).write_bytes(real_clip[:600])  # a recorder's file whose row is on its way
    manager = StorageManager(testdb.storage_config(), testdb.db)
    manager.start()  # from now on reconcile() defaults to live mode (POST /api/recordings/sync)
    try:
        result = manager.reconcile()
    finally:
        manager.stop(5)
    assert result.skipped_live == 1 and result.rows_removed == 0 and result.files_removed == 0
    assert os.path.exists(unknown) and testdb.recordings.get(live.id) is not None
    assert run_check(testdb.storage_config(), testdb.db.path).ok  # live ones are no violation
    # at start-up (before start(): no recorder can be running) the same files are settled
    result = StorageManager(testdb.storage_config(), testdb.db).reconcile()
    assert result.rows_removed == 1 and result.files_removed == 2
    assert not os.path.exists(unknown) and testdb.recordings.get(live.id) is None


def test_rebuild_tool_recreates_the_table_from_files(testdb: TestDb, real_clip: bytes) -> None:
    recs = [testdb.add_recording(start=testdb.now - i * 600, content=real_clip, duration=999)
            for i in range(5)]
    testdb.recordings.set_protected([recs[0].id], True)
    result, reprobed = rebuild(testdb.db, testdb.storage_path)
    assert reprobed == 5 and result.errors == 0
    assert all(abs(r.duration - 0.4) < 0.01 for r in testdb.recordings.all())  # from the files
    assert testdb.recordings.get(recs[0].id).protected  # type: ignore[union-attr]
    result, _ = rebuild(testdb.db, testdb.storage_path, wipe=True)
    assert result.files_registered == 5
    assert ({recording_file(testdb.storage_path, r.file_path) for r in testdb.recordings.all()}
            == {r.file_path for r in recs})
    # the tool itself, as an operator runs it (another process; SQLite's locking between us)
    os.unlink(recs[1].file_path)
    tool = Path(__file__).resolve().parents[2] / "tools" / "rebuild_recordings.py"
    out = subprocess.run([sys.executable, str(tool), "--db", testdb.db.path, "--storage",
                          testdb.storage_path], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "rows_removed=1" in out.stdout
    assert testdb.recordings.count() == 4


_CRASHER = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, sys.argv[1])
    from pathlib import Path
    from lightnvr.core.recordings_store import SegmentOpened
    from lightnvr.database.manager import Database
    from lightnvr.database.recordings import RecordingsRepo
    from lightnvr.storage.deletion import delete_recording
    db = Database(sys.argv[2]); db.open()
    repo = RecordingsRepo(db)
    root, clip = sys.argv[3], Path(sys.argv[4]).read_bytes()
    t = 1_700_000_000.0
    n = 0
    while True:
        t += 10
        path = os.path.join(root, "cam", "2023", "11", "14", f"cam_{n:06d}.mp4")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        rid = repo.segment_opened(SegmentOpened("cam", path, t, 320, 240, 10, "h264"))
        with open(path, "wb") as f:
            for i in range(0, len(clip), 65536):
                f.write(clip[i:i + 65536])
                f.flush()
        repo.segment_closed(rid, t + 10, len(clip))
        for old in repo.removable(limit=1) if n % 3 == 2 else []:
            delete_recording(repo, root, old)
        n += 1
        if n == 20:
            print("running", flush=True)
""")


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.05, 0.2, 0.45])
def test_kill_9_while_recording_and_deleting(tmp_path: Path, real_clip: bytes,
                                             delay: float) -> None:
    t = open_testdb(tmp_path)
    t.db.close()
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(real_clip)
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-c", _CRASHER, str(root), t.db.path,
                             t.storage_path, str(clip)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "running"
        time.sleep(delay)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    t = reopen_testdb(tmp_path)
    try:
        result = StorageManager(t.storage_config(), t.db).reconcile(startup=True)
        assert result.errors == 0
        _rows_equal_files(t)
        report = run_check(t.storage_config(), t.db.path)
        assert report.ok, report.violations
        assert t.recordings.count() > 0
    finally:
        t.db.close()


def test_unlink_segment_is_idempotent(testdb: TestDb) -> None:
    rec = testdb.add_recording(size=123)
    _thumbs(rec.file_path, 3)
    assert unlink_segment(testdb.storage_path, rec.file_path) == 123 + 3 * 6
    assert unlink_segment(testdb.storage_path, rec.file_path) == 0
