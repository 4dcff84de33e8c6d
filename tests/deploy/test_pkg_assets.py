"""tools/pkg_assets.py: what goes into the wheel's lightnvr/www and lightnvr/conf (made-up UI)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import pkg_assets

sys.path.pop(0)

INDEX = """<!doctype html><script type="importmap">{"imports":{
"preact":"/node_modules/preact/dist/preact.module.js",
"hls.js":"/node_modules/hls.js/dist/hls.mjs"}}</script>
<link rel="stylesheet" href="node_modules/fontpkg/font.css">
<script type="module" src="/js/main.js"></script>"""


def _ui(tmp_path: Path) -> Path:
    www = tmp_path / "www"
    files = {
        "index.html": INDEX,
        "js/main.js": 'import { h } from "preact";\nexport const x = 1;\n',
        "css/app.css": "body { margin: 0 }\n",
        "package.json": "{}",
        "package-lock.json": "{}",
        ".eslintrc": "{}",
        "node_modules/preact/dist/preact.module.js": 'import "./chunk.js";\n',
        "node_modules/preact/dist/chunk.js": "export {};\n",
        "node_modules/preact/dist/unused.js": "export {};\n",
        "node_modules/hls.js/dist/hls.mjs": "export default 1;\n",
        "node_modules/hls.js/dist/hls.js": "big\n",
        "node_modules/fontpkg/font.css": "@font-face {}\n",
        "node_modules/axe-core/axe.js": "dev only\n",
    }
    for rel, text in files.items():
        path = www / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return www


def test_referenced_files_closed_over_relative_imports(tmp_path: Path) -> None:
    www = _ui(tmp_path)
    assert pkg_assets.referenced_node_modules(www) == [
        "fontpkg/font.css",
        "hls.js/dist/hls.mjs",
        "preact/dist/chunk.js",
        "preact/dist/preact.module.js",
    ]


def test_stage_www_copies_ui_and_only_used_vendor_files(tmp_path: Path) -> None:
    www = _ui(tmp_path)
    dest = tmp_path / "build" / "lightnvr" / "www"
    pkg_assets.stage_www(www, dest)
    got = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert got == [
        "css/app.css", "index.html", "js/main.js",
        "node_modules/fontpkg/font.css", "node_modules/hls.js/dist/hls.mjs",
        "node_modules/preact/dist/chunk.js", "node_modules/preact/dist/preact.module.js",
    ]
    assert (dest / "index.html").read_text() == INDEX


def test_missing_npm_package_is_a_clear_error(tmp_path: Path) -> None:
    www = _ui(tmp_path)
    (www / "node_modules/hls.js/dist/hls.mjs").unlink()
    with pytest.raises(pkg_assets.MissingAssetError, match=r"make www-deps"):
        pkg_assets.stage_www(www, tmp_path / "out")


def test_sdist_tree_keeps_checkout_layout(tmp_path: Path) -> None:
    root = tmp_path / "checkout"
    _ui(root)
    conf = root / "conf"
    conf.mkdir()
    (conf / "lightnvr.conf").write_text("[web]\nport = 8080\n")
    (conf / "lightnvr.service").write_text("[Service]\nType=notify\n")
    release = tmp_path / "lightnvr-0.1.0"
    pkg_assets.stage_sdist_assets(root, release)
    assert (release / "www/node_modules/hls.js/dist/hls.mjs").is_file()
    assert not (release / "www/node_modules/axe-core").exists()
    assert (release / "conf/lightnvr.service").read_text() == "[Service]\nType=notify\n"
    assert (release / "tools/pkg_assets.py").is_file()
    # ...and the wheel built from that sdist tree gets the same files.
    pkg = tmp_path / "build" / "lightnvr"
    pkg_assets.stage_package_assets(release, pkg)
    assert (pkg / "www/node_modules/preact/dist/chunk.js").is_file()
    assert (pkg / "conf/lightnvr.conf").is_file()


def test_the_real_ui_references_installed_files() -> None:
    """The checkout's UI names only node_modules files that `make www-deps` installed."""
    www = Path(__file__).resolve().parents[2] / "www"
    if not (www / "node_modules").is_dir():
        pytest.skip("www/node_modules is missing: run `make www-deps` (make test does)")
    refs = pkg_assets.referenced_node_modules(www)
    assert refs
    assert all((www / "node_modules" / rel).is_file() for rel in refs)
