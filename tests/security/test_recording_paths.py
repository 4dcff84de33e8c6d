"""Issue #10 item 14: with relative storage paths (``make run``'s defaults) recording metadata
survives restarts and a deleted recording stays deleted, file and thumbnail included.

The real daemon runs with ``[storage] path = ./var/recordings`` from a temporary working
directory, recording the real RTSP test camera. The migration test builds a database the way
earlier lightnvr versions filled it (paths relative to the working directory, absolute paths,
a row re-registered beside its original) and checks that start-up reconciliation repairs the
paths without losing a row, an id, a protection flag, a tag or a detection link.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson

from lightnvr.core.recordings_store import SegmentOpened
from lightnvr.storage.manager import StorageManager
from lightnvr.storage.paths import recording_file, segment_files
from tests.fixtures.camera import TestCamera
from tests.fixtures.daemon import DaemonProcess, start_daemon
from tests.fixtures.db import TestDb, open_testdb
from tests.fixtures.wait import wait_until

# make run's defaults (conf/lightnvr.conf): every data path relative to the working directory
RELATIVE = {
    "storage": {"path": "./var/recordings", "path_hls": "./var/hls"},
    "database": {"path": "./var/lightnvr.db"},
}
SEGMENT_SECONDS = 2


def _wait(what: str, predicate: Any, timeout: float) -> Any:
    return wait_until(predicate, timeout, step=0.5, what=what)


def _complete(d: DaemonProcess) -> list[dict[str, Any]]:
    body = d.json("/api/recordings?stream=cam&limit=1000&sort=start_time&order=asc")
    return list(body["recordings"])


def _start(base: Path) -> DaemonProcess:
    return start_daemon(base, RELATIVE, cwd=base)


def _file_with_content(root: Path, data: bytes) -> Path:
    """The segment file under `root` holding exactly `data` (found by content, not by name)."""
    matches = [Path(p) for p in segment_files(str(root))
               if os.path.getsize(p) == len(data) and Path(p).read_bytes() == data]
    assert len(matches) == 1, matches
    return matches[0]


def _check_recording(d: DaemonProcess, rid: int, protected: bool, tags: list[str]) -> None:
    status, body = d.call("GET", f"/api/recordings/{rid}")
    assert status == 200, (rid, status, body[:300])
    rec = orjson.loads(body)
    assert rec["protected"] is protected, rec
    assert d.json(f"/api/recordings/{rid}/tags")["tags"] == tags


def test_metadata_and_deletions_survive_restarts_with_relative_paths(
        tmp_path: Path, rtsp_camera: TestCamera) -> None:
    base = tmp_path / "nvr"
    root = base / "var" / "recordings"
    d = _start(base)
    try:
        status, body = d.call("POST", "/api/streams", {
            "name": "cam", "url": rtsp_camera.url("file264"), "record": True,
            "streaming_enabled": False, "segment_duration": SEGMENT_SECONDS})
        assert status == 201, body
        recs = _wait("three complete recordings", lambda: len(_complete(d)) >= 3 and
                     _complete(d), 90)
        keep, gone = recs[0]["id"], recs[1]["id"]
        assert d.call("PUT", f"/api/recordings/{keep}/protect", {"protected": True})[0] == 200
        assert d.call("PUT", f"/api/recordings/{keep}/tags", {"tags": ["evidence"]})[0] == 200
        status, data = d.call("GET", f"/api/recordings/download/{gone}")
        assert status == 200 and data
        gone_file = _file_with_content(root, data)
        assert d.call("GET", f"/api/recordings/thumbnail/{gone}/0")[0] == 200
        thumbs = list(gone_file.parent.glob(gone_file.name + ".thumb*.jpg"))
        assert thumbs, "the thumbnail is cached beside its segment (docs/storage.md, Layout)"

        status, body = d.call("DELETE", f"/api/recordings/{gone}")
        assert status == 200, body
        assert not gone_file.exists(), "deleting a recording must remove its file"
        assert not any(t.exists() for t in thumbs), "... and its thumbnails"
        assert d.call("GET", f"/api/recordings/{gone}")[0] == 404
        assert d.stop() == 0, d.log_tail()
        before = _rows_of_stopped(base)
        assert keep in before and gone not in before

        for restart in (1, 2):  # the stream keeps recording: each run adds rows of its own
            d = _start(base)
            after = {r["id"]: r["start_time_unix"] for r in _complete(d)}
            lost = {i: t for i, t in before.items() if after.get(i) != t}
            assert not lost, f"restart {restart}: recordings lost or renumbered: {lost}"
            _check_recording(d, keep, True, ["evidence"])
            assert d.call("GET", f"/api/recordings/{gone}")[0] == 404, "a deleted one came back"
            assert not gone_file.exists() and not any(t.exists() for t in thumbs)
            assert d.stop() == 0, d.log_tail()
            before = _rows_of_stopped(base)
        check = subprocess.run([sys.executable, "-m", "lightnvr", "check", "-c",
                                str(base / "lightnvr.conf")], cwd=base, capture_output=True,
                               text=True, timeout=120)
        assert check.returncode == 0, check.stdout + check.stderr
    finally:
        if d.proc.poll() is None:
            d.stop()


def _rows_of_stopped(base: Path) -> dict[int, float]:
    """id -> start time of the complete rows of a stopped daemon's database."""
    conn = sqlite3.connect(str(base / "var" / "lightnvr.db"))
    try:
        rows = conn.execute("SELECT id, start_time FROM recordings WHERE is_complete = 1 "
                            "AND deleting = 0 AND stream_name = 'cam'").fetchall()
    finally:
        conn.close()
    return {int(r[0]): float(r[1]) for r in rows}


