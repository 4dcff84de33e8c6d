"""Static UI files: MIME types, ETag/304, gzip, SPA fallback, node_modules allowlist, traversal."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from tests.web.rawhttp import get

APP_JS = "export const x = 1;\n" + "// padding to make gzip worthwhile\n" * 100


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "www"
    (root / "js").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>LightNVR</title>")
    (root / "js" / "app.js").write_text(APP_JS)
    (root / "style.css").write_text("body{}")
    (root / ".secret").write_text("hidden")
    nm = root / "node_modules"
    for pkg in ("preact", "htm", "left-pad"):
        (nm / pkg / "dist").mkdir(parents=True)
        (nm / pkg / "dist" / "index.mjs").write_text(f"export default '{pkg}';")
    outside = tmp_path / "outside.txt"
    outside.write_text("TOP SECRET")
    os.symlink(outside, root / "js" / "link.js")
    os.symlink(tmp_path, root / "up")
    return root


@pytest.fixture
def sweb(web_factory, site):
    return web_factory(www_root=str(site), login=False)


def test_types_and_index(sweb):
    c = sweb.client()
    r = c.get("/")
    assert r.status == 200 and b"LightNVR" in r.body
    assert r.headers["content-type"].startswith("text/html")
    r = c.get("/js/app.js")
    assert r.status == 200 and r.headers["content-type"].startswith("text/javascript")
    assert c.get("/style.css").headers["content-type"].startswith("text/css")


def test_client_side_routes_fall_back_to_index_only_without_dot(sweb):
    c = sweb.client()
    assert b"LightNVR" in c.get("/recordings").body
    assert b"LightNVR" in c.get("/streams/front/settings").body
    assert c.get("/missing.js").status == 404
    assert c.get("/api/unknown").status == 404  # API paths never fall back


def test_etag_and_last_modified_give_304(sweb):
    c = sweb.client()
    r = c.get("/js/app.js")
    etag, lm = r.headers["etag"], r.headers["last-modified"]
    again = c.get("/js/app.js", headers={"If-None-Match": etag})
    assert again.status == 304 and again.body == b""
    assert c.get("/js/app.js", headers={"If-Modified-Since": lm}).status == 304
    assert c.get("/js/app.js", headers={"If-None-Match": '"other"'}).status == 200
    assert c.get("/js/app.js", headers={"If-Modified-Since": "garbage"}).status == 200


def test_gzip_when_accepted(sweb):
    c = sweb.client()
    r = c.get("/js/app.js", headers={"Accept-Encoding": "gzip, deflate"})
    assert r.headers["content-encoding"] == "gzip" and "Accept-Encoding" in r.headers["vary"]
    assert gzip.decompress(r.body).decode() == APP_JS
    assert len(r.body) < len(APP_JS)
    plain = c.get("/js/app.js")
    assert "content-encoding" not in plain.headers and plain.body.decode() == APP_JS
    assert plain.headers["etag"] != r.headers["etag"]
    assert c.get("/js/app.js", headers={"Accept-Encoding": "gzip",
                                        "If-None-Match": r.headers["etag"]}).status == 304


def test_node_modules_allowlist(sweb):
    c = sweb.client()
    r = c.get("/node_modules/preact/dist/index.mjs")
    assert r.status == 200 and b"preact" in r.body
    assert c.get("/node_modules/htm/dist/index.mjs").status == 200
    assert c.get("/node_modules/left-pad/dist/index.mjs").status == 404
    assert c.get("/node_modules/preact/../left-pad/dist/index.mjs").status == 404
    assert c.get("/node_modules/preact").status == 404


@pytest.mark.parametrize("path", [
    b"/../outside.txt", b"/js/../../outside.txt", b"/%2e%2e/outside.txt",
    b"/js/%2e%2e/%2e%2e/outside.txt", b"/%2E%2E%2Foutside.txt", b"/..%2foutside.txt",
    b"/js/link.js", b"/up/outside.txt", b"/.secret", b"/js/app.js%00.html",
    b"/js/app.js\x00", b"/js\\..\\..\\outside.txt", b"//etc/passwd", b"/etc/passwd",
    b"/%2fetc%2fpasswd", b"/node_modules/preact/%2e%2e/%2e%2e/%2e%2e/outside.txt",
    b"/node_modules/../../outside.txt", b"/./index.html/../../outside.txt",
])
def test_traversal_is_refused(sweb, path):
    status, resp = get(sweb.port, path)
    assert b"TOP SECRET" not in resp and b"hidden" not in resp and b"root:" not in resp
    # refused, or (dot-less paths only) answered with the UI's index.html
    assert status in (400, 404) or (status == 200 and b"<title>LightNVR" in resp
                                     and b"." not in path), (path, status)


def test_static_is_read_only(sweb):
    r = sweb.client().post("/index.html", body=b"x")
    assert r.status == 405 and r.headers["allow"] == "GET, HEAD"


def test_static_root_falls_back_to_the_ui_shipped_with_the_code(tmp_path):
    from lightnvr.web.static import resolve_static_root

    ui = tmp_path / "ui"
    ui.mkdir()
    (ui / "index.html").write_text("<!doctype html>")
    assert resolve_static_root(str(ui)) == str(ui)
    # A configured root without the UI (e.g. the packaged default on a dev machine) falls
    # back to the checkout's www/ (or the wheel's lightnvr/www).
    found = resolve_static_root(str(tmp_path / "missing"))
    assert os.path.isfile(os.path.join(found, "index.html"))
    assert os.path.basename(found) == "www"
