"""Stream API end to end: the real RTSP camera, the real StreamManager, SQLite and HTTP.

What tests/web/test_api_streams.py and test_api_media.py check against a stand-in manager
(probe, stream statistics, snapshot), here against the real pipeline: the numbers and the
picture a user gets come from the camera, not from a double.
"""

from __future__ import annotations

import io
import socket
from typing import Any

import av
import pytest

from tests.fixtures.wait import wait_until
from tests.fixtures.web import LiveWeb

pytestmark = pytest.mark.camera


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _jpeg_size(data: bytes) -> tuple[int, int]:
    """Width and height of the JPEG `data`, by decoding it (a broken image raises)."""
    with av.open(io.BytesIO(data), mode="r", format="mjpeg") as c:
        frame = next(c.decode(video=0))
        return frame.width, frame.height


def test_probe_reports_the_cameras_codec_and_size(web: LiveWeb, rtsp_camera: Any) -> None:
    r = web.api.post("/api/streams/test", json={"url": rtsp_camera.url("live264"),
                                                "protocol": 0})
    assert r.status == 200 and r.json["success"] is True, r.text
    info = r.json["info"]
    assert (info["codec"], info["width"], info["height"]) == ("h264", 640, 360), info
    assert info["audio_codec"] == "aac", info
    dead = f"rtsp://127.0.0.1:{_closed_port()}/live264"
    r = web.api.post("/api/streams/test", json={"url": dead})
    assert r.status == 200 and r.json["success"] is False and r.json["message"], r.text


def test_stream_statistics_and_snapshot_come_from_the_camera(web: LiveWeb,
                                                             rtsp_camera: Any) -> None:
    r = web.api.post("/api/streams", json={"name": "cam", "url": rtsp_camera.url("live264"),
                                           "record": False})
    assert r.status == 201, r.text

    def cam() -> dict[str, Any]:
        rows = {s["name"]: s for s in web.api.get("/api/streams").json}
        return dict(rows["cam"])

    assert wait_until(lambda: cam()["state"] == "active"
                      and (cam()["stats"] or {}).get("packets", 0) > 0, 30), cam()
    first = cam()["stats"]["packets"]
    # the counter follows the live camera: it keeps growing
    assert wait_until(lambda: cam()["stats"]["packets"] > first + 15, 30), (first, cam())
    snap: list[bytes] = []

    def got_snapshot() -> bool:
        r = web.api.get("/api/streams/cam/snapshot")
        if r.status == 200 and r.headers["content-type"] == "image/jpeg":
            snap.append(r.body)
            return True
        return False

    assert wait_until(got_snapshot, 30), "no snapshot from the camera"
    assert _jpeg_size(snap[0]) == (640, 360)
    alias = web.api.get("/go2rtc/api/frame.jpeg?src=cam")
    assert alias.status == 200 and _jpeg_size(alias.body) == (640, 360)
