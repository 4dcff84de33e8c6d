"""Motion settings through the streams API: stored, validated, applied without a restart.

Real daemon, real camera (moving264: a large ball always moving), real SQLite.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.detection.daemon_db import db_rows, detection_event_count
from tests.fixtures.camera import TestCamera
from tests.fixtures.daemon import DaemonProcess
from tests.video.helpers import wait_until

pytestmark = [pytest.mark.camera, pytest.mark.slow]


def _detection(d: DaemonProcess) -> dict[str, Any]:
    body = d.json("/api/streams/m")
    return {"packets": body["stats"]["packets"] if body.get("stats") else 0,
            **body["detection"]}



def test_motion_settings_apply_at_once_without_restarting_the_stream(
        daemon_factory: Any, rtsp_camera: TestCamera) -> None:
    d: DaemonProcess = daemon_factory()
    status, body = d.call("POST", "/api/streams", {
        "name": "m", "url": rtsp_camera.url("moving264"), "record": False,
        "streaming_enabled": False, "detection_based_recording": True,
        "detection_model": "motion", "detection_interval": 2, "motion_cooldown": 0})
    assert status in (200, 201), body
    assert wait_until(lambda: detection_event_count(d, "m") >= 2, 25), d.log_tail()

    # Out of range: refused, naming the field; nothing changes.
    status, body = d.call("PUT", "/api/streams/m", {"motion_min_area": 0})
    assert status == 400 and b"motion_min_area" in body, body
    status, body = d.call("PUT", "/api/streams/m", {"motion_sensitivity": 1.5})
    assert status == 400 and b"motion_sensitivity" in body, body

    # The whole picture must change: the moving ball no longer counts.
    status, body = d.call("PUT", "/api/streams/m", {"motion_min_area": 1.0})
    assert status == 200 and b'"restarted":false' in body, body
    before = _detection(d)
    threading.Event().wait(2.5)  # a frame sampled before the change may still report
    quiet_from, frames_from = detection_event_count(d, "m"), _detection(d)["frames"]
    threading.Event().wait(6.5)  # three more looks
    after = _detection(d)
    assert detection_event_count(d, "m") == quiet_from, "no motion event once min area is 100 %"
    assert after["frames"] >= frames_from + 2, "the detector kept looking (not restarted)"
    assert after["packets"] > before["packets"], "same reader: its packet count went on"
    assert after["state"] == "running"

    # Back to a person-sized minimum: events resume, still without a restart.
    status, body = d.call("PUT", "/api/streams/m", {"motion_min_area": 0.02})
    assert status == 200 and b'"restarted":false' in body, body
    assert wait_until(lambda: detection_event_count(d, "m") >= quiet_from + 2, 12)
    assert _detection(d)["packets"] >= after["packets"]

    # Stored where stream settings live (they survive a restart with the row).
    d.stop()
    (row,) = db_rows(d, "SELECT motion_min_area, motion_cooldown, detection_model FROM "
                        "streams WHERE name = 'm'")
    assert tuple(row) == (0.02, 0, "motion")
