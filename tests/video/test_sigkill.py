"""SIGKILL mid-segment: the cut-off file plays up to ~1 s before the kill; recovery completes it.

The harness (kill_harness.py) records into a real SQLite database (RecordingsRepo) in a child
process; we SIGKILL it, then run start-up recovery as the daemon does: every incomplete row's
file is measured with lightnvr.storage.probe and the row repaired (or file and row removed).
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import pytest

from lightnvr.database.manager import Database
from lightnvr.database.recordings import RecordingsRepo
from lightnvr.storage.probe import probe_segment
from tests.fixtures.camera import ROOT, TestCamera

pytestmark = [pytest.mark.camera, pytest.mark.slow]


def _recover(repo: RecordingsRepo) -> tuple[int, int]:
    """docs/storage.md, Start-up reconciliation step 2: (rows repaired, rows removed)."""
    repaired = removed = 0
    for row in repo.incomplete():
        probed = probe_segment(row.file_path)
        if probed is None:
            if os.path.exists(row.file_path):
                os.unlink(row.file_path)
            repo.remove(row.id)
            removed += 1
        else:
            repo.repair(row.id, row.start_time + probed.duration, probed.size_bytes)
            repaired += 1
    return repaired, removed


def _decodable_seconds(path: str) -> float:
    n = 0
    with av.open(path) as c:
        rate = float(c.streams.video[0].average_rate or 15)
        try:
            for _ in c.decode(video=0):
                n += 1
        except av.error.InvalidDataError:
            pass
    return n / rate


def test_sigkill_mid_segment_then_recovery(rtsp_camera: TestCamera, tmp_path: Path) -> None:
    db_path, storage = tmp_path / "nvr.db", tmp_path / "rec"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.video.kill_harness", str(db_path), str(storage),
         rtsp_camera.url("file264")], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        line = proc.stdout.readline().decode() if ready else ""
        assert line.startswith("RECORDING "), line
        path = line.split(" ", 1)[1].strip()
        time.sleep(7.3)  # mid-fragment, several fragments in
        killed_at = time.time()
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()

    db = Database(str(db_path))
    db.open()
    try:
        repo = RecordingsRepo(db)
        rows = repo.incomplete()
        assert [r.file_path for r in rows] == [path], "the open segment's row is is_complete=0"
        start = rows[0].start_time
        assert _decodable_seconds(path) >= killed_at - start - 2.0, "loses at most ~1 s"
        assert _recover(repo) == (1, 0)
        assert repo.incomplete() == []
        row = repo.get_by_path(path)
        assert row is not None and row.is_complete
        assert row.size_bytes == os.path.getsize(path)
        assert row.end_time is not None
        assert killed_at - 2.0 <= row.end_time <= killed_at + 0.5
    finally:
        db.close()
