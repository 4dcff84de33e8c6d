"""Requests that cost the server (issue #10 items 7 and 13), against the real daemon recording the
real RTSP test camera.

- A viewer's batch ZIP download arrives as a valid ZIP whose members are the recordings, byte for
  byte, and nothing is written to `<data_dir>/tmp` or the recordings tree while it is sent (a
  viewer must not be able to fill the disk and so make retention delete footage).
- ZIP jobs are limited per user: a third one while two are open is 429 with a JSON error, while
  another user may still start one.
- A `user`'s batch delete with an empty filter leaves protected recordings (and says how many
  it skipped); only an admin who asks for them explicitly deletes them. A single protected
  recording is refused the same way.
"""

from __future__ import annotations

import base64
import http.client
import io
import os
import socket
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.fixtures.accounts import settle_admin_password
from tests.fixtures.daemon import DaemonProcess, start_daemon
from tests.fixtures.wait import wait_until

SEGMENT_SECONDS = 2
RECORDINGS = 4  # complete recordings each test starts from


class Client:
    """One account's HTTP Basic client for the daemon (a real socket per request)."""

    def __init__(self, port: int, user: str, password: str) -> None:
        self.port, self.user, self.password = port, user, password

    def _headers(self, body: bool) -> dict[str, str]:
        raw = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        h = {"Authorization": f"Basic {raw}", "X-Requested-With": "test"}
        if body:
            h["Content-Type"] = "application/json"
        return h

    def open(self, method: str, path: str, body: Any = None,
             timeout: float = 30.0) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        conn.request(method, path, body=None if body is None else orjson.dumps(body),
                     headers=self._headers(body is not None))
        return conn, conn.getresponse()

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        conn, resp = self.open(method, path, body)
        try:
            raw = resp.read()
            ctype = resp.getheader("Content-Type") or ""
            return resp.status, orjson.loads(raw) if "json" in ctype and raw else raw
        finally:
            conn.close()


def _wait(pred: Callable[[], object], timeout: float, what: str) -> Any:
    return wait_until(pred, timeout, step=0.25, what=what)


