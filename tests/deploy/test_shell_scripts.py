"""The Buildroot tree's shell scripts parse (`sh -n`) and pass shellcheck.

BusyBox's ash runs S99lightnvr and Buildroot runs the post-build/post-image scripts with
/bin/sh, so they are checked as POSIX sh. Buildroot's check-package runs shellcheck too, but
only with a Buildroot checkout; this runs on every `make test`.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

TREE = Path(__file__).resolve().parents[2] / "buildroot"
SCRIPTS = sorted(
    [*TREE.rglob("*.sh"), *TREE.glob("package/*/S[0-9][0-9]*")], key=lambda p: str(p)
)
IDS = [str(p.relative_to(TREE)) for p in SCRIPTS]


def test_scripts_found() -> None:
    assert {"package/python-lightnvr/S99lightnvr", "board/lightnvr/post-build.sh"} <= set(IDS)


@pytest.mark.parametrize("script", SCRIPTS, ids=IDS)
def test_parses_as_posix_sh(script: Path) -> None:
    assert script.read_text().startswith("#!/bin/sh\n")
    proc = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.skipif(shutil.which("shellcheck") is None,
                    reason="shellcheck (Debian package shellcheck) is not installed")
@pytest.mark.parametrize("script", SCRIPTS, ids=IDS)
def test_shellcheck_clean(script: Path) -> None:
    proc = subprocess.run(["shellcheck", "--shell=sh", str(script)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


SKELETON_FSTAB = "/dev/root\t/\text2\trw,noauto\t0\t1\ntmpfs\t\t/run\t\ttmpfs\tmode=0755\t0\t0\n"


def _target(tmp_path: Path, busybox_init: bool) -> Path:
    target = tmp_path / "target"
    (target / "etc").mkdir(parents=True)
    (target / "etc" / "fstab").write_text(SKELETON_FSTAB)
    if busybox_init:
        (target / "etc" / "inittab").write_text("::sysinit:/bin/mount -a\n")
    return target


def _post_build(target: Path, device: str) -> list[list[str]]:
    script = TREE / "board" / "lightnvr" / "post-build.sh"
    for _ in range(2):  # a rebuild runs it again: nothing may be added twice
        subprocess.run(["sh", str(script), str(target), device], check=True)
    return [ln.split() for ln in (target / "etc" / "fstab").read_text().splitlines()]


def test_post_build_busybox_image(tmp_path: Path) -> None:
    target = _target(tmp_path, busybox_init=True)
    fstab = _post_build(target, "/dev/vdb")
    assert (target / "data").is_dir()
    assert fstab[:2] == [ln.split() for ln in SKELETON_FSTAB.splitlines()]
    assert fstab[2] == ["/dev/vdb", "/data", "ext4", "defaults,noatime,nofail", "0", "2"]
    assert fstab[3][:3] == ["tmpfs", "/run/lightnvr/hls", "tmpfs"]
    assert "noauto" in fstab[3][3].split(",") and "size=32m" in fstab[3][3].split(",")
    assert len(fstab) == 4
    # S99lightnvr mounts the HLS tmpfs by its mount point, i.e. through this entry.
    assert 'mount "$HLS_DIR"' in (TREE / "package/python-lightnvr/S99lightnvr").read_text()


def test_post_build_systemd_image(tmp_path: Path) -> None:
    fstab = _post_build(_target(tmp_path, busybox_init=False), "/dev/mmcblk0p3")
    assert fstab[2][:2] == ["/dev/mmcblk0p3", "/data"]
    assert len(fstab) == 3  # HLS stays in the unit's RuntimeDirectory on /run
