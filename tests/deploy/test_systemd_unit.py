"""conf/lightnvr.service (and the Buildroot image's drop-in for it) pass `systemd-analyze verify`.

`systemd-analyze verify` refuses a unit whose ExecStart= binary does not exist on the machine
running the check ("Command ... is not executable"). The unit names the installed script
(/usr/local/bin/lightnvr from `make install`, /usr/bin/lightnvr in the Buildroot drop-in),
which a test machine does not have, so the check runs on a copy whose ExecStart= binaries
are rewritten to an existing executable (/bin/true), arguments kept. Everything else is
verified as shipped: sections, keys, values, sandboxing options, drop-in merging.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "conf" / "lightnvr.service"
DROPIN = ROOT / "buildroot/package/python-lightnvr/lightnvr.service.d/buildroot.conf"
_EXEC_START = re.compile(r"^(ExecStart=[-+!@:]*)(/\S+)", re.MULTILINE)

pytestmark = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze (Debian package systemd) is not installed",
)


def _with_existing_binary(text: str) -> str:
    return _EXEC_START.sub(lambda m: m.group(1) + "/bin/true", text)


def _verify(unit_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", "verify", str(unit_dir / "lightnvr.service")],
        capture_output=True, text=True, timeout=60,
    )


def _problems(proc: subprocess.CompletedProcess[str], unit_dir: Path) -> list[str]:
    """Lines about our files; unknown keys or sections only warn (exit status stays 0)."""
    out = proc.stdout + proc.stderr
    return [ln for ln in out.splitlines() if str(unit_dir) in ln or "lightnvr.service" in ln]


def _install(tmp_path: Path, with_dropin: bool) -> Path:
    unit_dir = tmp_path / "units"
    unit_dir.mkdir()
    (unit_dir / "lightnvr.service").write_text(_with_existing_binary(UNIT.read_text()))
    if with_dropin:
        dropin_dir = unit_dir / "lightnvr.service.d"
        dropin_dir.mkdir()
        (dropin_dir / DROPIN.name).write_text(_with_existing_binary(DROPIN.read_text()))
    return unit_dir


def test_unit_runs_the_daemon_with_watchdog() -> None:
    text = UNIT.read_text()
    assert _EXEC_START.search(text), "no ExecStart= with an absolute path"
    assert re.search(r"^Type=notify$", text, re.MULTILINE)
    assert re.search(r"^WatchdogSec=\d+", text, re.MULTILINE)


@pytest.mark.parametrize("with_dropin", [False, True], ids=["unit", "unit+buildroot-dropin"])
def test_systemd_analyze_verify(tmp_path: Path, with_dropin: bool) -> None:
    unit_dir = _install(tmp_path, with_dropin)
    proc = _verify(unit_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _problems(proc, unit_dir) == []


def test_verify_would_catch_a_broken_unit(tmp_path: Path) -> None:
    """The same harness fails on a bad key and a missing binary, so a pass means something."""
    unit_dir = _install(tmp_path, with_dropin=False)
    unit = unit_dir / "lightnvr.service"
    unit.write_text(unit.read_text().replace("[Service]\n", "[Service]\nBogusKey=1\n", 1))
    assert _problems(_verify(unit_dir), unit_dir) != []
    unit.write_text(_EXEC_START.sub(r"\1/nonexistent/lightnvr", UNIT.read_text()))
    assert _verify(unit_dir).returncode != 0
