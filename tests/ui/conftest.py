"""UI test fixtures: the real web app serving www/, and headless Debian Chromium via Playwright.

``ui`` (module scope) is a `UiServer`: the REAL `WebApp` + `WebServer` over a real migrated
SQLite database in a temp dir (tests/fixtures/web.py's `build_context`), the real stream manager
(lightnvr.video.stream_manager), and recordings seeded from a real H.264 clip.
``chromium`` (session scope) is a Playwright Browser driving /usr/bin/chromium — never a
Playwright-downloaded browser. ``page`` is a fresh 1280x800 page whose console errors and
uncaught exceptions are collected in ``page.problems`` and asserted empty at teardown.
"""

from __future__ import annotations

import re
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
from tests.fixtures.web import ADMIN_PASSWORD, ApiClient, build_context

REPO = Path(__file__).resolve().parents[2]
WWW = REPO / "www"
OUT = REPO / "test-output" / "ui"
NEW_PASSWORD = "ui-admin-password-2"
# A media request failing while a camera is down is the network's business, not a UI bug; all
# other console errors are.
_BENIGN = re.compile(r"Failed to load resource: the server responded with a status of "
                     r"(401|404|409|503)")

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
        stop = getattr(ctx.stream_manager, "stop", None)
        if stop is not None:
            stop(5.0)
        testdb.db.close()
        shutil.rmtree(base, ignore_errors=True)


def new_page(chromium: Any, width: int = 1280, height: int = 800, **kw: Any) -> Any:
    """A page in a fresh context that records console errors and page exceptions."""
    context = chromium.new_context(viewport={"width": width, "height": height},
                                   accept_downloads=True, **kw)
    page = context.new_page()
    page.set_default_timeout(15000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console.{m.type}: {m.text} {m.location}")
            if m.type == "error" and not _BENIGN.search(m.text) else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.problems = problems  # type: ignore[attr-defined]
    return page


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    p = new_page(chromium)
    try:
        yield p
    finally:
        problems = list(p.problems)
        p.context.close()
        assert not problems, "browser console errors:\n" + "\n".join(problems)


def login(page: Any, ui: UiServer, username: str = "admin", password: str | None = None,
          hash_: str = "#/live") -> None:
    """Sign in through the login form (doing the forced password change if it is asked)."""
    page.goto(f"{ui.base_url}/{hash_}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password or ui.admin_password)
    page.click("button[type=submit]")
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
