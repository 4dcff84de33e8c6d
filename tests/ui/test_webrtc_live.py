"""The Live page offers WebRTC when the daemon's go2rtc serves it, and a tile whose WebRTC
cannot play goes on over MSE, saying why (headless Chromium, real daemon and camera).

The go2rtc here is the stand-in (tests/video/go2rtc_standin.py): it answers the offer with a
description no browser can apply, which is exactly a WebRTC failure the tile must survive.
WebRTC playing from the real go2rtc is tests/ui/test_webrtc_player.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fixtures.camera import TestCamera
from tests.fixtures.daemon import DaemonProcess, start_daemon
from tests.fixtures.wait import wait_until
from tests.ui.conftest import new_page
from tests.video.go2rtc_binaries import go2rtc_section, standin_go2rtc

pytestmark = [pytest.mark.ui, pytest.mark.camera]

TILE = "article.tile[data-stream='cam']"


@pytest.fixture(scope="module")
def nvr(tmp_path_factory: pytest.TempPathFactory,
        rtsp_camera: TestCamera) -> Iterator[DaemonProcess]:
    base = tmp_path_factory.mktemp("webrtc-live")
    d = start_daemon(base / "nvr", {"go2rtc": go2rtc_section(base, standin_go2rtc(base / "bin"))})
    try:
        status, body = d.call("POST", "/api/streams",
                              {"name": "cam", "url": rtsp_camera.url("live264"), "record": False})
        assert status == 201, body
        wait_until(lambda: d.json("/api/go2rtc/status")["streams"] == ["cam"]
                   and d.json("/api/go2rtc/status")["ready"], 20, what="go2rtc serving cam")
        wait_until(lambda: d.json("/api/streams/cam")["state"] == "active", 30,
                   what="stream cam active")
        yield d
    finally:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait(10)


def _live(chromium: Any, d: DaemonProcess, mode: str | None = None) -> Any:
    page = new_page(chromium)
    script = "localStorage.setItem('lightnvr.layout', '1');"
    if mode is not None:
        script += f"localStorage.setItem('lightnvr.liveMode', '{mode}');"
    page.add_init_script(script)
    page.goto(f"http://127.0.0.1:{d.port}/#/live")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", d.password)
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('Live')")
    return page


def test_webrtc_is_offered_and_a_failed_tile_goes_on_over_mse(nvr: DaemonProcess,
                                                              chromium: Any) -> None:
    page = _live(chromium, nvr)
    try:
        page.wait_for_selector("select[aria-label='Live view mode'] option[value=webrtc]",
                               state="attached")
        page.select_option("select[aria-label='Live view mode']", "webrtc")
        # the tile tried WebRTC (the offer reached go2rtc), could not apply the answer, and
        # plays over MSE with the reason in the badge's title
        kind = page.wait_for_selector(f"{TILE} .live-kind[data-kind=mse]", timeout=20000)
        assert kind is not None
        assert kind.get_attribute("title").startswith("MSE: ")
        page.wait_for_function(
            f"""() => {{ const v = document.querySelector("{TILE} video");
                return v && v.readyState >= 2 && v.currentTime > 0.5; }}""", timeout=30000)
        # remembered in this browser: the next visit asks for WebRTC again
        assert page.evaluate("localStorage.getItem('lightnvr.liveMode')") == "webrtc"
        assert not page.problems, page.problems  # a failed WebRTC is handled, not thrown
    finally:
        page.context.close()
    log = (nvr.base.parent / "go2rtc" / "go2rtc.log").read_text()
    assert "POST /go2rtc/api/webrtc?src=cam" in log  # our proxy handed go2rtc the offer
