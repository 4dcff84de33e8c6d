"""Stage the run-time assets (www/ with its npm JavaScript, conf/ defaults) into a build tree.

Used by setup.py's build_py and sdist hooks so that a wheel and an sdist carry everything the
daemon needs at run time and a device needs no Node:

- ``www/`` is copied without ``node_modules/``; of ``node_modules/`` only the files the UI
  really references (``/node_modules/...`` strings in its HTML/JS/CSS, e.g. the import map in
  ``index.html``) are copied, plus the files those reference by relative import. hls.js alone
  is 32 MB unpacked; the UI loads one 1 MB file of it.
- ``conf/`` defaults (``lightnvr.conf``, ``lightnvr.service``) are copied as they are.

In a wheel they land in ``lightnvr/www`` and ``lightnvr/conf`` (same relative layout as the
checkout, so a static server that maps ``/node_modules/...`` onto ``<www>/node_modules/...``
works in both). Standard library only: setup.py imports it before any dependency exists.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

# Text files of the UI that may name a node_modules file.
_SCANNED_SUFFIXES = {".html", ".js", ".mjs", ".css"}
# Files of www/ itself that are build inputs, not run-time assets.
_WWW_EXCLUDED_NAMES = {"node_modules", "package.json", "package-lock.json"}
_NODE_MODULES_REF = re.compile(r"""["'(]/?node_modules/([A-Za-z0-9@._/+-]+?)["')?#]""")
# Relative ES module imports inside a vendored file: from "./x.js", import("../y.mjs").
_RELATIVE_IMPORT = re.compile(r"""(?:from|import)\s*\(?\s*["'](\.{1,2}/[^"']+)["']""")
_CONF_FILES = ("lightnvr.conf", "lightnvr.service")


class MissingAssetError(RuntimeError):
    """A file the UI references is not in www/node_modules (npm packages not installed)."""


def _www_sources(www: Path) -> list[Path]:
    """Files of www/ that ship as they are (everything except node_modules and npm metadata)."""
    out: list[Path] = []
    for path in sorted(www.rglob("*")):
        rel = path.relative_to(www)
        if rel.parts[0] in _WWW_EXCLUDED_NAMES or any(p.startswith(".") for p in rel.parts):
            continue
        if path.is_file():
            out.append(path)
    return out


def referenced_node_modules(www: Path) -> list[str]:
    """Paths below www/node_modules that the UI needs, closed over relative imports."""
    wanted: set[str] = set()
    for src in _www_sources(www):
        if src.suffix in _SCANNED_SUFFIXES:
            text = src.read_text(encoding="utf-8", errors="replace")
            wanted.update(m.group(1) for m in _NODE_MODULES_REF.finditer(text))
    modules = www / "node_modules"
    todo = sorted(wanted)
    seen: set[str] = set()
    while todo:
        rel = todo.pop()
        if rel in seen:
            continue
        seen.add(rel)
        path = modules / rel
        if not path.is_file():
            raise MissingAssetError(
                f"www references node_modules/{rel} but {path} does not exist: "
                "install the UI's npm packages first (`make www-deps`, i.e. `npm ci` in www/)"
            )
        if path.suffix in (".js", ".mjs"):
            text = path.read_text(encoding="utf-8", errors="replace")
            for m in _RELATIVE_IMPORT.finditer(text):
                dep = (path.parent / m.group(1)).resolve()
                try:
                    todo.append(dep.relative_to(modules.resolve()).as_posix())
                except ValueError:
                    continue  # points outside node_modules: not ours to vendor
    return sorted(seen)


def _copy(src: Path, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    return dest


def stage_www(www: Path, dest: Path) -> list[Path]:
    """Copy the UI and the node_modules files it references into dest; return what was written."""
    if not www.is_dir():
        raise MissingAssetError(f"{www} does not exist: nothing to package for the web UI")
    written = [_copy(src, dest / src.relative_to(www)) for src in _www_sources(www)]
    for rel in referenced_node_modules(www):
        written.append(_copy(www / "node_modules" / rel, dest / "node_modules" / rel))
    return written


def stage_conf(conf: Path, dest: Path) -> list[Path]:
    """Copy the default configuration and systemd unit into dest."""
    written: list[Path] = []
    for name in _CONF_FILES:
        src = conf / name
        if not src.is_file():
            raise MissingAssetError(f"{src} does not exist: the package ships it as a default")
        written.append(_copy(src, dest / name))
    return written


def stage_package_assets(project_root: Path, package_dir: Path) -> list[Path]:
    """build_py hook: put www/ and conf/ inside the built package (lightnvr/www, lightnvr/conf)."""
    return stage_www(project_root / "www", package_dir / "www") + stage_conf(
        project_root / "conf", package_dir / "conf"
    )


def stage_sdist_assets(project_root: Path, release_dir: Path) -> list[Path]:
    """sdist hook: the source tree keeps checkout layout, node_modules trimmed to what is used."""
    written = stage_www(project_root / "www", release_dir / "www")
    written += stage_conf(project_root / "conf", release_dir / "conf")
    helper = Path(__file__).resolve()
    written.append(_copy(helper, release_dir / "tools" / helper.name))
    return written


def main(argv: list[str] | None = None) -> int:
    """`python tools/pkg_assets.py [ROOT]`: list the node_modules files the UI needs."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("root", nargs="?", default=str(Path(__file__).resolve().parents[1]))
    args = parser.parse_args(argv)
    try:
        for rel in referenced_node_modules(Path(args.root) / "www"):
            print(f"www/node_modules/{rel}")
    except MissingAssetError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
