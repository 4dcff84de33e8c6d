"""UI test fixtures: the real web app serving www/, and headless Debian Chromium via Playwright.

``ui`` (module scope) is a `UiServer`: the REAL `WebApp` + `WebServer` over a real migrated
SQLite database in a temp dir (tests/fixtures/web.py's `build_context`), the real stream manager
(lightnvr.video.stream_manager), and recordings seeded from a real H.264 clip.
``chromium`` (session scope) is a Playwright Browser driving /usr/bin/chromium — never a
Playwright-downloaded browser. ``page`` is a fresh 1280x800 page whose console errors and
uncaught exceptions are collected in ``page.problems`` and asserted empty at teardown.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from lightnvr.web.app import WebApp
from lightnvr.web.server import WebServer
from tests.fixtures.browser import need_browser_tools
from tests.fixtures.db import TestDb, make_clip, open_testdb
from tests.fixtures.ui_pages import checked_page, sign_in
from tests.fixtures.ui_pages import new_page as new_page  # re-exported: tests import it here
from tests.fixtures.web import ADMIN_PASSWORD, ApiClient, build_context

REPO = Path(__file__).resolve().parents[2]
WWW = REPO / "www"
OUT = REPO / "test-output" / "ui"
NEW_PASSWORD = "ui-admin-password-2"

pytestmark = pytest.mark.ui


@dataclass
class UiServer:
    base_url: str
    testdb: TestDb
    ctx: Any
    clip: bytes
    admin_password: str = ADMIN_PASSWORD
    extra: dict[str, Any] = field(default_factory=dict)

    def admin_client(self) -> ApiClient:
        """A client signed in as admin with the current password (a change ends old sessions)."""
        host, port = self.base_url.rsplit(":", 1)
        c = ApiClient(host.removeprefix("http://"), int(port))
        assert c.login("admin", self.admin_password).status == 200
        return c

    @property
    def admin(self) -> ApiClient:
        if self.extra.get("admin_pw") != self.admin_password:
            self.extra["admin"] = self.admin_client()
            self.extra["admin_pw"] = self.admin_password
        client: ApiClient = self.extra["admin"]
        return client


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    need_browser_tools()
    base = tmp_path_factory.mktemp("ui")
    testdb = open_testdb(base)
    clip_path = base / "clip.mp4"
    make_clip(clip_path, frames=80, noise=False)  # 8 s at 10 fps: long enough to watch advance
    clip = clip_path.read_bytes()
    ctx = build_context(base, testdb, www_root=str(WWW))
    server = WebServer(ctx.config.web, WebApp(ctx), port=0)
    server.start()
    port = server.bound_port
    srv = UiServer(f"http://127.0.0.1:{port}", testdb, ctx, clip)
    try:
        yield srv
    finally:
        server.stop(5.0)
        ctx.stream_manager.stop(5.0)
        testdb.db.close()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    with checked_page(chromium) as p:
        yield p


def login(page: Any, ui: UiServer, username: str = "admin", password: str | None = None,
          hash_: str = "#/live") -> None:
    """Sign in through the login form (doing the forced password change if it is asked)."""
    sign_in(page, ui.base_url, password or ui.admin_password, hash_, username, ready=None)
    page.wait_for_function("() => document.querySelector('nav#sidenav') || "
                           "document.body.innerText.includes('Choose a new password')")
    if username == "admin" and page.locator("text=Choose a new password").count():
        change_admin_password(page, ui)


def change_admin_password(page: Any, ui: UiServer) -> None:
    page.fill("input[name=current_password]", ui.admin_password)
    page.fill("input[name=new_password]", NEW_PASSWORD)
    page.fill("input[name=confirm_password]", NEW_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("nav#sidenav", state="attached")
    ui.admin_password = NEW_PASSWORD


def shot(page: Any, name: str) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    vp = page.viewport_size
    path = OUT / f"{name}-{vp['width']}x{vp['height']}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


_AXE: list[str] = []


def axe_serious(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the current page.

    axe.min.js comes from www/node_modules (npm devDependency) and is evaluated through the
    DevTools protocol, which the page's CSP does not govern, so the page keeps its real CSP.
    """
    if not _AXE:
        _AXE.append((WWW / "node_modules" / "axe-core" / "axe.min.js").read_text())
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_AXE[0])
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))")
    return found
