"""The UI against the real daemon: `python -m lightnvr -c CONF` as a subprocess, its generated
admin password, a real camera, its own recorder, timeline and media serving.

One module-scoped daemon; the tests run in file order (the first one does the forced password
change that the rest rely on). The camera is tests/fixtures/camera.py's RTSP test camera.
"""

from __future__ import annotations

import datetime
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.ui_pages import checked_page, sign_in
from tests.fixtures.wait import wait_until
from tests.fixtures.web import ApiClient
from tests.ui.conftest import REPO, WWW, shot
from tests.ui.test_ui import PAGES, assert_advances, assert_live_tile_records

pytestmark = [pytest.mark.ui, pytest.mark.slow]
NEW_PASSWORD = "daemon-admin-password-2"


class Daemon:
    def __init__(self, base: Path, port: int, proc: subprocess.Popen[bytes]) -> None:
        self.base, self.port, self.proc = base, port, proc
        self.base_url = f"http://127.0.0.1:{port}"
        self.password = (base / "db" / "initial_admin_password").read_text().strip()
        self.camera_url = ""

    def client(self) -> ApiClient:
        c = ApiClient("127.0.0.1", self.port)
        assert c.login("admin", self.password).status == 200
        return c


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _config(base: Path, port: int) -> str:
    return (f"[general]\npid_file = {base}/lightnvr.pid\nlog_file = {base}/lightnvr.log\n"
            "demo_mode = false\n"
            f"[storage]\npath = {base}/recordings\npath_hls = {base}/hls\n"
            f"[database]\npath = {base}/db/lightnvr.db\n"
            f"[web]\nport = {port}\nbind_ip = 127.0.0.1\nroot = {WWW}\n")


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    base = tmp_path_factory.mktemp("daemon")
    port = _free_port()
    conf = base / "lightnvr.conf"
    conf.write_text(_config(base, port))
    out = open(base / "daemon.out", "wb")  # noqa: SIM115 (kept open for the daemon's life)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "lightnvr", "-c", str(conf)], cwd=base,
                            stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        def up() -> bool:
            if proc.poll() is not None:
                raise AssertionError("daemon exited: " + (base / "daemon.out").read_text())
            try:
                return ApiClient("127.0.0.1", port).get("/api/health").status == 200
            except OSError:
                return False
        wait_until(up, timeout=60.0, step=0.3, what="daemon /api/health")
        wait_until(lambda: (base / "db" / "initial_admin_password").exists(), timeout=10.0,
                   what="initial_admin_password")
        yield Daemon(base, port, proc)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        out.close()


@pytest.fixture
def camera_url(rtsp_camera: Any) -> str:
    """The real RTSP test camera (GStreamer), H.264 + AAC encoded live."""
    return str(rtsp_camera.url("live264"))


def _login(page: Any, d: Daemon, hash_: str = "#/live") -> None:
    sign_in(page, d.base_url, d.password, hash_)


