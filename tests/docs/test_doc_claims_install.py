"""README.md and docs/deploy.md: `sudo make install` writes a production
/etc/lightnvr/lightnvr.conf from conf/lightnvr.conf "with system paths" (deploy.md's table),
no demo camera, and every place the daemon writes lies inside the unit's ReadWritePaths
(conf/lightnvr.service: ProtectSystem=strict makes everything else read-only).

The config is made by the Makefile's own recipe: `make -n install` prints it (nothing is
installed, no root needed) and its `sed` command runs here on the shipped file, into a
temporary file instead of /etc.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path, PurePosixPath

from lightnvr.core.config import Config, load_config

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
UNIT = ROOT / "conf" / "lightnvr.service"


def _installed_config(tmp_path: Path) -> Config:
    dry = subprocess.run(["make", "--no-print-directory", "-n", "install"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert dry.returncode == 0, dry.stderr
    recipe = dry.stdout.replace("\\\n", " ")
    m = re.search(r"(sed (?:\s*-e '[^']*')+)\s+conf/lightnvr\.conf > /etc/lightnvr/lightnvr\.conf",
                  recipe)
    assert m, f"no sed ... > /etc/lightnvr/lightnvr.conf in `make -n install`:\n{recipe}"
    out = tmp_path / "lightnvr.conf"
    subprocess.run(["sh", "-c", f"{m.group(1)} conf/lightnvr.conf > {out}"], cwd=ROOT,
                   check=True, timeout=30)
    return load_config(str(out), environ={})


def _doc_table() -> dict[tuple[str, str], str]:
    """deploy.md's "| `[section] key` | `value` |" rows."""
    rows = re.findall(r"^\s*\| `\[(\w+)\] (\w+)` \| `([^`]+)`", DEPLOY_DOC.read_text(),
                      re.MULTILINE)
    return {(section, key): value for section, key, value in rows}


def test_make_install_config_has_the_documented_system_paths(tmp_path: Path) -> None:
    cfg = _installed_config(tmp_path)
    assert cfg.warnings == []
    table = _doc_table()
    assert len(table) >= 7, table
    for (section, key), value in table.items():
        got = getattr(getattr(cfg, section), key)
        assert str(got).lower() == value.lower(), f"[{section}] {key} = {got}, deploy.md: {value}"

    roots = [PurePosixPath(p) for m in re.finditer(r"^ReadWritePaths=(.*)$", UNIT.read_text(),
                                                   re.MULTILINE) for p in m.group(1).split()]
    written = {
        "[storage] path": cfg.storage.path, "[storage] path_hls": cfg.storage.path_hls,
        "[database] path (its directory)": str(PurePosixPath(cfg.database.path).parent),
        "[general] log_file (its directory)": str(PurePosixPath(cfg.general.log_file).parent),
        "[general] pid_file (its directory)": str(PurePosixPath(cfg.general.pid_file).parent),
        # written only when switched on, but then under the same sandbox
        "[memory] swap_file": cfg.memory.swap_file, "[go2rtc] config_dir": cfg.go2rtc.config_dir,
    }
    for what, path in written.items():
        p = PurePosixPath(path)
        assert p.is_absolute(), f"{what} = {path}: relative, so it lands under / for systemd"
        assert any(p == r or r in p.parents for r in roots), \
            f"{what} = {path} is read-only for the service (ReadWritePaths={roots})"


def test_readme_data_table_matches_make_run_and_make_install(tmp_path: Path) -> None:
    """README's "Where data goes": the `make run` column is conf/lightnvr.conf, the packaged
    column what `make install` writes (the log file row once named a path outside the
    service's writable directories)."""
    rows = re.findall(r"^\| [^|]+ \| `\[(\w+)\] (\w+)` \| `([^`]+)` \| `([^`]+)`",
                      (ROOT / "README.md").read_text(), re.MULTILINE)
    assert len(rows) >= 4, rows
    dev = load_config(str(ROOT / "conf" / "lightnvr.conf"), environ={})
    installed = _installed_config(tmp_path)
    for section, key, run_value, packaged in rows:
        assert getattr(getattr(dev, section), key) == run_value, (section, key)
        assert getattr(getattr(installed, section), key) == packaged, (section, key)
