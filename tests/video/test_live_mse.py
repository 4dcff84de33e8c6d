"""MSE live view end to end: the real daemon, the real RTSP test camera, WebSocket clients.

One daemon for the module (streams `cam`: live264, H.264 + AAC; `tiles`: live264 with the
audio-less live264na as its sub-stream).
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from tests.fixtures.daemon import DaemonProcess, start_daemon
from tests.fixtures.wait import wait_until
from tests.video.live_ws import LiveClient, Rejected

pytestmark = [pytest.mark.camera]


@pytest.fixture(scope="module")
def live_daemon(tmp_path_factory: pytest.TempPathFactory,
                rtsp_camera: object) -> Iterator[DaemonProcess]:
    d = start_daemon(tmp_path_factory.mktemp("live") / "d")
    try:
        cam = rtsp_camera
        for body in ({"name": "cam", "url": cam.url("live264")},  # type: ignore[attr-defined]
                     {"name": "tiles", "url": cam.url("live264"),  # type: ignore[attr-defined]
                      "sub_stream_url": cam.url("live264na")}):  # type: ignore[attr-defined]
            status, answer = d.call("POST", "/api/streams", body)
            assert status in (200, 201), answer
        assert wait_until(lambda: all(s.get("state") == "active"
                                      for s in _streams(d)), 30), d.log_tail()
        yield d
    finally:
        assert d.stop() == 0, d.log_tail()


def _streams(d: DaemonProcess) -> list[dict[str, object]]:
    return [d.json(f"/api/streams/{n}") for n in ("cam", "tiles")]


def _live(d: DaemonProcess) -> dict[str, object]:
    return dict(d.json("/api/live/status"))


def _decode(init: bytes, frags: list[bytes]) -> tuple[list[bool], int]:
    """(key flag of each decoded video frame, decoded audio frames)."""
    with av.open(io.BytesIO(init + b"".join(frags)), "r") as inp:
        keys = [bool(f.key_frame) for f in inp.decode(video=0)]
    audio = 0
    with av.open(io.BytesIO(init + b"".join(frags)), "r") as inp:
        if inp.streams.audio:
            audio = sum(1 for _ in inp.decode(audio=0))
    return keys, audio


def test_joining_the_camera_mid_gop_is_not_counted_as_dropped(
        live_daemon: DaemonProcess) -> None:
    """Each queue skips the video before its first keyframe (a stream joins mid-GOP); that is
    no loss, so a healthy stream's "dropped" (System page, metrics) stays 0 - it read ~44 on a
    one-minute-old stream before."""
    def stats() -> dict[str, int]:
        return dict(live_daemon.json("/api/streams/cam")["stats"])

    assert wait_until(lambda: stats()["packets"] > 200, 60), stats()
    assert stats()["dropped"] == 0, stats()


def test_feed_starts_on_a_keyframe_and_plays_with_audio(live_daemon: DaemonProcess) -> None:
    with LiveClient(live_daemon.port, "cam", auth=live_daemon.auth) as c:
        header = c.header()
        init, frags = c.collect(3.0)
    assert header["type"] == "init"
    assert header["mime"].startswith('video/mp4; codecs="avc1.')
    assert "mp4a.40.2" in header["mime"] and header["audio"] is True
    assert (header["width"], header["height"]) == (640, 360)
    keys, audio = _decode(init, frags)
    assert keys and keys[0], "the first frame a viewer gets must be a keyframe"
    assert len(keys) >= 20, f"only {len(keys)} frames in 3 s at 15 fps"
    assert audio > 20, "AAC must reach the viewer"
    # short fragments: about one per video frame, not one per GOP (live264: 30 frames)
    assert len(frags) >= 0.8 * len(keys)


def _first_video_packet_is_key(init: bytes, frags: list[bytes]) -> bool:
    """As FFmpeg's mp4 demuxer reads the sample flags of the first video sample."""
    with av.open(io.BytesIO(init + b"".join(frags)), "r") as inp:
        for pkt in inp.demux(video=0):
            if pkt.size:
                return bool(pkt.is_keyframe)
    raise AssertionError("no video packet")


def test_one_muxer_however_many_viewers_and_closing_frees_them(
        live_daemon: DaemonProcess) -> None:
    first = LiveClient(live_daemon.port, "cam", auth=live_daemon.auth)
    clients = [first]
    try:
        first.header()
        first.pump(1.3)  # the muxer runs; later viewers join mid-GOP (live264: GOP 2 s)
        for _ in range(2):
            started = time.monotonic()
            clients.append(LiveClient(live_daemon.port, "cam", auth=live_daemon.auth))
            clients[-1].header()
            clients[-1].collect(0.1)
            # a joining viewer is sent the current GOP from its keyframe at once
            assert time.monotonic() - started < 1.5
        status = _live(live_daemon)
        assert status["feeds"] == {"cam": 3} and status["sockets"] == 3, status
        for c in clients:
            init, frags = c.collect(1.0)
            assert len(frags) > 5
            assert _first_video_packet_is_key(init, frags)
    finally:
        for c in clients:
            c.close()
    assert wait_until(lambda: _live(live_daemon) == {"available": True, "sockets": 0,
                                                     "feeds": {}}, 10), _live(live_daemon)


