"""Zones for the motion detector: polygons drawn for a stream decide where motion counts.

Real daemon, camera and SQLite. The scene half264 has a ball moving in the right half of the
picture only. Stream `left` gets an include zone over the left half (where nothing moves),
stream `right` one over the right half, stream `masked` an exclude zone over the right half;
zones go through the zones API of a running stream and apply without a restart, and deleting
them brings the whole picture back.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from tests.fixtures.camera import TestCamera
from tests.fixtures.daemon import DaemonProcess
from tests.video.helpers import wait_until

pytestmark = [pytest.mark.camera, pytest.mark.slow]

LEFT = [{"x": 0.0, "y": 0.0}, {"x": 0.5, "y": 0.0}, {"x": 0.5, "y": 1.0}, {"x": 0.0, "y": 1.0}]
RIGHT = [{"x": 0.5, "y": 0.0}, {"x": 1.0, "y": 0.0}, {"x": 1.0, "y": 1.0}, {"x": 0.5, "y": 1.0}]


def _times(d: DaemonProcess, stream: str) -> list[float]:
    body = d.json(f"/api/events?kind=detection&stream={stream}&limit=1000")
    return sorted(e["timestamp"] for e in body["events"])


def test_motion_counts_only_inside_include_zones(daemon_factory: Any,
                                                 rtsp_camera: TestCamera) -> None:
    d: DaemonProcess = daemon_factory()
    for name in ("left", "right", "masked"):
        status, body = d.call("POST", "/api/streams", {
            "name": name, "url": rtsp_camera.url("half264"), "record": False,
            "streaming_enabled": False, "detection_based_recording": True,
            "detection_model": "motion", "detection_interval": 2, "motion_cooldown": 0})
        assert status in (200, 201), body
    for name, polygon, kind in (("left", LEFT, "include"), ("right", RIGHT, "include"),
                                ("masked", RIGHT, "exclude")):
        status, body = d.call("POST", f"/api/streams/{name}/zones", {"zones": [
            {"id": "z1", "name": "half", "polygon": polygon, "enabled": True, "type": kind},
            # a disabled zone over everything must change nothing
            {"id": "z2", "name": "all", "enabled": False,
             "polygon": [{"x": 0, "y": 0}, {"x": 1, "y": 0}, {"x": 1, "y": 1}]}]})
        assert status == 200, body
    threading.Event().wait(2.5)  # a frame analysed before the zones arrived
    t0 = time.time()
    assert wait_until(lambda: len([t for t in _times(d, "right") if t > t0]) >= 3, 20), \
        d.log_tail()
    assert [t for t in _times(d, "left") if t > t0] == [], "motion outside the zone"
    assert [t for t in _times(d, "masked") if t > t0] == [], "motion inside an exclude zone"
    zones = d.json("/api/streams/masked/zones")["zones"]
    assert [(z["id"], z["type"], z["enabled"]) for z in zones] == [
        ("z1", "exclude", True), ("z2", "include", False)]
    assert d.json("/api/streams/left")["detection"]["frames"] >= 3  # it did look

    # Without zones the whole picture counts again: at once, no restart.
    packets = d.json("/api/streams/left")["stats"]["packets"]
    status, body = d.call("DELETE", "/api/streams/left/zones")
    assert status == 200, body
    t1 = time.time()
    # 20 s: the detector looks every 2 s; under a loaded CI 10 s was once too short
    assert wait_until(lambda: [t for t in _times(d, "left") if t > t1], 20)
    assert d.json("/api/streams/left")["stats"]["packets"] > packets
