"""Live HLS files and snapshots: content types, caching, and refused path traversal."""

from __future__ import annotations

import http.client
from collections.abc import Callable
from pathlib import Path

import pytest

from lightnvr.web.http import Role
from tests.fixtures.web import LiveWeb


@pytest.fixture
def env(web_factory: Callable[..., LiveWeb], tmp_path: Path) -> LiveWeb:
    """The one web harness with stream "front door" (not running) and hand-made live files."""
    e = web_factory()
    e.add_stream("front door")
    live = Path(e.stream_manager.hls_dir("front door"))
    live.mkdir(parents=True)
    (live / "index.m3u8").write_text("#EXTM3U\n#EXT-X-TARGETDURATION:2\n")
    (live / "seg_00001.m4s").write_bytes(b"\x00" * 1000 + b"\x01" * 1000)
    (live / "init.mp4").write_bytes(b"init")
    (live / "notes.txt").write_text("not served")
    (tmp_path / "secret.m3u8").write_text("TOPSECRET-CONTENT")
    (live / "escape.m3u8").symlink_to(tmp_path / "secret.m3u8")
    return e


def _raw_get(port: int, path: str, credentials: dict[str, str]) -> tuple[int, bytes]:
    """GET with the path sent exactly as written (no client-side normalization)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        for name, value in credentials.items():
            conn.putheader(name, value)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_hls_files_served_with_types_and_no_cache(env: LiveWeb) -> None:
    r = env.api.request("GET", "/hls/front%20door/index.m3u8")
    status, h, body = r.status, r.headers, r.body
    assert status == 200 and body.startswith(b"#EXTM3U")
    assert h["content-type"] == "application/vnd.apple.mpegurl" and h["cache-control"] == "no-cache"
    r = env.api.request("GET", "/hls/front%20door/seg_00001.m4s",
                        headers={"Range": "bytes=1000-1001"})
    status, h, body = r.status, r.headers, r.body
    assert status == 206 and body == b"\x01\x01" and h["content-type"] == "video/iso.segment"
    assert env.api.request("GET", "/hls/front%20door/init.mp4").status == 200
    viewer = env.make_user("vic", Role.VIEWER)
    assert viewer.request("GET", "/hls/front%20door/index.m3u8").status == 200
    assert env.client().request("GET", "/hls/front%20door/index.m3u8").status == 401


@pytest.mark.parametrize("path", [
    "/hls/front%20door/notes.txt", "/hls/front%20door/..%2F..%2Fsecret.m3u8",
    "/hls/front%20door/%2e%2e", "/hls/..%2Fetc/passwd", "/hls/front%20door/../../secret.m3u8",
    "/hls/front%20door/escape.m3u8", "/hls/front%20door/.index.m3u8",
    "/hls/%2e%2e/index.m3u8", "/hls/front%20door/a%00.m3u8", "/hls/front%20door/missing.ts",
    "/hls/nosuch/index.m3u8", "/api/streams/..%2F..%2Fetc/snapshot",
    "/go2rtc/api/frame.jpeg?src=../../etc/passwd", "/go2rtc/api/frame.jpeg?src=a%2Fb"])
def test_traversal_attempts_refused(env: LiveWeb, path: str) -> None:
    status, body = _raw_get(env.port, path, env.api.credential_headers())
    assert status in (400, 404), (path, status)
    assert b"TOPSECRET" not in body and b"root:" not in body and b"not served" not in body


def test_snapshot_and_go2rtc_alias_without_a_frame(env: LiveWeb) -> None:
    """Before the stream has a frame both answer 404 with Retry-After; bad names are refused.
    (The picture itself, from the real camera through both routes: test_api_camera.py.)"""
    for path in ("/api/streams/front%20door/snapshot", "/go2rtc/api/frame.jpeg?src=front%20door"):
        r = env.api.request("GET", path)
        assert r.status == 404 and r.headers["retry-after"] == "1", (path, r.status)
    assert env.api.call("GET", "/go2rtc/api/frame.jpeg")[0] == 400
    assert env.api.call("GET", "/go2rtc/api/frame.jpeg?src=other")[0] == 404
    assert env.api.call("GET", "/api/streams/other/snapshot")[0] == 404
    assert env.client().request("GET", "/go2rtc/api/frame.jpeg?src=front%20door").status == 401
    assert env.client().request("GET", "/api/streams/front%20door/snapshot").status == 401
