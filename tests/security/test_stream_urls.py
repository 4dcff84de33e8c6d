"""Stream URLs (issue #10 items 10, 11): what a camera URL may make the daemon open, demo://.

A remote HLS playlist is the classic way to turn "open this camera" into "read this local
file": the playlist, served by a real HTTP server on loopback, names local files through
`file://`, `concat:` and `subfile,` and its real video through FFmpeg's `crypto` protocol
(AES-128 HLS). None of it may be opened; a plain HLS camera on the same server still works,
so the refusal comes from the protocol whitelist, not from a broken clip.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import orjson
import pytest

from lightnvr.video import demo
from tests.fixtures.daemon import start_daemon
from tests.security.test_secrets import call_as, make_viewer, viewer_get
from tests.video.helpers import wait_until

KEY = bytes(range(16))


class RecordingServer:
    """A real HTTP file server on loopback that remembers every path it was asked for."""

    def __init__(self, root: Path) -> None:
        self.requests: list[str] = []
        seen = self.requests

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                seen.append(self.path)

        self._httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="test-http",
                                        daemon=True)
        self._thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def count(self, fragment: str) -> int:
        return sum(fragment in p for p in list(self.requests))

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(10)


def write_hls(clip: Path, folder: Path, prefix: str, seconds: float,
              key_info: Path | None = None) -> str:
    """Remux the first `seconds` of `clip` into `<prefix>.m3u8` + 2 s TS segments; the text."""
    options = {"hls_time": "2", "hls_list_size": "0", "hls_playlist_type": "vod",
               "hls_segment_filename": str(folder / f"{prefix}%d.ts")}
    if key_info is not None:
        options["hls_key_info_file"] = str(key_info)
    with av.open(str(clip)) as src:
        video = src.streams.video[0]
        with av.open(str(folder / f"{prefix}.m3u8"), "w", format="hls", options=options) as out:
            stream = out.add_stream_from_template(video)
            for pkt in src.demux(video):
                if pkt.dts is None:
                    continue
                if pkt.pts is not None and pkt.time_base is not None \
                        and float(pkt.pts * pkt.time_base) >= seconds:
                    break
                pkt.stream = stream
                out.mux(pkt)
    return (folder / f"{prefix}.m3u8").read_text()


@pytest.fixture
def playlists(tmp_path: Path, test_media: dict[str, Path]) -> Iterator[RecordingServer]:
    """plain.m3u8 (an honest HLS camera) and evil.m3u8 (local files + AES-128 segments)."""
    www = tmp_path / "www"
    www.mkdir()
    write_hls(test_media["h264"], www, "plain", 6)
    (www / "k.key").write_bytes(KEY)
    key_info = tmp_path / "keyinfo"
    key_info.write_text(f"k.key\n{www / 'k.key'}\n{KEY.hex()}\n")
    encrypted = write_hls(test_media["h264"], www, "enc", 6, key_info)
    local = www / "plain0.ts"  # a real video file on the daemon's disk
    evil = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:4",
            "#EXT-X-MEDIA-SEQUENCE:0"]
    # (No file:///etc/passwd: FFmpeg's hls demuxer already rejects a whole playlist naming a
    # segment without a media extension, so such a playlist would test FFmpeg, not us.)
    for target in (f"file://{local}", f"concat:{local}|{local}",
                   f"subfile,,start,0,end,0,,:{local}"):
        evil += ["#EXTINF:2.0,", target]
    evil += encrypted[encrypted.index("#EXT-X-KEY"):].splitlines()
    assert "#EXT-X-ENDLIST" in evil
    (www / "evil.m3u8").write_text("\n".join(evil) + "\n")
    server = RecordingServer(www)
    try:
        yield server
    finally:
        server.close()


def stream(d: Any, name: str) -> dict[str, Any]:
    return d.json(f"/api/streams/{name}")  # type: ignore[no-any-return]


def test_remote_playlist_reaches_no_local_file_and_no_crypto_protocol(
        daemon_factory: Any, playlists: RecordingServer) -> None:
    d = daemon_factory()
    for name in ("plain", "evil"):
        status, body = d.call("POST", "/api/streams",
                              {"name": name, "url": playlists.url(f"{name}.m3u8")})
        assert status == 201, body
    # The honest HTTP camera plays: http(s) and tcp are allowed, the clip is fine.
    assert wait_until(lambda: stream(d, "plain")["state"] == "active", 60), stream(d, "plain")
    # The daemon read the evil playlist, failed, and came back for it at least once more.
    assert wait_until(lambda: playlists.count("/evil.m3u8") >= 3, 90), playlists.requests
    evil = stream(d, "evil")
    assert evil["state"] != "active"
    assert not (evil["stats"] or {}).get("packets"), evil["stats"]
    # The AES-128 segments need FFmpeg's crypto protocol: never fetched, never decrypted.
    assert playlists.count("/enc") == 0, playlists.requests
    assert evil["last_error"], evil


def test_demo_urls_refused_without_demo_mode(daemon_factory: Any) -> None:
    d = daemon_factory()  # [general] demo_mode is off by default
    status, body = d.call("POST", "/api/streams", {"name": "d1", "url": "demo://testsrc"})
    assert status == 400, body
    answer = orjson.loads(body)
    assert answer["field"] == "url" and "demo_mode" in answer["error"]
    status, body = d.call("POST", "/api/streams/test", {"url": "DEMO://testsrc2"})
    assert status == 400 and "demo_mode" in orjson.loads(body)["error"], body
    status, body = d.call("POST", "/api/streams", {"name": "cam", "url": "rtsp://127.0.0.1:9/x",
                                                   "enabled": False})
    assert status == 201, body
    status, body = d.call("PUT", "/api/streams/cam", {"sub_stream_url": "demo://smptebars"})
    assert status == 400 and orjson.loads(body)["field"] == "sub_stream_url", body
    assert [s["name"] for s in d.json("/api/streams")] == ["cam"]
    assert stream(d, "cam")["sub_stream_url"] == ""


def test_demo_urls_accepted_in_demo_mode_within_bounds(daemon_factory: Any) -> None:
    d = daemon_factory({"general": {"demo_mode": True}})
    status, body = d.call("POST", "/api/streams",
                          {"name": "d1", "url": "demo://testsrc2?seconds=4"})
    assert status == 201, body
    assert wait_until(lambda: stream(d, "d1")["state"] == "active", 60), stream(d, "d1")
    status, body = d.call("POST", "/api/streams/test", {"url": "demo://testsrc2?seconds=4"})
    assert status == 200 and orjson.loads(body)["success"], body
    # A minute-long clip is more than the demo camera encodes for anyone.
    status, body = d.call("POST", "/api/streams/test",
                          {"url": "demo://testsrc?size=64x64&fps=30&seconds=60"})
    answer = orjson.loads(body)
    assert status == 200 and not answer["success"] and "seconds" in answer["message"], body


def test_stored_demo_stream_stops_when_demo_mode_is_turned_off(tmp_path: Path) -> None:
    base = tmp_path / "nvr"
    d = start_daemon(base, {"general": {"demo_mode": True}})
    try:
        status, body = d.call("POST", "/api/streams",
                              {"name": "d1", "url": "demo://testsrc2?seconds=4"})
        assert status == 201, body
        assert wait_until(lambda: stream(d, "d1")["state"] == "active", 60), stream(d, "d1")
    finally:
        assert d.stop() == 0
    d = start_daemon(base, {"general": {"demo_mode": False}})
    try:
        assert wait_until(lambda: stream(d, "d1")["state"] == "error", 30), stream(d, "d1")
        assert "demo_mode" in stream(d, "d1")["last_error"]
        assert stream(d, "d1")["state"] != "active"
    finally:
        assert d.stop() == 0


def test_demo_clip_cache_is_a_small_lru() -> None:
    clips = [("testsrc", f"{16 * (i + 1)}x16", 1, 2) for i in range(demo.CACHE_CLIPS + 3)]
    first = demo.encode_loop(*clips[0])
    for clip in clips[1:]:
        demo.encode_loop(*clip)
    assert 0 < demo.cache_info().clips <= demo.CACHE_CLIPS
    assert demo.encode_loop(*clips[0]) is not first  # evicted: encoded again
    newest = demo.encode_loop(*clips[-1])
    assert demo.encode_loop(*clips[-1]) is newest  # a hit: the cached bytes themselves
    kept = demo.encode_loop(*clips[-2])  # used again: survives the next insertions
    for i in range(demo.CACHE_CLIPS - 1):
        demo.encode_loop("testsrc", f"16x{32 + 16 * i}", 1, 2)
    assert demo.encode_loop(*clips[-2]) is kept
    assert demo.cache_info().clips <= demo.CACHE_CLIPS


def test_viewers_see_no_paths_and_nobody_sees_secret_settings(daemon_factory: Any) -> None:
    d = daemon_factory({
        "mqtt": {"password": "MqttS3cret"},
        "api_detection": {"url": "http://det:DetS3cret@127.0.0.1:9/detect?token=Tok3nS3cret"},
    })
    make_viewer(d, d.password)
    status, body = call_as(d, "admin", d.password, "POST", "/api/auth/users",
                           {"username": "uma", "password": "User-pass-123", "role": 1})
    assert status in (200, 201), body
    base = str(d.base)
    admin = d.json("/api/settings")
    assert base in admin["db_path"]  # admins may see where things are
    assert admin["mqtt_password"] == "********"
    assert "MqttS3cret" not in orjson.dumps(admin).decode()
    status, user_body = call_as(d, "uma", "User-pass-123", "GET", "/api/settings")
    assert status == 200, user_body
    for who, text in (("viewer", viewer_get(d, "/api/settings").decode()),
                      ("user", user_body.decode())):
        settings = orjson.loads(text)
        assert base not in text, (who, text)  # no filesystem path at all
        for secret in ("MqttS3cret", "DetS3cret", "Tok3nS3cret"):
            assert secret not in text, (who, secret)
        assert settings["mqtt_password"] == "********"  # set, not what
        assert settings["api_detection_url"].startswith("http://127.0.0.1:9/detect")
        assert settings["retention_days"] == admin["retention_days"]  # the rest is there
