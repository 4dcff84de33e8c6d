"""Disk pressure on a real small filesystem (tmpfs), and the same logic via injected statvfs."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from lightnvr.core.config import StorageConfig
from lightnvr.core.recordings_store import SegmentOpened
from lightnvr.storage.check import run_check
from lightnvr.storage.manager import StorageLevel, StorageManager
from tests.fixtures.db import TestDb

TMPFS_MB = 64


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[str]:
    """A 64 MiB tmpfs mounted in the test's temp dir (skipped only where mounting is impossible)."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root; the statvfs-injected tests cover the logic")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_MB}m", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount tmpfs here ({r.stderr.strip()}); the statvfs-injected "
                    "tests cover the logic")
    try:
        yield str(mnt)
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


class Recorder:
    """Writes real segment files + rows like a recorder, unless recording is paused."""

    def __init__(self, t: TestDb, root: str, clip: bytes, stream: str = "front") -> None:
        self.t, self.root, self.clip, self.stream = t, root, clip, stream
        self.paused = threading.Event()
        self.reasons: list[str | None] = []
        self.write_errors: list[OSError] = []
        self.written: list[int] = []
        self.clock = t.now - 86400.0

    def pause(self, reason: str | None) -> None:
        self.reasons.append(reason)
        if reason is None:
            self.paused.clear()
        else:
            self.paused.set()

    def write_segment(self, protected: bool = False) -> int | None:
        if self.paused.is_set():
            return None
        self.clock += 10.0
        d = os.path.join(self.root, self.stream, time.strftime("%Y/%m/%d"))
        path = os.path.join(d, f"{self.stream}_{int(self.clock * 1000)}.mp4")
        rid = self.t.recordings.segment_opened(
            SegmentOpened(self.stream, path, self.clock, 320, 240, 10, "h264"))
        try:
            os.makedirs(d, exist_ok=True)
            with open(path, "wb") as f:
                f.write(self.clip)
                f.flush()
                os.fsync(f.fileno())
        except OSError as e:
            self.write_errors.append(e)
            raise
        self.t.recordings.segment_closed(rid, self.clock + 10.0, len(self.clip))
        if protected:
            self.t.recordings.set_protected([rid], True)
        self.written.append(rid)
        return rid


def _config(t: TestDb, root: str, **kw: object) -> StorageConfig:
    values: dict[str, object] = dict(path=root, min_free_pct=0, pressure_warning_pct=20,
                                     pressure_critical_pct=10, pressure_emergency_pct=5,
                                     retention_days=0, heartbeat_interval_seconds=0.01)
    values.update(kw)
    return t.storage_config(**values)


@pytest.mark.slow
def test_emergency_on_real_tmpfs_removes_oldest_unprotected(testdb: TestDb, small_fs: str,
                                                            real_clip: bytes) -> None:
    rec = Recorder(testdb, small_fs, real_clip)
    protected = [rec.write_segment(protected=True) for _ in range(3)]
    # emergency line at 10 % (6.4 MiB, ~16 segments): headroom for a loaded test machine
    manager = StorageManager(_config(testdb, small_fs, pressure_emergency_pct=10,
                                     pressure_critical_pct=15), testdb.db,
                             pause_recording=rec.pause)
    manager.start()
    try:
        # write twice the filesystem's size, at a camera-like pace
        target = 2 * TMPFS_MB * 1024 * 1024
        while len(rec.written) * len(real_clip) < target:
            assert rec.write_segment() is not None, "recording was paused"
            time.sleep(0.02)
    finally:
        manager.stop(5)
    assert rec.write_errors == []  # recording never failed a write
    h = manager.heartbeat()
    assert h.level < StorageLevel.EMERGENCY
    left = {r.id: r for r in testdb.recordings.all()}
    assert all(p in left for p in protected)
    gone = [rid for rid in rec.written if rid not in left]
    assert gone, "the emergency line was never crossed"
    kept = [rid for rid in rec.written if rid in left and rid not in protected]
    assert max(gone) < min(kept)  # oldest first: every removed one is older than every kept
    report = run_check(manager.config, testdb.db.path)
    assert report.ok, report.violations


@pytest.mark.slow
def test_disk_full_of_protected_pauses_and_resumes_on_tmpfs(testdb: TestDb, small_fs: str,
                                                            real_clip: bytes) -> None:
    rec = Recorder(testdb, small_fs, real_clip)
    manager = StorageManager(_config(testdb, small_fs), testdb.db,
                             pause_recording=rec.pause)
    while manager.heartbeat().level < StorageLevel.EMERGENCY:  # a recorder that protects all
        assert rec.write_segment(protected=True) is not None
    assert rec.paused.is_set()
    assert rec.reasons[-1] is not None and rec.reasons[-1].startswith("disk full")
    assert manager.health().recording_paused
    assert rec.write_segment() is None and rec.write_errors == []
    # the user deletes protected recordings; space returns and recording resumes by itself
    for rid in rec.written[:20]:
        assert manager.delete_recording(rid)
    manager.heartbeat()
    assert not rec.paused.is_set() and rec.reasons[-1] is None
    assert not manager.health().recording_paused
    assert rec.write_segment() is not None
    assert run_check(manager.config, testdb.db.path).ok