def test_sub_stream_feeds_the_tile_and_stops_with_its_last_viewer(
        live_daemon: DaemonProcess) -> None:
    with LiveClient(live_daemon.port, "tiles", auth=live_daemon.auth, sub=True) as c:
        header = c.header()
        init, frags = c.collect(2.0)
        assert _live(live_daemon)["feeds"] == {"tiles/sub": 1}
    assert header["audio"] is False and "mp4a" not in header["mime"]  # live264na: no audio
    keys, _ = _decode(init, frags)
    assert keys and keys[0]
    with LiveClient(live_daemon.port, "tiles", auth=live_daemon.auth) as main:
        assert main.header()["audio"] is True  # the main stream, with its AAC
    assert wait_until(lambda: _live(live_daemon)["feeds"] == {}, 10)


@pytest.mark.parametrize(("kwargs", "status"), [
    ({}, 401),  # no credentials
    ({"auth": "Basic YWRtaW46d3Jvbmc="}, 401),  # admin:wrong
    ({"origin": "http://evil.example", "with_auth": True}, 403),  # cross-site WebSocket
    ({"stream": "nosuch", "with_auth": True}, 404),
])
def test_refused_before_the_upgrade_with_a_json_error(live_daemon: DaemonProcess,
                                                      kwargs: dict[str, object],
                                                      status: int) -> None:
    args = dict(kwargs)
    stream = str(args.pop("stream", "cam"))
    if args.pop("with_auth", False):
        args["auth"] = live_daemon.auth
    with pytest.raises(Rejected) as err:
        LiveClient(live_daemon.port, stream, **args)  # type: ignore[arg-type]
    assert err.value.status == status
    assert "error" in json.loads(err.value.body)


def test_plain_get_is_a_400_with_json(live_daemon: DaemonProcess) -> None:
    status, body = live_daemon.call("GET", "/api/live/cam/mse")
    assert status == 400 and "WebSocket" in json.loads(body)["error"]


def _rss(d: DaemonProcess) -> int:
    for line in Path(f"/proc/{d.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_paused_viewer_is_bounded_and_delays_nobody(live_daemon: DaemonProcess) -> None:
    """A viewer that stops reading for 30 s: memory stays bounded, another viewer keeps
    getting every second's fragments, the recorder drops nothing, and the stalled viewer is
    eventually disconnected."""
    dropped_before = live_daemon.json("/api/streams/cam")["stats"]["dropped"]
    paused = LiveClient(live_daemon.port, "cam", auth=live_daemon.auth, rcvbuf=4096)
    active = LiveClient(live_daemon.port, "cam", auth=live_daemon.auth)
    try:
        active.header()
        rss = [_rss(live_daemon)]
        per_window: list[int] = []
        for _ in range(6):  # 6 x 5 s: the paused client never reads
            before = len(active.messages)
            active.pump(5.0)
            per_window.append(len(active.messages) - before)
            rss.append(_rss(live_daemon))
        status = _live(live_daemon)
    finally:
        paused.close()
        active.close()
    # 15 fps video + ~47 AAC frames/s: every 5 s window must carry well over 100 fragments
    assert min(per_window) > 100, per_window
    grown = max(rss) - rss[0]
    assert grown < 32 * 1024 * 1024, f"RSS grew by {grown / 1e6:.1f} MB: {rss}"
    assert status["sockets"] == 1, f"the stalled viewer should have been dropped: {status}"
    assert live_daemon.json("/api/streams/cam")["stats"]["dropped"] == dropped_before


def test_daemon_stops_in_time_with_viewers_connected(tmp_path: Path,
                                                     rtsp_camera: object) -> None:
    d = start_daemon(tmp_path / "d")
    try:
        d.call("POST", "/api/streams", {"name": "cam",
                                        "url": rtsp_camera.url("live264")})  # type: ignore[attr-defined]
        clients = []
        assert wait_until(lambda: d.json("/api/streams/cam").get("state") == "active"
                          or d.json("/api/streams/cam").get("state") == "active", 30)
        for _ in range(2):
            clients.append(LiveClient(d.port, "cam", auth=d.auth))
            clients[-1].header()
        started = time.monotonic()
        assert d.stop(30) == 0
        took = time.monotonic() - started
        for c in clients:
            c.pump(2.0)
            assert c.closed, "the server must close live sockets on shutdown"
        log = d.log_tail(20000)
        assert "thread web:live exited" in log and "mse:cam exited" in log
        assert "overran" not in log and "did not stop" not in log, log
        assert took < 20
    finally:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait(10)