def _listing(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under `root` with its size and mtime: what a write would change."""
    out: dict[str, tuple[int, int]] = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            try:
                st = p.stat()
            except FileNotFoundError:
                continue
            out[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return out


def _recorded(daemon: DaemonProcess, admin: Client, camera: str) -> list[dict[str, Any]]:
    """Record the camera until RECORDINGS segments are complete, then stop the stream (so the
    recordings tree only changes if a request changes it); the complete recordings, by id."""
    status, body = admin.call("POST", "/api/streams", {
        "name": "door", "url": f"{camera}/live264na", "segment_duration": SEGMENT_SECONDS})
    assert status in (200, 201), body

    def complete() -> list[dict[str, Any]]:
        _, b = admin.call("GET", "/api/recordings?stream=door&limit=100&order=asc")
        return [r for r in b["recordings"] if r.get("is_complete", True) and r["size_bytes"]]

    _wait(lambda: len(complete()) >= RECORDINGS + 1, 90, f"{RECORDINGS + 1} recordings")
    status, body = admin.call("PUT", "/api/streams/door", {"enabled": False})
    assert status == 200, body
    # The recorder closes its last segment on the way out; then nothing writes any more.
    _wait(lambda: not any(r.get("is_complete") is False for r in admin.call(
        "GET", "/api/recordings?stream=door&limit=100&include_incomplete=1")[1]["recordings"]),
        30, "the last segment closed")
    return complete()


def _account(daemon: DaemonProcess, admin: Client, name: str, role: int) -> Client:
    password = f"{name}-Secret-pw-9"
    status, body = admin.call("POST", "/api/auth/users",
                              {"username": name, "password": password, "role": role})
    assert status in (200, 201), body
    return Client(daemon.port, name, settle_admin_password("127.0.0.1", daemon.port, name,
                                                           password))


@pytest.fixture
def camera(rtsp_camera: Any) -> str:
    """Base URL of the session's real RTSP camera, listening (other tests may have stopped it)."""
    try:
        socket.create_connection(("127.0.0.1", rtsp_camera.port), timeout=2).close()
    except OSError:
        rtsp_camera.stop()
        rtsp_camera.start()
    return str(rtsp_camera.url("")).rstrip("/")


@pytest.fixture
def nvr(tmp_path: Path, camera: str) -> Iterator[tuple[DaemonProcess, Client,
                                                        list[dict[str, Any]]]]:
    d = start_daemon(tmp_path / "nvr")
    try:
        admin = Client(d.port, "admin", d.password)
        yield d, admin, _recorded(d, admin, camera)
    finally:
        assert d.stop() == 0, d.log_tail()


def test_viewer_zip_is_streamed_without_touching_the_disk(nvr: Any) -> None:
    daemon, admin, recs = nvr
    viewer = _account(daemon, admin, "vera", 2)
    data_dir = daemon.base / "db"  # [database] path's folder: the daemon's data_dir
    rec_root = daemon.base / "rec"
    before = _listing(rec_root)
    ids = [r["id"] for r in recs[:RECORDINGS]]

    status, job = viewer.call("POST", "/api/recordings/batch-download",
                              {"ids": ids, "filename": "evidence"})
    assert status == 202, job
    token = job["token"]
    status, st = viewer.call("GET", f"/api/recordings/batch-download/status/{token}")
    assert status == 200 and st["status"] == "complete", st  # LightNVR clients poll for this

    conn, resp = viewer.open("GET", f"/api/recordings/batch-download/result/{token}")
    try:
        assert resp.status == 200
        assert resp.getheader("Content-Type") == "application/zip"
        assert 'filename="evidence.zip"' in (resp.getheader("Content-Disposition") or "")
        first = resp.read(64 * 1024)
        # Mid-download: no ZIP file anywhere on the daemon's disks, recordings untouched.
        assert not [p for p in data_dir.rglob("*") if p.is_file() and p.suffix == ".zip"]
        assert not (data_dir / "tmp").exists() or not any((data_dir / "tmp").iterdir())
        assert _listing(rec_root) == before
        raw = first + resp.read()
    finally:
        conn.close()
    assert _listing(rec_root) == before
    assert not [p for p in daemon.base.rglob("*.zip")]

    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        assert zf.testzip() is None
        members = zf.infolist()
        assert len(members) == len(ids)
        assert all(m.compress_type == zipfile.ZIP_STORED for m in members)
        for rid, member in zip(ids, members, strict=True):
            status, original = viewer.call("GET", f"/api/recordings/download/{rid}")
            assert status == 200 and zf.read(member) == original
    status, st = viewer.call("GET", f"/api/recordings/batch-download/status/{token}")
    assert st["succeeded"] == len(ids) and st["failed"] == 0


def test_zip_jobs_are_limited_per_user(nvr: Any) -> None:
    daemon, admin, recs = nvr
    viewer = _account(daemon, admin, "vic", 2)
    ids = [r["id"] for r in recs[:RECORDINGS]]
    tokens = []
    for _ in range(2):  # two jobs: a ZIP token holds its place until it is downloaded
        status, job = viewer.call("POST", "/api/recordings/batch-download", {"ids": ids})
        assert status == 202, job
        tokens.append(job["token"])
    status, body = viewer.call("POST", "/api/recordings/batch-download", {"ids": ids})
    assert status == 429 and isinstance(body, dict) and body.get("error"), body
    # The limit is the viewer's: another user still gets a ZIP.
    status, job = admin.call("POST", "/api/recordings/batch-download", {"ids": ids[:1]})
    assert status == 202, job
    status, raw = admin.call("GET", f"/api/recordings/batch-download/result/{job['token']}")
    assert status == 200 and len(zipfile.ZipFile(io.BytesIO(raw)).namelist()) == 1
    # A finished download frees its place.
    status, raw = viewer.call("GET", f"/api/recordings/batch-download/result/{tokens[0]}")
    assert status == 200 and len(zipfile.ZipFile(io.BytesIO(raw)).namelist()) == len(ids)
    status, job = viewer.call("POST", "/api/recordings/batch-download", {"ids": ids})
    assert status == 202, job


def test_batch_delete_keeps_protected_unless_admin_asks(nvr: Any) -> None:
    daemon, admin, recs = nvr
    user = _account(daemon, admin, "ulla", 1)
    protected = [recs[0]["id"], recs[1]["id"]]
    for rid in protected:
        status, body = user.call("PUT", f"/api/recordings/{rid}/protect", {"protected": True})
        assert status == 200, body

    def left() -> set[int]:
        _, body = admin.call("GET", "/api/recordings?limit=1000")
        return {r["id"] for r in body["recordings"]}

    def run(client: Client, body: dict[str, Any]) -> dict[str, Any]:
        status, job = client.call("POST", "/api/recordings/batch-delete", body)
        assert status == 202, job
        return _wait(lambda: (p := client.call(
            "GET", f"/api/recordings/batch-delete/progress/{job['job_id']}")[1])["complete"]
            and p, 60, "the batch delete")  # type: ignore[no-any-return]

    # The single-recording route refuses a protected one too, for the user and a plain admin.
    assert user.call("DELETE", f"/api/recordings/{protected[0]}")[0] == 409
    status, body = admin.call("DELETE", f"/api/recordings/{protected[0]}")
    assert status == 409 and "protected" in body["error"]

    done = run(user, {"filter": {}})
    assert done["status"] == "complete" and done["skipped_protected"] == 2, done
    assert left() == set(protected)
    for rid in protected:  # the files are still there and whole
        status, data = user.call("GET", f"/api/recordings/download/{rid}")
        assert status == 200 and len(data) > 0

    status, body = user.call("POST", "/api/recordings/batch-delete",
                             {"filter": {}, "include_protected": True})
    assert status == 403 and body["error"], body
    assert left() == set(protected)

    status, body = admin.call("DELETE", f"/api/recordings/{protected[0]}?force=true")
    assert status == 200, body
    done = run(admin, {"ids": protected[1:], "include_protected": True})
    assert done["succeeded"] == 1 and done["skipped_protected"] == 0, done
    assert left() == set()
