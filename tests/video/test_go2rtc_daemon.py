"""go2rtc managed by the real daemon, with the real test camera: status, the authenticated
WebRTC offer proxy, streams kept in step with the API, restart after a kill, no credential
leaks, stopped with the daemon; and a missing binary that leaves HLS working.

The go2rtc here is the stand-in (tests/video/go2rtc_standin.py): the real binary cannot be
fetched on every machine. WebRTC playing from the real go2rtc is tests/ui/test_webrtc_play.py.
"""

from __future__ import annotations

import base64
import http.client
import os
import signal
import stat
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.fixtures.accounts import basic_call
from tests.fixtures.camera import TestCamera
from tests.fixtures.daemon import DaemonProcess, start_daemon
from tests.fixtures.wait import wait_until
from tests.video.go2rtc_binaries import go2rtc_section, standin_go2rtc

SECRET = "cam-Secret-77"
OFFER = b"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"

pytestmark = pytest.mark.camera


def _offer(d: DaemonProcess, src: str | None, body: bytes = OFFER,
           ctype: str = "application/sdp", auth: bool = True,
           path: str = "/go2rtc/api/webrtc") -> tuple[int, str, bytes]:
    """POST an SDP offer as LightNVR's UI does: (status, Content-Type, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=30)
    headers = {"Content-Type": ctype, "X-Requested-With": "test"}
    if auth:
        raw = base64.b64encode(f"admin:{d.password}".encode()).decode()
        headers["Authorization"] = f"Basic {raw}"
    try:
        conn.request("POST", path + (f"?src={src}" if src is not None else ""), body=body,
                     headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type") or "", resp.read()
    finally:
        conn.close()


def _status(d: DaemonProcess) -> dict[str, Any]:
    data: dict[str, Any] = d.json("/api/go2rtc/status")
    return data


@pytest.fixture(scope="module")
def nvr(tmp_path_factory: pytest.TempPathFactory,
        rtsp_camera: TestCamera) -> Iterator[DaemonProcess]:
    base = tmp_path_factory.mktemp("go2rtc-daemon")
    section = go2rtc_section(base, standin_go2rtc(base / "bin"))
    d = start_daemon(base / "nvr", {"go2rtc": section})
    try:
        url = rtsp_camera.url("live264").replace("rtsp://", f"rtsp://viewer:{SECRET}@")
        status, body = d.call("POST", "/api/streams", {"name": "cam", "url": url})
        assert status == 201, body
        wait_until(lambda: _status(d)["ready"] and _status(d)["streams"] == ["cam"], 20,
                   what="go2rtc running with stream cam")
        yield d
    finally:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait(10)


def test_status_and_system_status_show_a_running_go2rtc(nvr: DaemonProcess) -> None:
    st = _status(nvr)
    assert st["state"] == "running" and st["webrtc_available"] is True and st["error"] == ""
    assert isinstance(st["pid"], int)
    system = nvr.json("/api/system/status")
    assert system["go2rtc"]["state"] == "running"


def test_offer_is_proxied_to_go2rtc_only_for_authenticated_callers(nvr: DaemonProcess) -> None:
    for path in ("/go2rtc/api/webrtc", "/api/go2rtc/webrtc"):
        status, ctype, body = _offer(nvr, "cam", path=path)
        assert status == 200, body
        assert ctype.startswith("application/sdp")
        # what go2rtc answered, for the stream and the offer we sent
        assert b"s=standin cam" in body and f"offer-bytes:{len(OFFER)}".encode() in body
    status, _, body = _offer(nvr, "cam", auth=False)
    assert status == 401 and "error" in orjson.loads(body)


@pytest.mark.parametrize(("src", "body", "ctype", "want"), [
    (None, OFFER, "application/sdp", 400),
    ("nope", OFFER, "application/sdp", 404),
    ("cam", OFFER, "text/plain", 415),       # what a cross-site form could send
    ("cam", b"  ", "application/sdp", 400),
])
def test_bad_offers_get_4xx_with_a_json_error(nvr: DaemonProcess, src: str | None, body: bytes,
                                              ctype: str, want: int) -> None:
    status, got_type, answer = _offer(nvr, src, body, ctype)
    assert status == want, answer
    assert got_type.startswith("application/json") and orjson.loads(answer)["error"]


def test_go2rtc_config_holds_the_camera_password_and_nothing_else_shows_it(
        nvr: DaemonProcess) -> None:
    conf = next((nvr.base.parent / "go2rtc").glob("go2rtc.yaml"))
    assert SECRET in conf.read_text()  # go2rtc needs it to pull from the camera
    assert stat.S_IMODE(conf.stat().st_mode) == 0o600
    assert SECRET not in nvr.log_tail(10_000_000)
    for path in ("/api/go2rtc/status", "/api/system/status"):
        assert SECRET.encode() not in nvr.call("GET", path)[1]


def test_stream_changes_reach_go2rtc(nvr: DaemonProcess, rtsp_camera: TestCamera) -> None:
    status, body = nvr.call("POST", "/api/streams",
                            {"name": "yard", "url": rtsp_camera.url("live264na")})
    assert status == 201, body
    try:
        wait_until(lambda: _status(nvr)["ready"] and "yard" in _status(nvr)["streams"], 15,
                   what="stream yard served by go2rtc")
        assert _offer(nvr, "yard")[0] == 200
    finally:
        nvr.call("DELETE", "/api/streams/yard?permanent=true")
    wait_until(lambda: _status(nvr)["ready"] and _status(nvr)["streams"] == ["cam"], 15,
               what="stream yard gone from go2rtc")


def test_slow_offers_hold_at_most_half_the_api_workers(nvr: DaemonProcess,
                                                      rtsp_camera: TestCamera) -> None:
    status, body = nvr.call("POST", "/api/streams",
                            {"name": "slowcam", "url": rtsp_camera.url("live264na")})
    assert status == 201, body
    try:
        wait_until(lambda: _status(nvr)["ready"] and "slowcam" in _status(nvr)["streams"], 15,
                   what="stream slowcam served by go2rtc")
        # [web] web_thread_pool_size = 8: 4 offers at a time, the fifth is turned away
        with ThreadPoolExecutor(5) as pool:
            offers = [pool.submit(_offer, nvr, "slowcam") for _ in range(5)]
            wait_until(lambda: any(f.done() for f in offers), 10, what="an answer")
            assert nvr.call("GET", "/api/health", auth=False)[0] == 200  # the rest still work
            results = [f.result() for f in offers]
        assert sorted(r[0] for r in results) == [200, 200, 200, 200, 503], results
        refused = next(r for r in results if r[0] == 503)
        assert "proxy_max_inflight" in orjson.loads(refused[2])["error"]
    finally:
        nvr.call("DELETE", "/api/streams/slowcam?permanent=true")
    wait_until(lambda: _status(nvr)["ready"] and _status(nvr)["streams"] == ["cam"], 15,
               what="stream slowcam gone from go2rtc")


def test_killed_go2rtc_is_restarted_by_the_daemon_within_5s(nvr: DaemonProcess) -> None:
    before = _status(nvr)
    os.kill(before["pid"], signal.SIGKILL)
    killed = time.monotonic()
    after = wait_until(lambda: (s := _status(nvr))["ready"] and s["pid"] != before["pid"] and s,
                       5.0, step=0.05, what="go2rtc running again")
    assert time.monotonic() - killed <= 5.0
    assert after["restarts"] == before["restarts"] + 1
    assert "signal 9" in after["last_exit"]
    assert _offer(nvr, "cam")[0] == 200


def test_daemon_stop_stops_go2rtc(nvr: DaemonProcess) -> None:
    # last in this module: it stops the shared daemon
    pid = _status(nvr)["pid"]
    assert nvr.stop() == 0
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert f"go2rtc (pid {pid}) stopped" in nvr.log_tail(10_000_000)


def test_missing_binary_is_a_clear_status_and_hls_still_plays(
        tmp_path: Path, rtsp_camera: TestCamera) -> None:
    missing = tmp_path / "no" / "go2rtc"
    d = start_daemon(tmp_path / "nvr", {"go2rtc": go2rtc_section(tmp_path, missing)})
    try:
        status, body = d.call("POST", "/api/streams",
                              {"name": "cam", "url": rtsp_camera.url("live264")})
        assert status == 201, body
        st = wait_until(lambda: (s := _status(d))["state"] == "error" and s, 15,
                        what="go2rtc error state")
        assert str(missing) in st["error"] and "[go2rtc] binary_path" in st["error"]
        assert st["ready"] is False and st["webrtc_available"] is False
        assert d.json("/api/system/status")["go2rtc"]["error"] == st["error"]
        # a viewer learns what is wrong, not where the files are
        status, body = d.call("POST", "/api/auth/users",
                              {"username": "vera", "password": "vera-Pass-123", "role": 2})
        assert status in (200, 201), body
        for path in ("/api/go2rtc/status", "/api/system/status"):
            status, body = basic_call(d.port, "GET", path, None, ("vera", "vera-Pass-123"))
            assert status == 200 and b"binary_path" in body and str(tmp_path).encode() \
                not in body, body
        status, _, answer = _offer(d, "cam")
        assert status == 503 and "binary" in orjson.loads(answer)["error"]
        # live view without go2rtc: the HLS playlist and its segments are served
        wait_until(lambda: d.call("GET", "/hls/cam/index.m3u8")[0] == 200, 30,
                   what="the HLS playlist")
        assert b"#EXTM3U" in d.call("GET", "/hls/cam/index.m3u8")[1]
        assert d.stop() == 0
    finally:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait(10)