def test_generated_password_forced_change_then_dashboard(daemon: Daemon, chromium: Any) -> None:
    with checked_page(chromium) as page:
        sign_in(page, daemon.base_url, daemon.password, "", ready="text=Choose a new password")
        page.fill("input[name=current_password]", daemon.password)
        page.fill("input[name=new_password]", NEW_PASSWORD)
        page.fill("input[name=confirm_password]", NEW_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("h1:has-text('Live')")
        daemon.password = NEW_PASSWORD
        assert daemon.client().get("/api/auth/verify").json["must_change_password"] is False


@pytest.mark.camera
def test_camera_live_recording_and_timeline(daemon: Daemon, chromium: Any,
                                            camera_url: str) -> None:
    with checked_page(chromium) as page:
        _login(page, daemon, "#/streams")
        page.click("button:has-text('Add stream')")
        page.fill("input[name=name]", "cam")
        page.fill("input[name=url]", camera_url)
        page.fill("input[name=segment_duration]", "10")
        page.click("form.stream-form button[type=submit]")
        page.wait_for_selector("tr[data-stream='cam']")
        # Live: the tile plays for 5 s and says "recording".
        assert_live_tile_records(page, daemon.base_url, "cam")
        # A recording appears, plays in the modal, downloads, is protected, then deleted.
        api = daemon.client()

        def done_recording() -> Any:
            rows = api.get("/api/recordings?stream=cam").json["recordings"]
            return rows[-1] if rows else None
        rec = wait_until(done_recording, timeout=60.0, step=1.0, what="a finished recording")
        page.goto(daemon.base_url + "/#/recordings?stream=cam")
        row = f"tr[data-id='{rec['id']}']"
        page.wait_for_selector(row)
        page.click(f"{row} button.thumb-btn")
        assert_advances(page, "dialog.modal video.player", 2.0)
        with page.expect_download() as dl:
            page.click("dialog.modal a:has-text('Download')")
        assert os.path.getsize(dl.value.path()) == rec["size_bytes"]
        page.click("dialog.modal button:has-text('Protect')")
        page.wait_for_selector("dialog.modal button:has-text('Unprotect')")
        assert api.get(f"/api/recordings/{rec['id']}").json["protected"] is True
        page.click("dialog.modal button:has-text('Unprotect')")
        page.wait_for_selector("dialog.modal button:has-text('Protect')")
        page.click("dialog.modal button:has-text('Delete')")
        page.click("[data-testid=confirm-ok]")
        page.wait_for_selector(row, state="detached")
        assert api.get(f"/api/recordings/{rec['id']}").status == 404
        # Timeline: today's segments of "cam"; playback from the middle of one advances.
        seg = wait_until(lambda: done_recording(), timeout=30.0, step=1.0, what="another one")
        # the timeline of the day that holds the segment's middle (past midnight: yesterday)
        mid = (seg["start_time_unix"] + seg["end_time_unix"]) / 2
        day = datetime.date.fromtimestamp(mid)
        page.goto(daemon.base_url + f"/#/timeline?stream=cam&day={day.isoformat()}")
        track = ".ruler-track[data-stream='cam']"
        page.wait_for_selector(f"{track} .ruler-seg")
        box = page.locator(track).bounding_box()
        assert box is not None
        midnight = datetime.datetime.combine(day, datetime.time()).timestamp()
        page.mouse.click(box["x"] + box["width"] * (mid - midnight) / 86400,
                         box["y"] + box["height"] / 2)
        page.wait_for_selector(".tl-player video")
        assert_advances(page, ".tl-player video", 3.0)
        page.fill("input[type=time]", datetime.datetime.fromtimestamp(mid).strftime("%H:%M:%S"))
        page.click("form.inline button:has-text('Play')")
        page.wait_for_function("() => { const v = document.querySelector('.tl-player video');"
                               " return v && !v.paused && v.currentTime >= 3; }")
        assert_advances(page, ".tl-player video", 2.0)


def _page_shows(page: Any, d: Daemon, name: str, version: str) -> str | None:
    """What a user of this daemon sees on page `name` with its live data; None when it
    shows, otherwise what is missing. The heading first, then the page's own content."""
    heading = {"users": "Users"}.get(name, name.capitalize())
    h1 = page.locator("main#main h1").first.inner_text().strip()
    if h1 != heading:
        return f"{name}: heading {h1!r}, expected {heading!r}"
    content = {
        "live": "article.tile[data-stream='cam'] video",
        "recordings": "table.rec-table tbody tr[data-id]:has-text('cam')",
        "timeline": ".ruler-track[data-stream='cam'] .ruler-seg",
        "streams": "tr[data-stream='cam']",
        "settings": "#panel-storage input[name$='storage_path']",
        "users": "tr[data-user='admin']",
        "system": f".stat-value:text-is('{version}')",
    }[name]
    try:
        page.wait_for_selector(content, state="attached", timeout=15000)
    except Exception:
        return f"{name}: no {content}"
    if name == "settings":
        shown = page.locator("#panel-storage input[name$='storage_path']").input_value()
        if shown != str(d.base / "recordings"):
            return f"settings: storage path field shows {shown!r}"
    return None


def test_screenshots_of_every_page_with_live_data(daemon: Daemon, chromium: Any) -> None:
    version = daemon.client().get("/api/system").json["version"]
    for width, height in ((1280, 800), (390, 844)):
        missing: list[str] = []
        with checked_page(chromium, width, height) as page:
            _login(page, daemon)
            for name in PAGES:
                page.goto(f"{daemon.base_url}/#/{name}")
                page.wait_for_selector("main#main h1")
                if name == "live":
                    page.wait_for_function("() => { const v = document.querySelector("
                                           "'article.tile video'); return v && v.currentTime > 0;}",
                                           timeout=20000)
                page.wait_for_timeout(700)
                problem = _page_shows(page, daemon, name, version)
                if problem is not None:
                    missing.append(f"{width}px {problem}")
                shot(page, f"daemon-{name}")
        assert not missing, missing
