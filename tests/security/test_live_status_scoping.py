"""Issue #15 item 1 audit: GET /api/live/status names only the live feeds of streams the
caller's `allowed_tags` reach (the real daemon, the real RTSP test camera, MSE viewers).

The admin watches two streams; a user limited to one tag sees that stream's feed only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fixtures.daemon import DaemonProcess, start_daemon
from tests.fixtures.wait import wait_until
from tests.fixtures.web import ApiClient
from tests.video.live_ws import LiveClient

pytestmark = [pytest.mark.camera]
PW = "live-scope-pw-1"


@pytest.fixture(scope="module")
def nvr(tmp_path_factory: pytest.TempPathFactory, rtsp_camera: Any) -> Iterator[DaemonProcess]:
    d = start_daemon(tmp_path_factory.mktemp("live-scope"))
    try:
        for name, tags in (("yardcam", "yard"), ("hallcam", "indoor")):
            status, answer = d.call("POST", "/api/streams", {
                "name": name, "tags": tags, "record": False,
                "url": rtsp_camera.url("live264")})
            assert status in (200, 201), answer
        yield d
    finally:
        d.stop()


def test_live_status_lists_only_feeds_the_callers_tags_reach(nvr: DaemonProcess) -> None:
    status, answer = nvr.call("POST", "/api/auth/users", {
        "username": "ivy", "password": PW, "role": 2, "allowed_tags": "yard"})
    assert status == 200, answer
    ivy = ApiClient("127.0.0.1", nvr.port, basic=("ivy", PW))

    def active() -> bool:
        return all(nvr.json(f"/api/streams/{n}").get("state") == "active"
                   for n in ("yardcam", "hallcam"))

    assert wait_until(active, 30), nvr.log_tail()
    viewers = [LiveClient(nvr.port, name, auth=nvr.auth) for name in ("yardcam", "hallcam")]
    try:
        for v in viewers:
            v.header()
        assert nvr.json("/api/live/status")["feeds"] == {"yardcam": 1, "hallcam": 1}
        assert ivy.get("/api/live/status").json["feeds"] == {"yardcam": 1}
    finally:
        for v in viewers:
            v.close()
