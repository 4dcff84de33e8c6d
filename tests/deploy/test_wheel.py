"""`python -m build` makes an sdist and a wheel that run with no checkout around.

The build runs on a copy of the checkout (without .venv, .git and build leftovers) so the
shared working tree gets no build/ or *.egg-info; `python -m build` builds the sdist first
and the wheel from that sdist, so both artefacts are exercised. The wheel is installed
into a fresh venv (its dependencies from the package index) and the installed `lightnvr`
is run from a directory outside the checkout: --version, check-config of the Buildroot
device config, a database migrated from the packaged SQL files, and the packaged UI.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEVICE_CONF = ROOT / "buildroot" / "package" / "python-lightnvr" / "lightnvr.conf"
# Not sources: development state of the checkout.
_IGNORED = {".venv", ".git", "build", "dist", "var", "test-output", ".mypy_cache",
            ".ruff_cache", ".pytest_cache", "__pycache__"}

pytestmark = pytest.mark.slow


def _copy_checkout(dest: Path) -> Path:
    def ignore(directory: str, names: list[str]) -> set[str]:
        top = Path(directory) == ROOT
        return {n for n in names
                if n == "__pycache__" or n.endswith(".egg-info") or (top and n in _IGNORED)}

    shutil.copytree(ROOT, dest, ignore=ignore, symlinks=True)
    return dest


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("wheel")
    src = _copy_checkout(base / "src")
    out = base / "dist"
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(src)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    (wheel,) = out.glob("lightnvr-*.whl")
    (sdist,) = out.glob("lightnvr-*.tar.gz")
    return wheel, sdist


def _expected_www() -> list[str]:
    """UI files of the checkout (node_modules aside), relative to www/."""
    www = ROOT / "www"
    return sorted(
        p.relative_to(www).as_posix() for p in www.rglob("*")
        if p.is_file() and p.relative_to(www).parts[0] not in
        {"node_modules", "package.json", "package-lock.json"}
        and not any(part.startswith(".") for part in p.relative_to(www).parts)
    )


def _referenced_node_modules() -> list[str]:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import pkg_assets
    finally:
        sys.path.pop(0)
    return list(pkg_assets.referenced_node_modules(ROOT / "www"))


def test_wheel_contents(artefacts: tuple[Path, Path]) -> None:
    wheel, _ = artefacts
    names = set(zipfile.ZipFile(wheel).namelist())
    sql = sorted(p.name for p in (ROOT / "lightnvr/database/migrations").glob("*.sql"))
    assert sql
    for name in sql:
        assert f"lightnvr/database/migrations/{name}" in names
    assert any(n.startswith("lightnvr/www/") for n in names), (
        "the wheel has no lightnvr/www/: setup.py must run tools/pkg_assets.py from its "
        "build_py and sdist commands (docs/deploy.md)")
    for rel in _expected_www():
        assert f"lightnvr/www/{rel}" in names, rel
    node = _referenced_node_modules()
    assert node, "the UI references no node_modules file: nothing proves they get packaged"
    for rel in node:
        assert f"lightnvr/www/node_modules/{rel}" in names, rel
    # Only what the UI uses: dev tools (axe-core) and unused builds stay out.
    shipped = {n for n in names if n.startswith("lightnvr/www/node_modules/")}
    assert shipped == {f"lightnvr/www/node_modules/{rel}" for rel in node}
    assert {"lightnvr/conf/lightnvr.conf", "lightnvr/conf/lightnvr.service"} <= names


def test_sdist_is_self_contained(artefacts: tuple[Path, Path]) -> None:
    """A device build (Buildroot) from the sdist needs neither npm nor the checkout."""
    _, sdist = artefacts
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for rel in _referenced_node_modules():
        assert f"www/node_modules/{rel}" in names, rel
    assert {"www/index.html", "conf/lightnvr.conf", "conf/lightnvr.service",
            "tools/pkg_assets.py", "LICENSE"} <= names


def test_installed_wheel_runs_outside_checkout(
    artefacts: tuple[Path, Path], tmp_path: Path
) -> None:
    wheel, _ = artefacts
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = subprocess.run(
        [str(venv / "bin/python"), "-m", "pip", "install", "-q", str(wheel)],
        capture_output=True, text=True, timeout=600,
    )
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]
    work = tmp_path / "elsewhere"
    work.mkdir()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(args), cwd=work, capture_output=True, text=True,
                              timeout=120, env={"PATH": "/usr/bin:/bin", "HOME": str(work)})

    version = run(str(venv / "bin/lightnvr"), "--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("lightnvr ")
    check = run(str(venv / "bin/lightnvr"), "check-config", str(DEVICE_CONF))
    assert check.returncode == 0, check.stderr
    assert "warning" not in check.stderr
    assert "path = /data/lightnvr/recordings" in check.stdout
    probe = run(str(venv / "bin/python"), "-c", _PROBE, str(work / "probe.db"))
    assert probe.returncode == 0, probe.stderr
    lines = probe.stdout.splitlines()
    site = str(venv)
    assert lines[0].startswith(site), f"lightnvr imported from {lines[0]}, not the venv"
    assert int(lines[1]) >= 1  # schema version after migrating from the packaged SQL
    assert lines[2] == "True"  # packaged UI present next to the installed package


# Runs inside the installed venv: where lightnvr comes from, the schema version reached
# with the packaged migrations, and whether lightnvr/www/index.html was installed.
_PROBE = """
import sys
from pathlib import Path
import lightnvr
from lightnvr.database.manager import Database
db = Database(sys.argv[1])
db.open()
print(lightnvr.__file__)
print(db.schema_version)
db.close()
print((Path(lightnvr.__file__).parent / "www" / "index.html").is_file())
"""
