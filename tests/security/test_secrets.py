"""Secrets never leak (issue #10 item 2): not into a log line, the log ring, syslog or any answer.

The daemon is real (a subprocess with its own config), read the way an attacker with a viewer
account would: `/api/system/logs`, `/api/streams`, `/api/system/status`, plus the files an
operator's log shipper reads. The handler-level safety net is checked on every handler
`setup_logging` installs, syslog included (through a real Unix datagram socket standing in
for /dev/log: there is no journald here).
"""

from __future__ import annotations

import logging
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from lightnvr.core import logger as lightnvr_logger
from lightnvr.core.config import GeneralConfig
from tests.fixtures.accounts import basic_call
from tests.fixtures.camera import TestCamera
from tests.fixtures.daemon import ROOT, DaemonProcess, free_port, write_config
from tests.video.helpers import wait_until

CAMERA_PASSWORD = "Cam3raPw9"  # userinfo password
QUERY_PASSWORD = "Qry5ecret7"  # Reolink-style ?user=admin&password=...
VIEWER = ("vera", "Viewer-pass-1")


def call_as(d: DaemonProcess, user: str, password: str, method: str, path: str,
            body: object = None) -> tuple[int, bytes]:
    """One HTTP Basic request to the daemon as `user`."""
    return basic_call(d.port, method, path, body, (user, password))


def make_viewer(d: DaemonProcess, admin_password: str) -> None:
    status, body = call_as(d, "admin", admin_password, "POST", "/api/auth/users",
                           {"username": VIEWER[0], "password": VIEWER[1], "role": 2})
    assert status in (200, 201), body


def viewer_get(d: DaemonProcess, path: str) -> bytes:
    status, body = call_as(d, *VIEWER, "GET", path)
    assert status == 200, (path, status, body[:300])
    return body


def logs_on_disk(d: DaemonProcess) -> str:
    return "\n".join(p.read_text(errors="replace")
                     for p in (d.stderr, d.base / "lightnvr.log") if p.exists())


@pytest.fixture
def generated_password_daemon(tmp_path: Path) -> Any:
    """A daemon whose config has no `[web] password`: it makes up the first admin's."""
    base = tmp_path / "nvr"
    base.mkdir()
    port = free_port()
    cfg = write_config(base, port, password="", extra={"general": {"log_level": 3}})
    # A planted link where the password file goes: writing through it would overwrite (and
    # disclose the password into) whatever it points at.
    (base / "db").mkdir()
    (base / "victim.txt").write_text("precious\n")
    (base / "db" / "initial_admin_password").symlink_to(base / "victim.txt")
    stderr = base / "stderr.log"
    with open(stderr, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "lightnvr", "-c", str(cfg)], cwd=ROOT,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    d = DaemonProcess(port, "", proc, base, stderr)
    try:
        d.wait_ready()
        yield d
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_initial_admin_password_only_in_its_0600_file_which_goes_after_the_change(
        generated_password_daemon: DaemonProcess) -> None:
    d = generated_password_daemon
    path = d.base / "db" / "initial_admin_password"
    assert stat.S_ISREG(os.lstat(path).st_mode)  # the planted link was replaced, not followed
    assert (d.base / "victim.txt").read_text() == "precious\n"
    assert stat.S_IMODE(os.lstat(path).st_mode) == 0o600
    password = path.read_text().strip()
    assert len(password) >= 12

    on_disk = logs_on_disk(d)
    assert password not in on_disk
    assert str(path) in on_disk  # the log says where the password is

    status, me = call_as(d, "admin", password, "GET", "/api/auth/verify")
    assert status == 200, me
    new_password = "Changed-admin-pw-2"
    status, body = call_as(d, "admin", password, "PUT",
                           f"/api/auth/users/{orjson.loads(me)['id']}/password",
                           {"old_password": password, "new_password": new_password})
    assert status == 200, body
    assert not path.exists()  # nobody can read a password that no longer exists

    status, ring_raw = call_as(d, "admin", new_password, "GET",
                               "/api/system/logs?level=debug&count=10000")
    assert status == 200, ring_raw
    ring = ring_raw.decode()
    assert "initial_admin_password" in ring  # the creation line is in the ring ...
    assert password not in ring  # ... without the password
    assert new_password not in ring
    assert d.stop() == 0
    on_disk = logs_on_disk(d)
    assert password not in on_disk and new_password not in on_disk


