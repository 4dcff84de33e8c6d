"""Every-frame detection for long-GOP cameras: the real daemon, the real test camera, SQLite.

Two streams watch the camera's `longgop264` mount (a ball always moving, one keyframe every
10 s: GOP 150 at 15 fps) with detection_interval 1 s. `kf` keeps the default (keyframes only);
`every` is switched to `detection_every_frame` through the API while it runs. Over one shared
window the keyframe stream analyses (and sees motion in) at most one frame per GOP, the
every-frame stream one per interval - counted from each stream's `detection` status block.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from tests.fixtures.camera import TestCamera
from tests.fixtures.daemon import DaemonProcess
from tests.fixtures.wait import wait_until

pytestmark = [pytest.mark.camera, pytest.mark.slow]

GOP = 10.0     # tools/test_camera.py LONG_GOP_SECONDS
WINDOW = 10.0  # seconds observed: at most two keyframes fall in it
MOTION = {"detection_based_recording": True, "detection_model": "motion",
          "detection_interval": 1, "record": False, "streaming_enabled": False}


def _det(d: DaemonProcess, name: str) -> dict[str, Any]:
    body = d.json(f"/api/streams/{name}")
    assert body["state"] == "active", (body, d.log_tail())
    det: dict[str, Any] = body["detection"]
    return {**det, "reconnects": body["stats"]["reconnects"]}


def test_every_frame_detects_at_the_interval_on_a_long_gop(
        rtsp_camera: TestCamera, daemon_factory: Callable[..., DaemonProcess]) -> None:
    d = daemon_factory()
    for name in ("kf", "every"):
        status, body = d.call("POST", "/api/streams",
                              {"name": name, "url": rtsp_camera.url("longgop264"), **MOTION})
        assert status in (200, 201), body
    assert wait_until(lambda: all(d.json(f"/api/streams/{n}")["state"] == "active"
                                  for n in ("kf", "every")), 20), d.log_tail()
    assert _det(d, "every")["state"] == "running"

    # A wrong value is refused, naming the field; nothing changes.
    status, raw = d.call("PUT", "/api/streams/every", {"detection_every_frame": "often"})
    assert status == 400, raw
    assert "detection_every_frame" in orjson.loads(raw)["error"]

    # Both detectors have started in keyframe mode (each has analysed a keyframe).
    assert wait_until(lambda: all(_det(d, n)["frames"] >= 1 for n in ("kf", "every")),
                      GOP + 8), d.log_tail()
    running = _det(d, "every")
    status, raw = d.call("PUT", "/api/streams/every", {"detection_every_frame": True})
    assert status == 200, raw
    # Applied in place: a restarted stream would have a new detector counting from zero.
    assert _det(d, "every")["frames"] >= running["frames"]
    assert d.json("/api/streams/every")["detection_every_frame"] is True
    assert d.json("/api/streams/kf")["detection_every_frame"] is False

    # Every-frame decoding starts at the next keyframe; then the window begins.
    assert wait_until(lambda: _det(d, "every")["frames"] >= running["frames"] + 3,
                      GOP + 8), d.log_tail()
    before = {n: _det(d, n) for n in ("kf", "every")}
    end = time.monotonic() + WINDOW
    wait_until(lambda: time.monotonic() >= end, WINDOW + 5, step=0.5)
    after = {n: _det(d, n) for n in ("kf", "every")}

    kf = {k: after["kf"][k] - before["kf"][k] for k in ("frames", "moving")}
    every = {k: after["every"][k] - before["every"][k] for k in ("frames", "moving")}
    # keyframes only: at most one frame per GOP (two keyframes fit in the window)
    assert kf["frames"] <= WINDOW // GOP + 1, (kf, every)
    assert kf["moving"] <= WINDOW // GOP + 1, (kf, every)
    # every frame: about one per interval (10 expected; half of that on a busy machine)
    assert every["frames"] >= WINDOW / 2, (kf, every)
    assert every["moving"] >= WINDOW / 2, (kf, every)
    assert after["every"]["reconnects"] == 0

    # The setting is stored (the row the daemon reloads at start-up).
    conn = sqlite3.connect(f"file:{d.base / 'db' / 'lightnvr.db'}?mode=ro", uri=True)
    try:
        rows = dict(conn.execute("SELECT name, detection_every_frame FROM streams"))
    finally:
        conn.close()
    assert rows == {"kf": 0, "every": 1}
