"""With a Buildroot checkout (env BUILDROOT_DIR): check-package is clean and the defconfigs
configure with no kconfig warning and every line of them taking effect.

Buildroot is not on any package registry, so these tests are skipped, saying why, when
BUILDROOT_DIR is not set. check-package needs python-magic and flake8 in the Python that
runs it (BUILDROOT_PYTHON, default: this interpreter) and shellcheck on PATH.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

TREE = Path(__file__).resolve().parents[2] / "buildroot"
BUILDROOT_DIR = os.environ.get("BUILDROOT_DIR", "")

pytestmark = pytest.mark.skipif(
    not BUILDROOT_DIR,
    reason="BUILDROOT_DIR is not set: point it at a Buildroot checkout to run check-package "
    "and the defconfig checks (Buildroot is not available from package registries)",
)

_SET = re.compile(r"^(BR2_\w+)=(.*)$")
_UNSET = re.compile(r"^# (BR2_\w+) is not set$")
# kconfig's complaints: unknown symbols, unmet dependencies of selected symbols, bad values.
_KCONFIG_WARNING = re.compile(r"warning|unmet|unknown symbol|invalid", re.IGNORECASE)


def _settings(path: Path) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for line in path.read_text().splitlines():
        if m := _SET.match(line.strip()):
            out[m.group(1)] = m.group(2)
        elif m := _UNSET.match(line.strip()):
            out[m.group(1)] = None
    return out


def _buildroot() -> Path:
    root = Path(BUILDROOT_DIR)
    if not (root / "Config.in").is_file() or not (root / "utils" / "check-package").is_file():
        pytest.fail(f"BUILDROOT_DIR={root} is not a Buildroot checkout")
    return root


def test_check_package_is_clean() -> None:
    root = _buildroot()
    python = os.environ.get("BUILDROOT_PYTHON", sys.executable)
    probe = subprocess.run([python, "-c", "import magic, flake8"], capture_output=True)
    if probe.returncode != 0:
        pytest.fail(f"{python} lacks python-magic/flake8 that check-package needs: "
                    "pip install python-magic flake8 (or set BUILDROOT_PYTHON)")
    files = sorted(str(p) for p in TREE.rglob("*") if p.is_file())
    proc = subprocess.run(
        [python, str(root / "utils" / "check-package"), "--br2-external", *files],
        cwd=root, capture_output=True, text=True, timeout=300,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "0 warnings generated" in out, out


@pytest.mark.parametrize(
    "defconfig", sorted(p.name for p in (TREE / "configs").glob("*_defconfig"))
)
def test_defconfig_configures_cleanly(defconfig: str, tmp_path: Path) -> None:
    root = _buildroot()
    out_dir = tmp_path / "out"
    # Only the explicit argument counts; an inherited BR2_EXTERNAL (even empty) would
    # replace the tree Buildroot remembered for olddefconfig.
    env = {k: v for k, v in os.environ.items() if k != "BR2_EXTERNAL"}
    logs = []
    for target in ([f"BR2_EXTERNAL={TREE}", defconfig], ["olddefconfig"]):
        proc = subprocess.run(
            ["make", "-s", f"O={out_dir}", *target], cwd=root, env=env,
            capture_output=True, text=True, timeout=600,
        )
        logs.append(proc.stdout + proc.stderr)
        assert proc.returncode == 0, logs[-1]
    warnings = [ln for log in logs for ln in log.splitlines() if _KCONFIG_WARNING.search(ln)]
    assert warnings == []
    # A symbol that does not exist or whose dependencies are unmet is silently dropped by
    # kconfig: every line of the defconfig must survive into .config unchanged.
    config = _settings(out_dir / ".config")
    for sym, value in _settings(TREE / "configs" / defconfig).items():
        assert config.get(sym, "<absent>") == value, f"{sym}={value} did not take effect"
    for sym in ("BR2_PACKAGE_PYTHON_LIGHTNVR", "BR2_PACKAGE_PYTHON_AV",
                "BR2_PACKAGE_PYTHON_PYOTP", "BR2_PACKAGE_PYTHON_ORJSON",
                "BR2_PACKAGE_FFMPEG_SWSCALE", "BR2_PACKAGE_PYTHON3_SQLITE"):
        assert config.get(sym) == "y", sym
