"""Event snapshots (core/event_snapshots.py) on a real storage path: retention step 7 removes
them with their stream's detections, and a stream keeps at most the newest 100."""

from __future__ import annotations

import os
from pathlib import Path

from lightnvr.core.event_snapshots import KEPT_PER_STREAM, save_event_snapshot
from lightnvr.storage.manager import StorageManager
from tests.fixtures.db import TestDb

DAY = 86400.0
JPEG = b"\xff\xd8\xff\xe0 not decoded here \xff\xd9"


def _snapshot(root: Path, stream: str, wall: float) -> Path:
    url = save_event_snapshot(str(root), stream, wall, JPEG)
    path = root / url.removeprefix("/api/snapshots/")
    os.utime(path, (wall, wall))  # written at the event's time
    return path


def test_retention_removes_event_snapshots_past_the_detection_window(testdb: TestDb) -> None:
    """A stream keeping detections 2 days loses its 10-day-old JPEG, keeps yesterday's; a
    stream with unlimited retention keeps a 400-day-old one (as its detections)."""
    now = testdb.now
    testdb.add_stream("short", retention_days=3, detection_retention_days=2)
    testdb.add_stream("forever", retention_days=0)
    root = Path(testdb.storage_path) / "snapshots"
    old = _snapshot(root, "short", now - 10 * DAY)
    recent = _snapshot(root, "short", now - 1 * DAY)
    ancient = _snapshot(root, "forever", now - 400 * DAY)
    assert old.exists() and old.parent.name == "short"
    StorageManager(testdb.storage_config(retention_days=30), testdb.db).run_retention()
    assert not old.exists()
    assert recent.exists() and ancient.exists()


def test_a_stream_keeps_its_newest_event_snapshots(tmp_path: Path) -> None:
    """Writing past KEPT_PER_STREAM removes the oldest; the URL names the stream's folder
    (unsafe characters as '_') and the file the route serves."""
    base = 1_800_000_000.0
    paths = [_snapshot(tmp_path, "front door", base + i) for i in range(KEPT_PER_STREAM + 2)]
    assert [p.exists() for p in paths[:2]] == [False, False]
    assert all(p.exists() for p in paths[2:])
    assert {p.parent.name for p in paths} == {"front_door"}