# -- the repair of rows written by earlier versions ---------------------------------------------

def _old_row(t: TestDb, stored: str, start: float, clip: bytes, file: Path) -> int:
    """A complete row holding `stored` verbatim, as an earlier lightnvr wrote it."""
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(clip)
    rid = t.recordings.segment_opened(SegmentOpened("front", stored, start, 320, 240, 10,
                                                    "h264"))
    t.recordings.segment_closed(rid, start + 0.4, len(clip))
    return rid


def test_migration_repairs_old_rows_without_losing_any(tmp_path: Path, real_clip: bytes,
                                                       monkeypatch: Any) -> None:
    t = open_testdb(tmp_path)
    try:
        # the storage path as `make run` configures it: relative to the working directory
        monkeypatch.chdir(tmp_path)
        root = Path(t.storage_path)
        rel_root = os.path.relpath(root, tmp_path)
        day = "front/2026/03/01"
        now = t.now - 86400
        # 1. relative to the working directory (./recordings/front/...): the rows item 14 lost
        cwd_rel = _old_row(t, f"./{rel_root}/{day}/front_a.mp4", now, real_clip,
                           root / day / "front_a.mp4")
        # 2. absolute (an absolute [storage] path)
        absolute = _old_row(t, str(root / day / "front_b.mp4"), now + 10, real_clip,
                            root / day / "front_b.mp4")
        # 3. a data directory that moved: the absolute path of its old place
        moved = _old_row(t, f"/srv/old-nvr/recordings/{day}/front_c.mp4", now + 20, real_clip,
                         root / day / "front_c.mp4")
        # 4. the original row of a file and the row a buggy restart registered for it again
        original = _old_row(t, f"{rel_root}/{day}/front_d.mp4", now + 30, real_clip,
                            root / day / "front_d.mp4")
        again = t.recordings.register(SegmentOpened(
            "front", str(root / day / "front_d.mp4"), now + 30, 320, 240, 10, "h264"),
            now + 30.4, len(real_clip))
        t.recordings.set_protected([cwd_rel, original], True)
        t.recordings.set_tags(cwd_rel, ["evidence"])
        t.recordings.set_tags(again, ["later"])
        t.recordings.set_retention_override(moved, 30)
        with t.db.writer() as c:
            c.execute("INSERT INTO detections(stream_name, timestamp, label, recording_id) "
                      "VALUES ('front', ?, 'person', ?)", (now + 31, again))
        ids = {cwd_rel, absolute, moved, original, again}
        assert len(ids) == 5

        for _ in range(2):  # the repair is idempotent: a second start changes nothing
            result = StorageManager(t.storage_config(path=rel_root), t.db).reconcile(
                startup=True)
            assert result.errors == 0 and result.rows_removed == 0
            assert result.files_registered == 0, "a file was registered as a new recording"
            rows = {r.id: r for r in t.recordings.all()}
            assert set(rows) == ids - {again}, "only the duplicate row of one file merges"
            for r in rows.values():
                assert not os.path.isabs(r.file_path) and not r.file_path.startswith(".")
                assert os.path.exists(recording_file(str(root), r.file_path)), r
            assert rows[cwd_rel].protected and t.recordings.tags(cwd_rel) == ["evidence"]
            assert rows[moved].retention_override_days == 30
            assert rows[original].protected and t.recordings.tags(original) == ["later"]
            with t.db.reader() as c:
                linked = c.execute("SELECT recording_id FROM detections").fetchone()[0]
            assert linked == original
            assert {recording_file(str(root), r.file_path) for r in rows.values()} == set(
                segment_files(str(root)))
    finally:
        t.db.close()
