"""Live overlay data over HTTP: the real daemon watching the real test camera.

`GET /api/detection/results/{stream}` (LightNVR's live-view route) carries `motion`: the
built-in detector's latest analysed frame, with the moving grid cells and their box
(normalised 0..1) and the frame's time. On `moving264` (a large ball always moving) cells
appear; on `still264` (static bars with sensor-like noise) the detector analyses frames and
reports no cells; a stream without detection has no motion block.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.fixtures.camera import TestCamera
from tests.fixtures.daemon import DaemonProcess
from tests.fixtures.wait import wait_until

pytestmark = [pytest.mark.camera, pytest.mark.slow]

MOTION: dict[str, Any] = {"detection_based_recording": True, "detection_model": "motion",
          "detection_interval": 1, "record": False, "streaming_enabled": False}


def _motion(d: DaemonProcess, name: str) -> Any:
    return d.json(f"/api/detection/results/{name}")["motion"]


def _inside(b: dict[str, float]) -> bool:
    return (0 <= b["x"] < 1 and 0 <= b["y"] < 1 and 0 < b["width"] <= 1 - b["x"] + 1e-6
            and 0 < b["height"] <= 1 - b["y"] + 1e-6)


def test_live_motion_cells_appear_on_motion_and_not_on_a_still_scene(
        rtsp_camera: TestCamera, daemon_factory: Callable[..., DaemonProcess]) -> None:
    d = daemon_factory()
    streams: dict[str, tuple[str, dict[str, Any]]] = {
        "moving": ("moving264", MOTION), "still": ("still264", MOTION),
        "plain": ("still264", {"record": False, "streaming_enabled": False})}
    for name, (mount, extra) in streams.items():
        status, body = d.call("POST", "/api/streams",
                              {"name": name, "url": rtsp_camera.url(mount), **extra})
        assert status in (200, 201), body
    assert wait_until(lambda: all(d.json(f"/api/streams/{n}")["state"] == "active"
                                  for n in streams), 20), d.log_tail()

    seen: list[dict[str, Any]] = []

    def moving_cells() -> bool:
        m = _motion(d, "moving")
        if m is not None and m["cells"]:
            seen.append(m)
        return bool(seen)

    assert wait_until(moving_cells, 20, step=0.3), d.log_tail()
    m = seen[0]
    assert m["moving"] is True and m["area"] > 0
    assert abs(m["timestamp"] - time.time()) < 10  # the time of a current frame
    assert all(_inside(c) for c in m["cells"]) and _inside(m["box"])
    box = m["box"]  # the box bounds the cells
    for c in m["cells"]:
        assert box["x"] - 1e-3 <= c["x"] and c["x"] + c["width"] <= box["x"] + box["width"] + 1e-3
        assert box["y"] - 1e-3 <= c["y"] and c["y"] + c["height"] <= box["y"] + box["height"] + 1e-3

    # The still scene: several frames analysed, never a cell (each answer is a fresh frame).
    assert wait_until(lambda: d.json("/api/streams/still")["detection"]["frames"] >= 4, 20), \
        d.log_tail()
    stamps = set()
    for _ in range(3):
        s = _motion(d, "still")
        assert s is not None and s["cells"] == [] and s["moving"] is False and s["box"] is None
        stamps.add(s["timestamp"])
        wait_until(lambda: _motion(d, "still")["timestamp"] not in stamps, 5, step=0.2)
    assert len(stamps) >= 2  # it was looked at while we asked, not a stale answer

    # Without detection there is nothing current to draw.
    assert _motion(d, "plain") is None
