"""A zone drawn in the UI's editor takes effect on the real daemon's motion detector.

Real daemon (`python -m lightnvr`), the GStreamer test camera's `half264` scene (a ball moving in
the right half of the picture only) and Chromium. The editor shows the stream's current
snapshot; an include zone drawn over the left half silences the detector while it keeps looking
at frames; turning the same zone into an exclude zone in the editor lets the motion on the right
count again, without a restart. Live view's "Detections" switch then draws the detector's moving
cells over the tile.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from tests.fixtures.camera import TestCamera
from tests.fixtures.daemon import DaemonProcess
from tests.fixtures.ui_pages import checked_page, draw_zone, sign_in
from tests.fixtures.wait import wait_until
from tests.ui.conftest import WWW, shot

pytestmark = [pytest.mark.ui, pytest.mark.slow, pytest.mark.camera]


def _events_after(d: DaemonProcess, t0: float) -> list[float]:
    body = d.json("/api/events?kind=detection&stream=yard&limit=1000")
    return [e["timestamp"] for e in body["events"] if e["timestamp"] > t0]


def _frames(d: DaemonProcess) -> int:
    return int(d.json("/api/streams/yard")["detection"]["frames"])


def test_zone_drawn_in_chromium_decides_where_motion_counts(
        daemon_factory: Any, rtsp_camera: TestCamera, chromium: Any) -> None:
    d: DaemonProcess = daemon_factory({"web": {"root": WWW}})
    status, body = d.call("POST", "/api/streams", {
        "name": "yard", "url": rtsp_camera.url("half264"), "record": False,
        "streaming_enabled": False, "detection_based_recording": True,
        "detection_model": "motion", "detection_interval": 2,
        "motion_cooldown": 0})
    assert status in (200, 201), body
    wait_until(lambda: d.call("GET", "/api/streams/yard/snapshot")[0] == 200, 30,
               what="a snapshot of yard")
    with checked_page(chromium) as page:
        sign_in(page, f"http://127.0.0.1:{d.port}", d.password, "#/streams")
        page.click("button[aria-label='Edit yard']")
        page.click("form.stream-form summary:has-text('Video details and detection')")
        # the picture under the pen is the camera's current frame
        page.wait_for_function("() => { const i = document.querySelector('img.zone-snapshot');"
                               " return i && i.complete && i.naturalWidth > 0; }")
        draw_zone(page, [(0.02, 0.02), (0.45, 0.02), (0.45, 0.98), (0.02, 0.98)])
        page.fill("input[name=zone-name-0]", "Left half")
        page.click("button:has-text('Save zones')")
        page.wait_for_selector("text=Zones of yard saved")
        shot(page, "zone-editor-daemon")
        zones = d.json("/api/streams/yard/zones")["zones"]
        assert [(z["name"], z["type"], z["enabled"]) for z in zones] == [
            ("Left half", "include", True)]

        # Include zone on the left, motion on the right: the detector looks, and stays quiet.
        threading.Event().wait(2.5)  # a frame analysed before the zone arrived may still report
        t0, frames0 = time.time(), _frames(d)
        wait_until(lambda: _frames(d) >= frames0 + 3, 30, step=0.5, what="3 frames analysed")
        assert _events_after(d, t0) == [], "motion outside the include zone made an event"

        # The same polygon as an exclude zone: the right half counts again, at once.
        page.select_option("select[name=zone-type-0]", "exclude")
        page.click("button:has-text('Save zones')")
        page.wait_for_selector("text=Zones of yard saved >> nth=-1")
        t1 = time.time()
        assert wait_until(lambda: _events_after(d, t1), 20, step=0.5,
                          what="a motion event with the exclude zone"), d.log_tail()

        # Live view draws the detector's current cells and box over the tile when asked.
        page.goto(f"http://127.0.0.1:{d.port}/#/live")
        page.click("button[aria-pressed]:has-text('Detections')")
        page.wait_for_selector("article.tile[data-stream='yard'] svg.det-overlay"
                               "[data-moving=true] rect.det-cell", state="attached",
                               timeout=20000)
        shot(page, "live-detection-overlay")
