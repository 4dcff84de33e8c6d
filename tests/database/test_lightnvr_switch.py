"""End to end: a LightNVR user switches in place (docs/migrate.md).

Their LightNVR install (database at migration 0046 with real MP4s in its layout, built by
tests/fixtures/lightnvr_db.py) is imported with the real CLI, then the real daemon runs on
the result: the old admin password signs in (and is upgraded to scrypt), the old API key
works, the old streams are listed, an old recording plays over HTTP (a Range GET that PyAV
decodes) and is on the timeline, and retention removes the one older than the stream's 30
days while the protected one and the one with a 365-day override stay. A daemon whose
`[database] path` is still the LightNVR file stops, naming the import command.
"""

from __future__ import annotations

import http.client
import io
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import av
import orjson

from lightnvr.core.config import load_config
from tests.fixtures.accounts import basic_call, totp_codes
from tests.fixtures.daemon import ROOT, free_port, start_daemon, write_config
from tests.fixtures.lightnvr_db import build_lightnvr_install
from tests.fixtures.wait import wait_until


def _get(port: int, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_lightnvr_install_switches_in_place(tmp_path: Path) -> None:
    base = tmp_path / "nvr"
    base.mkdir()
    config = write_config(base, free_port())  # the daemon below rewrites it, same paths
    cfg = load_config(str(config))
    inst = build_lightnvr_install(tmp_path / "lightnvr-c" / "lightnvr.db",
                                  Path(cfg.storage.path))
    done = subprocess.run([sys.executable, "-m", "lightnvr", "import-lightnvr",
                           str(inst.db_path), "-c", str(config), "--json"],
                          cwd=ROOT, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    assert json.loads(done.stdout)["tables"]["recordings"]["imported"] == 5

    d = start_daemon(base, settle_password=False)
    try:
        # the old password signs in through the login API ...
        status, body = basic_call(d.port, "POST", "/api/auth/login",
                                  {"username": "admin", "password": inst.admin_password})
        assert status == 200, body
        # ... and is scrypt from now on; the old password still works (Basic, after upgrade)
        with sqlite3.connect(Path(cfg.database.path).as_uri() + "?mode=ro", uri=True) as c:
            stored = c.execute("SELECT password_hash FROM users WHERE username = 'admin'"
                               ).fetchone()[0]
        assert stored.startswith("scrypt$")
        d.password = inst.admin_password
        # the viewer's TOTP secret came along: password, then a code from the old app
        status, body = basic_call(d.port, "POST", "/api/auth/login",
                                  {"username": "viewer", "password": inst.viewer_password})
        assert status == 200 and orjson.loads(body)["totp_required"], body
        step = orjson.loads(body)["totp_token"]
        _, code, _ = totp_codes(inst.totp_secret)
        status, body = basic_call(d.port, "POST", "/api/auth/login/totp",
                                  {"totp_token": step, "code": code})
        assert status == 200 and orjson.loads(body)["success"], body
        streams = d.json("/api/streams")
        assert {s["name"] for s in streams} >= {"front", "back-yard"}

        key = {"X-API-Key": inst.api_key}
        status, body = _get(d.port, f"/api/recordings/{inst.recordings['recent']}", key)
        assert status == 200, body
        assert orjson.loads(body)["stream"] == "front"
        status, media = _get(d.port, f"/api/recordings/play/{inst.recordings['recent']}",
                             {**key, "Range": "bytes=0-"})
        assert status == 206
        assert media == inst.files["recent"].read_bytes()
        with av.open(io.BytesIO(media), "r") as container:
            frames = len(list(container.decode(video=0)))
        assert frames == 10

        now = time.time()
        timeline = d.json(f"/api/timeline/segments?stream=front&start={int(now - 7200)}"
                          f"&end={int(now)}")
        ids = {s["id"] for s in timeline["segments"]}
        assert {inst.recordings["recent"], inst.recordings["event"]} <= ids

        def old_gone() -> bool:
            return d.call("GET", f"/api/recordings/{inst.recordings['old']}")[0] == 404

        assert wait_until(old_gone, 60), d.log_tail()
        assert not inst.files["old"].exists()
        for kept in ("kept", "override", "recent"):
            assert d.call("GET", f"/api/recordings/{inst.recordings[kept]}")[0] == 200, kept
            assert inst.files[kept].exists()
    finally:
        assert d.stop() == 0


def test_daemon_on_the_lightnvr_file_names_the_import_command(tmp_path: Path) -> None:
    config = write_config(tmp_path, free_port())
    cfg = load_config(str(config))
    inst = build_lightnvr_install(Path(cfg.database.path), Path(cfg.storage.path))
    before = inst.db_path.read_bytes()
    done = subprocess.run([sys.executable, "-m", "lightnvr", "-c", str(config)], cwd=ROOT,
                          capture_output=True, timeout=120)
    assert done.returncode != 0
    log = (tmp_path / "lightnvr.log").read_text()
    assert f"import-lightnvr {inst.db_path}" in log and "LightNVR" in log
    assert "newer lightnvr" not in log
    assert inst.db_path.read_bytes() == before
