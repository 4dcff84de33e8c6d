"""The `env` fixture of the tests/web API tests: one ApiEnv (tests/web/api_support.py) per test.

    pytestmark = pytest.mark.api_env(streams=["cam"], ini="[storage]\\nretention_days = 1\\n")

A module (or test) marked `api_env` gets those streams created and that INI text appended to
the base configuration; unmarked ones get a bare ApiEnv. The server is stopped after the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.api_support import ApiEnv


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "api_env(streams=(), ini=''): streams and extra INI of the `env` fixture")


@pytest.fixture
def env(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ApiEnv]:
    marker = request.node.get_closest_marker("api_env")
    options = dict(marker.kwargs) if marker is not None else {}
    e = ApiEnv(tmp_path, str(options.get("ini", "")))
    try:
        for name in options.get("streams", ()):
            e.add_stream(name)
        yield e
    finally:
        e.close()
