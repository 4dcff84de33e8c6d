"""Detection schedule and cross-stream trigger: the real daemon, camera and SQLite.

Three streams in one daemon: `on` (moving scene, motion detection, no schedule), `off` (the
same scene, detection schedule all '0': off-hours all week) and `follower` (a still scene, no
detector, `motion_trigger_source = on`: LightNVR's cross-stream trigger).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import av
import pytest

from tests.fixtures.camera import TestCamera
from tests.fixtures.daemon import DaemonProcess
from tests.video.helpers import wait_until

pytestmark = [pytest.mark.camera, pytest.mark.slow]

BASE = {"record": False, "streaming_enabled": False, "detection_interval": 2,
        "pre_detection_buffer": 1, "post_detection_buffer": 2}
MOTION = {**BASE, "detection_based_recording": True, "detection_model": "motion"}


def _events(d: DaemonProcess, stream: str) -> int:
    return int(d.json(f"/api/events?kind=detection&stream={stream}&limit=1000")["count"])


def _create(d: DaemonProcess, name: str, url: str, **fields: Any) -> None:
    status, body = d.call("POST", "/api/streams", {"name": name, "url": url, **fields})
    assert status in (200, 201), body


def test_off_hours_schedule_records_nothing_and_a_follower_records_with_its_source(
        daemon_factory: Any, rtsp_camera: TestCamera) -> None:
    d: DaemonProcess = daemon_factory()
    _create(d, "on", rtsp_camera.url("moving264"), **MOTION)
    _create(d, "off", rtsp_camera.url("moving264"), **MOTION,
            detection_schedule=[False] * 168)
    _create(d, "follower", rtsp_camera.url("still264"), **BASE, motion_trigger_source="on")
    assert wait_until(lambda: _events(d, "on") >= 2, 25), d.log_tail()
    # A few more looks for "off" and a clip for "follower"; the off-hours then last longer
    # than the pre-event buffer, so a recording made in them shows at the end.
    threading.Event().wait(6)
    off = d.json("/api/streams/off")
    assert off["state"] == "active" and off["detection"]["state"] == "running"
    assert off["detection"]["frames"] == 0 and _events(d, "off") == 0
    assert d.json("/api/streams/on")["detection"]["frames"] >= 2
    assert d.json("/api/streams/off")["detection_schedule"] == [False] * 168

    # The schedule opens: detection starts at once, without a restart.
    status, body = d.call("PUT", "/api/streams/off", {"detection_schedule": [True] * 168})
    assert status == 200 and b'"restarted":false' in body, body
    assert wait_until(lambda: _events(d, "off") >= 1, 10)

    assert d.stop() == 0
    conn = sqlite3.connect(f"file:{d.base / 'db' / 'lightnvr.db'}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT stream_name, trigger_type, file_path, start_time, end_time "
                            "FROM recordings WHERE is_complete = 1").fetchall()
        first_off_event = conn.execute(
            "SELECT MIN(timestamp) FROM detections WHERE stream_name = 'off'").fetchone()[0]
    finally:
        conn.close()
    follower = [r for r in rows if r[0] == "follower"]
    assert follower and all(r[1] == "detection" for r in follower), rows
    with av.open(str(Path(d.base / "rec") / follower[0][2])) as c:
        assert sum(1 for _ in c.decode(video=0)) > 15
    off_clips = [r for r in rows if r[0] == "off"]
    assert first_off_event is not None
    # The clip of "off" begins only around its first detection (schedule opened), never
    # during the off-hours before it: pre buffer 1 s + two intervals 4 s
    # (event_recording.pre_event_seconds) + a GOP 2 s, + 0.5 s.
    assert off_clips and min(r[3] for r in off_clips) >= first_off_event - 7.5
