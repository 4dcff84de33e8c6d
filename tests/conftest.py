"""Test-suite root: loads every fixture module under tests/fixtures/ as a pytest plugin.

Fixture modules (one per real part: camera, db, web, ...) document their fixtures in their
own docstrings.
"""

from __future__ import annotations

from pathlib import Path

pytest_plugins = [
    f"tests.fixtures.{p.stem}"
    for p in sorted((Path(__file__).parent / "fixtures").glob("*.py"))
    if p.stem != "__init__"
]
