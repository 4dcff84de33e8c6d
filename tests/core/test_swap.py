"""The optional swap file ([memory] use_swap, swap_file, swap_size; lightnvr/core/swap.py).

Real files on the work disk and the real kernel: enabling needs root (CAP_SYS_ADMIN) and a
filesystem that holds swap files. Each enabling test first probes the kernel with the
util-linux commands alone (fallocate, mkswap, swapon, swapoff on a 1 MiB file); only where that
probe is refused (a container without the right, a filesystem without swap files) does the
test accept the one "not enabled: <why>" line and skip the enable part with that reason, so a
bug of ours that makes the kernel say no fails the test rather than skipping it.
What a user would check is checked: /proc/swaps, the file's mode and size, the log.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lightnvr.core.swap import SwapFile
from tests.fixtures.daemon import DaemonProcess

ROOT = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="swapon needs root (CAP_SYS_ADMIN)")


def swaps() -> list[str]:
    """The file names /proc/swaps lists (what `swapon --show` prints)."""
    with open("/proc/swaps", encoding="utf-8") as fh:
        return [line.split()[0].replace("\\040", " ") for line in list(fh)[1:] if line.strip()]


class SwapDir:
    """A folder on the work disk, and why the kernel refuses swap files there (None: it takes
    them)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.refusal = self._probe()

    def _probe(self) -> str | None:
        if not all(shutil.which(c) for c in ("fallocate", "mkswap", "swapon", "swapoff")):
            return None   # cannot tell: our code must then succeed
        probe = self.path / "probe"
        try:
            for argv in (["fallocate", "-l", str(MIB), str(probe)], ["chmod", "600", str(probe)],
                         ["mkswap", str(probe)], ["swapon", str(probe)],
                         ["swapoff", str(probe)]):
                r = subprocess.run(argv, capture_output=True, text=True, check=False)
                if r.returncode != 0:
                    return f"{' '.join(argv[:1])}: {r.stderr.strip()}"
            return None
        finally:
            probe.unlink(missing_ok=True)

    def check(self, enabled: bool, messages: list[str]) -> None:
        """Enabled, unless the kernel refused the probe too (then: one clear line, skip)."""
        if self.refusal is None:
            assert enabled, messages
            return
        assert not enabled and len(messages) == 1 and " not enabled: " in messages[0], messages
        pytest.skip(f"the kernel/container refuses swap here ({self.refusal}); "
                    f"our line: {messages[0]}")


@pytest.fixture
def swap_dir(tmp_path: Path) -> Iterator[SwapDir]:
    """A SwapDir under tmp_path; any swap file left on in it is turned off."""
    d = tmp_path / "swapdir"
    d.mkdir()
    yield SwapDir(d)
    for name in swaps():
        if name.startswith(str(d)):
            subprocess.run(["swapoff", name], check=False)


@needs_root
def test_daemon_enables_swap_at_start_and_disables_it_at_stop(
        swap_dir: SwapDir, daemon_factory: Callable[..., DaemonProcess]) -> None:
    path = swap_dir.path / "data" / "swap"   # the folder is made too
    d = daemon_factory({"memory": {"use_swap": "true", "swap_file": str(path),
                                   "swap_size": f"{8 * MIB}  ; 8 MiB in bytes"}})
    log_file = d.base / "lightnvr.log"
    swap_lines = [ln for ln in log_file.read_text().splitlines() if "swap: " in ln]
    swap_dir.check(str(path) in swaps(), swap_lines)
    st = os.stat(path)
    assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_size == 8 * MIB
    assert st.st_blocks * 512 >= 8 * MIB   # allocated, not sparse
    assert d.stop() == 0
    assert str(path) not in swaps()
    text = log_file.read_text()
    assert f"swap: disabled {path}" in text
    # in the shutdown order the swap file goes after the streams (and everything else)
    order = next(ln for ln in text.splitlines() if "shutdown: stopping" in ln)
    components = order.split(": ", 2)[2].split(", ")
    assert components[-1] == "swap" and "video-recorders" in components, order
    assert text.index("shutdown: video-recorders stopped") < text.index("shutdown: swap stopped")
    # the next start finds the swap file and uses it again
    d2 = daemon_factory({"memory": {"use_swap": "true", "swap_file": str(path),
                                    "swap_size": str(8 * MIB)}})
    assert str(path) in swaps() and os.stat(path).st_ino == st.st_ino
    assert d2.stop() == 0 and str(path) not in swaps()


