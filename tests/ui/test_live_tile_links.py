"""A live tile says on its REC button why it is disabled, and jumps to the playback of its last
minutes (issue #18, live view): the real daemon, the real camera, Chromium."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fixtures.daemon import DaemonProcess, start_daemon
from tests.fixtures.ui_pages import checked_page, sign_in
from tests.fixtures.wait import wait_until
from tests.ui.conftest import WWW, shot

pytestmark = [pytest.mark.ui, pytest.mark.camera]


@pytest.fixture(scope="module")
def nvr(tmp_path_factory: pytest.TempPathFactory, rtsp_camera: Any) -> Iterator[DaemonProcess]:
    d = start_daemon(tmp_path_factory.mktemp("tiles"), {"web": {"root": WWW}})
    try:
        status, body = d.call("POST", "/api/streams", {  # records all the time
            "name": "gate", "url": rtsp_camera.url("live264na"), "segment_duration": 60})
        assert status in (200, 201), body
        yield d
    finally:
        d.stop()


def test_rec_button_says_why_and_last_minutes_play(nvr: DaemonProcess, chromium: Any) -> None:
    assert wait_until(lambda: nvr.json("/api/streams/gate")["state"] == "active", 30)
    time.sleep(6)  # a few seconds of footage to play back
    with checked_page(chromium) as page:
        sign_in(page, f"http://127.0.0.1:{nvr.port}", nvr.password, "#/live")
        tile = "article.tile[data-stream='gate']"
        rec = f"{tile} button.rec-btn"
        page.wait_for_selector(f"{rec}[disabled]", timeout=30000)
        # the reason is on the button itself, not only in its tooltip
        assert "always on" in page.inner_text(rec)
        shot(page, "live-tile-rec-reason")
        page.click(f"{tile} a.back-btn")
        page.wait_for_function("() => location.hash.startsWith('#/timeline')")
        assert "stream=gate" in page.evaluate("location.hash")
        video = "video.player[data-stream='gate']"
        page.wait_for_selector(video, timeout=15000)
        start = page.evaluate(f"document.querySelector(\"{video}\").currentTime")
        page.wait_for_function(
            f"(t) => document.querySelector(\"{video}\").currentTime > t + 1.0", arg=start,
            timeout=15000)
        shot(page, "live-tile-last-minutes")
