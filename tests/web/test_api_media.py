"""Live HLS files and snapshots: content types, caching, and refused path traversal."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path

import pytest

from lightnvr.web.http import Role
from tests.web.api_support import ApiEnv


@pytest.fixture
def env(tmp_path: Path) -> Iterator[ApiEnv]:
    e = ApiEnv(tmp_path)
    e.add_stream("front door")
    live = Path(e.manager.hls_dir("front door"))
    live.mkdir(parents=True)
    (live / "index.m3u8").write_text("#EXTM3U\n#EXT-X-TARGETDURATION:2\n")
    (live / "seg_00001.m4s").write_bytes(b"\x00" * 1000 + b"\x01" * 1000)
    (live / "init.mp4").write_bytes(b"init")
    (live / "notes.txt").write_text("not served")
    (tmp_path / "secret.m3u8").write_text("TOPSECRET-CONTENT")
    (live / "escape.m3u8").symlink_to(tmp_path / "secret.m3u8")
    yield e
    e.close()


def _raw_get(port: int, path: str, auth: str) -> tuple[int, bytes]:
    """GET with the path sent exactly as written (no client-side normalization)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.putheader("Authorization", auth)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_hls_files_served_with_types_and_no_cache(env: ApiEnv) -> None:
    status, h, body = env.admin.request("GET", "/hls/front%20door/index.m3u8")
    assert status == 200 and body.startswith(b"#EXTM3U")
    assert h["content-type"] == "application/vnd.apple.mpegurl" and h["cache-control"] == "no-cache"
    status, h, body = env.admin.request("GET", "/hls/front%20door/seg_00001.m4s",
                                        headers={"Range": "bytes=1000-1001"})
    assert status == 206 and body == b"\x01\x01" and h["content-type"] == "video/iso.segment"
    assert env.admin.request("GET", "/hls/front%20door/init.mp4")[0] == 200
    viewer = env.user("v", Role.VIEWER)
    assert viewer.request("GET", "/hls/front%20door/index.m3u8")[0] == 200
    assert env.anon.request("GET", "/hls/front%20door/index.m3u8")[0] == 401


@pytest.mark.parametrize("path", [
    "/hls/front%20door/notes.txt", "/hls/front%20door/..%2F..%2Fsecret.m3u8",
    "/hls/front%20door/%2e%2e", "/hls/..%2Fetc/passwd", "/hls/front%20door/../../secret.m3u8",
    "/hls/front%20door/escape.m3u8", "/hls/front%20door/.index.m3u8",
    "/hls/%2e%2e/index.m3u8", "/hls/front%20door/a%00.m3u8", "/hls/front%20door/missing.ts",
    "/hls/nosuch/index.m3u8", "/api/streams/..%2F..%2Fetc/snapshot",
    "/go2rtc/api/frame.jpeg?src=../../etc/passwd", "/go2rtc/api/frame.jpeg?src=a%2Fb"])
def test_traversal_attempts_refused(env: ApiEnv, path: str) -> None:
    status, body = _raw_get(env.port, path, env.admin.auth or "")
    assert status in (400, 404), (path, status)
    assert b"TOPSECRET" not in body and b"root:" not in body and b"not served" not in body


def test_snapshot_and_go2rtc_alias(env: ApiEnv) -> None:
    status, h, _ = env.admin.request("GET", "/api/streams/front%20door/snapshot")
    assert status == 404 and h["retry-after"] == "1"  # no frame yet
    env.manager.snapshots["front door"] = b"\xff\xd8fakejpeg\xff\xd9"
    status, h, body = env.admin.request("GET", "/api/streams/front%20door/snapshot")
    # served byte for byte as the manager made it (a real camera's: test_api_camera.py)
    assert status == 200 and h["content-type"] == "image/jpeg"
    assert body == env.manager.snapshots["front door"]
    status, h, body2 = env.admin.request("GET", "/go2rtc/api/frame.jpeg?src=front%20door")
    assert status == 200 and body2 == body
    assert env.admin.json("GET", "/go2rtc/api/frame.jpeg")[0] == 400
    assert env.admin.json("GET", "/go2rtc/api/frame.jpeg?src=other")[0] == 404
    assert env.admin.json("GET", "/api/streams/other/snapshot")[0] == 404
    assert env.anon.request("GET", "/go2rtc/api/frame.jpeg?src=front%20door")[0] == 401
