"""Every Config.in of the Buildroot tree parses (kconfiglib) and its selects hold together.

Buildroot's own symbols (BR2_PACKAGE_PYTHON3, BR2_PACKAGE_FFMPEG, ...) are not available
without a Buildroot checkout, so each one the tree references is declared as a stub
`bool` symbol with a prompt; kconfiglib then parses the tree exactly as Buildroot's kconfig
would (same `source "$BR2_EXTERNAL_LIGHTNVR_PATH/..."` expansion) and reports syntax errors
and references to symbols nobody defines. This runs everywhere, with no Buildroot.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

kconfiglib = pytest.importorskip(
    "kconfiglib", reason="kconfiglib (PyPI, in the dev extras) is needed to parse Config.in"
)

TREE = Path(__file__).resolve().parents[2] / "buildroot"
_SYMBOL_REF = re.compile(r"\bBR2_[A-Z0-9_]+\b")
_DEFINED = re.compile(r"^\s*(?:menu)?config\s+(BR2_[A-Z0-9_]+)", re.MULTILINE)


def _config_ins() -> list[Path]:
    return sorted(TREE.rglob("Config.in"))


def _stub_kconfig(tmp_path: Path) -> Path:
    """A top-level Kconfig: stubs for Buildroot's symbols, then the tree's Config.in."""
    referenced: set[str] = set()
    defined: set[str] = set()
    for path in _config_ins():
        text = path.read_text()
        # $BR2_EXTERNAL_LIGHTNVR_PATH is an environment variable, not a symbol.
        referenced.update(s for s in _SYMBOL_REF.findall(text) if not s.startswith("BR2_EXTERNAL"))
        defined.update(_DEFINED.findall(text))
    stubs = "".join(
        f'config {sym}\n\tbool "{sym} (Buildroot stub)"\n\n' for sym in sorted(referenced - defined)
    )
    top = tmp_path / "Kconfig"
    top.write_text(
        'mainmenu "lightnvr br2-external kconfig check"\n\n'
        + stubs
        + 'source "$BR2_EXTERNAL_LIGHTNVR_PATH/Config.in"\n'
    )
    return top


def _load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("BR2_EXTERNAL_LIGHTNVR_PATH", str(TREE))
    top = _stub_kconfig(tmp_path)
    return kconfiglib.Kconfig(str(top), warn_to_stderr=False)


def test_every_package_config_in_is_sourced() -> None:
    top = (TREE / "Config.in").read_text()
    packages = sorted(p.parent.name for p in (TREE / "package").glob("*/Config.in"))
    assert packages, "no package Config.in found under buildroot/package"
    for name in packages:
        assert f'source "$BR2_EXTERNAL_LIGHTNVR_PATH/package/{name}/Config.in"' in top, name
    # Each package also has its .mk and .hash (Buildroot checks hashes of every download).
    for name in packages:
        assert (TREE / "package" / name / f"{name}.mk").is_file(), name
        assert (TREE / "package" / name / f"{name}.hash").is_file(), name


def test_tree_parses_without_warnings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kconf = _load(tmp_path, monkeypatch)
    parsed = {Path(f).resolve() for f in kconf.kconfig_filenames}
    assert {p.resolve() for p in _config_ins()} <= parsed
    assert kconf.warnings == []
    for sym in ("BR2_PACKAGE_PYTHON_LIGHTNVR", "BR2_PACKAGE_PYTHON_AV", "BR2_PACKAGE_PYTHON_PYOTP"):
        assert sym in kconf.syms and kconf.syms[sym].nodes, sym


# A glibc toolchain with what python3, python-av, python-orjson and python-numpy need.
TOOLCHAIN = ("BR2_USE_MMU", "BR2_USE_WCHAR", "BR2_TOOLCHAIN_HAS_THREADS",
             "BR2_PACKAGE_FFMPEG_ARCH_SUPPORTS", "BR2_PACKAGE_HOST_RUSTC_TARGET_ARCH_SUPPORTS",
             "BR2_PACKAGE_PYTHON_NUMPY_ARCH_SUPPORTS", "BR2_TOOLCHAIN_USES_GLIBC")


def test_lightnvr_selects_its_runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the toolchain's prerequisites met, enabling python-lightnvr pulls in every runtime
    dependency, and python-av pulls in FFmpeg with libswscale."""
    kconf = _load(tmp_path, monkeypatch)
    for prereq in TOOLCHAIN:
        assert kconf.syms[prereq].set_value(2), prereq
    lightnvr = kconf.syms["BR2_PACKAGE_PYTHON_LIGHTNVR"]
    assert lightnvr.set_value(2)
    assert lightnvr.tri_value == 2
    for dep in ("BR2_PACKAGE_PYTHON3", "BR2_PACKAGE_PYTHON3_SQLITE", "BR2_PACKAGE_PYTHON_AV",
                "BR2_PACKAGE_PYTHON_CHEROOT", "BR2_PACKAGE_PYTHON_ORJSON",
                "BR2_PACKAGE_PYTHON_PSUTIL", "BR2_PACKAGE_PYTHON_PYOTP",
                "BR2_PACKAGE_PYTHON_SDNOTIFY", "BR2_PACKAGE_PYTHON_NUMPY",
                "BR2_PACKAGE_FFMPEG", "BR2_PACKAGE_FFMPEG_SWSCALE"):
        assert kconf.syms[dep].tri_value == 2, dep


def test_static_libs_toolchain_hides_lightnvr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Python extension modules need a shared-library toolchain: the option must not be
    selectable with BR2_STATIC_LIBS (Buildroot would otherwise fail mid-build)."""
    kconf = _load(tmp_path, monkeypatch)
    for prereq in (*TOOLCHAIN, "BR2_STATIC_LIBS"):
        kconf.syms[prereq].set_value(2)
    lightnvr = kconf.syms["BR2_PACKAGE_PYTHON_LIGHTNVR"]
    lightnvr.set_value(2)
    assert lightnvr.tri_value == 0


def test_uclibc_toolchain_hides_lightnvr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """python-numpy (motion detection) needs glibc or musl (fenv.h): with uClibc the option is
    hidden rather than selecting a package Buildroot would refuse."""
    kconf = _load(tmp_path, monkeypatch)
    for prereq in TOOLCHAIN:
        if prereq != "BR2_TOOLCHAIN_USES_GLIBC":
            kconf.syms[prereq].set_value(2)
    lightnvr = kconf.syms["BR2_PACKAGE_PYTHON_LIGHTNVR"]
    lightnvr.set_value(2)
    assert lightnvr.tri_value == 0
    kconf.syms["BR2_TOOLCHAIN_USES_MUSL"].set_value(2)
    lightnvr.set_value(2)
    assert lightnvr.tri_value == 2


def test_harness_catches_a_syntax_error(tmp_path: Path) -> None:
    """The same loader reports a broken Config.in (so a passing parse means something)."""
    broken = tmp_path / "Config.in"
    broken.write_text('config BR2_PACKAGE_BROKEN\n\tbool "broken"\n\tselect\n')
    with pytest.raises(kconfiglib.KconfigError):
        kconfiglib.Kconfig(str(broken), warn_to_stderr=False)
