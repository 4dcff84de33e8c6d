"""The `env` fixture of the tests/web API tests: the one web harness (tests/fixtures/web.py).

    pytestmark = pytest.mark.api_env(streams=["cam"], config={"storage": {"retention_days": 1}})

`env` is a `LiveWeb` (real SQLite, real StreamManager, cheroot on a loopback port, `env.api`
logged in as admin) with no stream rows except those the marker names (created with
`env.add_stream`, so not started) and those `[section]` overrides. The server is stopped
after the test.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.fixtures.web import LiveWeb


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "api_env(streams=(), config={}): streams and [section] overrides of `env`")


@pytest.fixture
def env(web_factory: Callable[..., LiveWeb], request: pytest.FixtureRequest) -> LiveWeb:
    marker = request.node.get_closest_marker("api_env")
    options = dict(marker.kwargs) if marker is not None else {}
    live = web_factory(config=options.get("config"))
    # the harness's database comes with stream "front"; these tests start from none
    live.testdb.streams.delete(live.testdb.stream.name)
    for name in options.get("streams", ()):
        live.add_stream(name)
    return live