class FakeDisk:
    """statvfs of a pretend disk: ``total`` bytes minus what lies under the storage path."""

    def __init__(self, root: str, total: int) -> None:
        self.root, self.total = root, total

    def used(self) -> int:
        return sum(os.path.getsize(os.path.join(d, f))
                   for d, _, fs in os.walk(self.root) for f in fs)

    def __call__(self, path: str) -> SimpleNamespace:
        free = max(0, self.total - self.used())
        return SimpleNamespace(f_blocks=self.total, f_frsize=1, f_bavail=free, f_bfree=free)


def test_emergency_logic_with_injected_statvfs(testdb: TestDb) -> None:
    disk = FakeDisk(testdb.storage_path, total=100 * 1000)
    for i in range(98):  # 98 % used: EMERGENCY (line 5 %)
        testdb.add_recording(start=testdb.now - 1000 + i, size=1000, protected=i < 3,
                             override_days=90 if i == 5 else None)
    paused: list[str | None] = []
    manager = StorageManager(_config(testdb, testdb.storage_path), testdb.db,
                             pause_recording=paused.append, statvfs=disk)
    h = manager.heartbeat()
    assert h.level == StorageLevel.CRITICAL and h.free_pct >= 5
    ids = sorted(r.id for r in testdb.recordings.all())
    # protected kept; the oldest unprotected (even the one with an override) removed until
    # free space is back over the 5 % line: 98 -> 94 files (6 % free)
    assert len(ids) == 94 and ids[:3] == [1, 2, 3] and 4 not in ids and 6 not in ids
    assert paused == []


def test_min_free_pct_and_auto_delete_oldest(testdb: TestDb) -> None:
    disk = FakeDisk(testdb.storage_path, total=100 * 1000)
    for i in range(85):
        testdb.add_recording(start=testdb.now - 1000 + i, size=1000)
    cfg = _config(testdb, testdb.storage_path, min_free_pct=20, auto_delete_oldest=False)
    StorageManager(cfg, testdb.db, statvfs=disk).run_retention()
    assert testdb.recordings.count() == 85  # auto_delete_oldest = false: keep everything
    cfg = _config(testdb, testdb.storage_path, min_free_pct=20)
    StorageManager(cfg, testdb.db, statvfs=disk).run_retention()
    assert testdb.recordings.count() == 80
    assert min(r.start_time for r in testdb.recordings.all()) == testdb.now - 1000 + 5


def test_pause_and_resume_with_injected_statvfs(testdb: TestDb) -> None:
    disk = FakeDisk(testdb.storage_path, total=100 * 1000)
    recs = [testdb.add_recording(start=testdb.now - 1000 + i, size=1000, protected=True)
            for i in range(97)]
    calls: list[str | None] = []
    manager = StorageManager(_config(testdb, testdb.storage_path), testdb.db,
                             pause_recording=calls.append, statvfs=disk)
    manager.heartbeat()
    manager.heartbeat()
    assert len(calls) == 1 and calls[0] is not None and "disk full" in calls[0]
    assert manager.pause_reason == calls[0]
    assert testdb.recordings.count() == 97  # protected rows are never removed automatically
    disk.total = 100 * 1000 + 5500  # 3 % free -> 8 %: over the 5 % line + 1 % margin
    manager.heartbeat()
    assert calls[-1] is None and manager.pause_reason is None
    # every protected recording, row and file, outlived the full disk and the resume
    assert {r.id for r in testdb.recordings.all()} == {r.id for r in recs}
    assert all(os.path.isfile(r.file_path) for r in recs)


def test_heartbeat_under_critical_keeps_overridden_recordings(testdb: TestDb) -> None:
    """Below min_free but above the emergency line only step 5 runs: overrides are kept."""
    disk = FakeDisk(testdb.storage_path, total=100 * 1000)
    recs = [testdb.add_recording(start=testdb.now - 1000 + i, size=1000,
                                 override_days=30 if i < 2 else None) for i in range(93)]
    manager = StorageManager(_config(testdb, testdb.storage_path, min_free_pct=9), testdb.db,
                             statvfs=disk)
    h = manager.heartbeat()  # 7 % free: CRITICAL, 2 points under min_free_pct
    left = {r.id for r in testdb.recordings.all()}
    assert h.level == StorageLevel.CRITICAL and h.free_pct >= 9
    assert recs[0].id in left and recs[1].id in left  # overridden: not touched by step 5
    assert left == {r.id for r in recs} - {recs[2].id, recs[3].id}