@needs_root
def test_own_swap_header_and_system_calls_without_the_commands(
        swap_dir: SwapDir, caplog: pytest.LogCaptureFixture) -> None:
    # as on a system without mkswap/swapon/swapoff: the kernel must accept our header
    path = swap_dir.path / "swap"
    swap = SwapFile(str(path), 4 * MIB + 123, use_commands=False)
    caplog.set_level(logging.INFO, logger="lightnvr.core.swap")
    enabled = swap.enable()
    swap_dir.check(enabled, [r.getMessage() for r in caplog.records])
    assert str(path) in swaps()
    assert os.stat(path).st_size == 4 * MIB   # whole pages
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    swap.disable()
    assert str(path) not in swaps()
    if shutil.which("swaplabel"):   # util-linux reads it as a swap area too
        r = subprocess.run(["swaplabel", str(path)], capture_output=True, text=True)
        assert r.returncode == 0 and "UUID:" in r.stdout, r.stderr


@needs_root
def test_swap_file_of_another_size_is_made_again(swap_dir: SwapDir,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    path = swap_dir.path / "swap"
    first = SwapFile(str(path), 2 * MIB)
    caplog.set_level(logging.INFO, logger="lightnvr.core.swap")
    swap_dir.check(first.enable(), [r.getMessage() for r in caplog.records])
    first.disable()
    second = SwapFile(str(path), 3 * MIB)
    assert second.enable() and str(path) in swaps()
    assert os.stat(path).st_size == 3 * MIB
    second.disable()


@needs_root
def test_tmpfs_is_refused_with_one_line_and_nothing_is_written(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    mnt = tmp_path / "tmpfs"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mnt)], check=True)
    try:
        caplog.set_level(logging.INFO, logger="lightnvr.core.swap")
        assert SwapFile(str(mnt / "swap"), 8 * MIB).enable() is False
        assert [r.levelno for r in caplog.records] == [logging.WARNING]
        message = caplog.records[0].getMessage()
        assert "not enabled" in message and "tmpfs" in message and "swap_file" in message
        assert not (mnt / "swap").exists() and str(mnt / "swap") not in swaps()
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


@needs_root
def test_a_file_that_is_not_swap_is_left_alone(swap_dir: SwapDir,
                                                caplog: pytest.LogCaptureFixture) -> None:
    path = swap_dir.path / "swap"
    path.write_bytes(b"someone's data\n" * 1000)
    caplog.set_level(logging.INFO, logger="lightnvr.core.swap")
    assert SwapFile(str(path), 4 * MIB).enable() is False
    assert path.read_bytes() == b"someone's data\n" * 1000
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert "is not a swap file; not overwriting it" in caplog.records[0].getMessage()


@needs_root
def test_a_path_that_cannot_be_made_is_one_line_not_a_crash(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "a-file").write_text("x")
    caplog.set_level(logging.INFO, logger="lightnvr.core.swap")
    assert SwapFile(str(tmp_path / "a-file" / "swap"), 4 * MIB).enable() is False
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert "not enabled: " in caplog.records[0].getMessage()
    assert (tmp_path / "a-file").read_text() == "x"


def test_without_the_right_one_line_says_so_and_the_daemon_goes_on(tmp_path: Path) -> None:
    """As an unprivileged user (root drops to nobody with setpriv): no file, one line."""
    work = tmp_path / "unprivileged"
    work.mkdir()
    work.chmod(0o777)
    tmp_path.chmod(0o755)
    code = ("import logging, sys; logging.basicConfig(stream=sys.stdout, format='%(message)s');"
            "from lightnvr.core.swap import SwapFile;"
            f"print('result', SwapFile({str(work / 'swap')!r}, {8 * MIB}).enable())")
    argv = [sys.executable, "-c", code]
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("setpriv (util-linux) is needed to drop root")
        argv = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", *argv]
    r = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)
    lines = r.stdout.splitlines()
    assert r.returncode == 0 and lines[-1] == "result False", (r.stdout, r.stderr)
    assert len(lines) == 2 and "needs root (CAP_SYS_ADMIN)" in lines[0], lines
    assert not (work / "swap").exists()
