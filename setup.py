"""Build hooks only (metadata is in pyproject.toml): wheels and sdists carry www/ and conf/.

tools/pkg_assets.py puts the UI (with the node_modules files it uses) and the conf/ defaults
into lightnvr/www and lightnvr/conf of the wheel, and into the sdist with the checkout's
layout. Editable installs are left alone: they serve www/ from the checkout.
"""

import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "tools"))
import pkg_assets  # noqa: E402


class BuildPyWithAssets(build_py):
    def run(self) -> None:
        super().run()
        if not self.editable_mode:
            pkg_assets.stage_package_assets(HERE, Path(self.build_lib) / "lightnvr")


class SdistWithAssets(sdist):
    def make_release_tree(self, base_dir: str, files: list[str]) -> None:
        super().make_release_tree(base_dir, files)
        pkg_assets.stage_sdist_assets(HERE, Path(base_dir))


setup(cmdclass={"build_py": BuildPyWithAssets, "sdist": SdistWithAssets})