def test_camera_credentials_reach_no_log_ring_last_error_or_viewer(
        daemon_factory: Any, rtsp_camera: TestCamera) -> None:
    d = daemon_factory({"general": {"log_level": 3}})
    secret_query = f"user=admin&password={QUERY_PASSWORD}"
    refused = f"rtsp://admin:{CAMERA_PASSWORD}@127.0.0.1:{free_port()}/live?{secret_query}"
    # A real RTSP server that answers 404: a permanent error (state "error", error_message).
    missing = f"rtsp://admin:{CAMERA_PASSWORD}@127.0.0.1:{rtsp_camera.port}/nosuch?{secret_query}"
    for name, url in (("refused", refused), ("missing", missing)):
        status, body = d.call("POST", "/api/streams", {"name": name, "url": url})
        assert status == 201, body

    def errors() -> dict[str, str]:
        return {s["name"]: s["last_error"] for s in d.json("/api/streams")}

    assert wait_until(lambda: all(errors().values()) and len(errors()) == 2, 60), errors()
    assert wait_until(lambda: d.json("/api/streams/missing")["state"] == "error", 60)
    make_viewer(d, d.password)

    answers = {
        "admin last_error": orjson.dumps(errors()).decode(),
        "viewer list": viewer_get(d, "/api/streams").decode(),
        "viewer get": viewer_get(d, "/api/streams/missing").decode(),
        "viewer full": viewer_get(d, "/api/streams/refused/full").decode(),
        "viewer status": viewer_get(d, "/api/system/status").decode(),
        "admin logs": d.call("GET", "/api/system/logs?level=debug&count=10000")[1].decode(),
    }
    # the log ring names every stream: admins only (as LightNVR), a viewer is refused
    status, body = call_as(d, *VIEWER, "GET", "/api/system/logs")
    assert status == 403 and b"error" in body, (status, body)
    for where, text in answers.items():
        assert CAMERA_PASSWORD not in text, where
        assert QUERY_PASSWORD not in text, where
        if where.startswith("viewer"):
            # Viewers get no half of a credential either: no user name from the URL.
            assert "admin:" not in text and "admin@" not in text and "user=admin" not in text, \
                (where, text[:500])
    # Not vacuous: the URLs and the camera's errors were really shown and logged, masked.
    assert "127.0.0.1" in answers["viewer list"] and "nosuch" in answers["viewer get"]
    assert "404" in answers["viewer get"]
    assert "password=***" in answers["admin logs"]
    assert d.stop() == 0
    on_disk = logs_on_disk(d)
    assert "password=***" in on_disk
    assert CAMERA_PASSWORD not in on_disk and QUERY_PASSWORD not in on_disk


@pytest.fixture
def fake_syslog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A Unix datagram socket where setup_logging's syslog handler will find "/dev/log"."""
    path = str(tmp_path / "devlog")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(5)
    monkeypatch.setattr(lightnvr_logger, "_SYSLOG_SOCKETS", (path,))
    try:
        yield sock
    finally:
        sock.close()


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_every_handler_setup_logging_installs_masks_secrets(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_syslog: socket.socket,
        log_format: str) -> None:
    log_file = tmp_path / "nvr.log"
    cfg = GeneralConfig(log_file=str(log_file), syslog_enabled=True, log_level=3,
                        log_format=log_format)
    root = logging.getLogger()
    level = root.level
    ring = lightnvr_logger.setup_logging(cfg)
    try:
        ring.clear()
        log = logging.getLogger("lightnvr.test.secrets")
        url = f"rtsp://admin:{CAMERA_PASSWORD}@cam.local/s?user=admin&password={QUERY_PASSWORD}"
        log.warning("opening %s", url)  # a caller that forgot redact_url
        log.warning("mqtt_password=%s api_key=%s", "MqttS3cret", "K3yS3cret")
        try:
            raise ConnectionError(f"camera at {url} refused; token=T0kS3cret")
        except ConnectionError:
            log.error("reader failed", exc_info=True)
        datagrams = b""
        for _ in range(3):
            datagrams += fake_syslog.recv(65536) + b"\n"
    finally:
        lightnvr_logger.teardown_logging()
        root.setLevel(level)
    outputs = {
        "stderr": capsys.readouterr().err,
        "file": log_file.read_text(),
        "syslog": datagrams.decode(errors="replace"),
        "ring": "\n".join(r.message for r in ring.recent("debug", 100)),
    }
    for where, text in outputs.items():
        assert "opening rtsp://" in text, where  # the lines arrived ...
        for secret in (CAMERA_PASSWORD, QUERY_PASSWORD, "MqttS3cret", "K3yS3cret", "T0kS3cret"):
            assert secret not in text, (where, secret)  # ... without their secrets
        assert "admin:***@cam.local" in text, where
