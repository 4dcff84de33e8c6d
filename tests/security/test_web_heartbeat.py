"""The web server's heartbeat (issue #10 item 15, web part): the watchdog sees a wedged server.

The real WebServer (cheroot, real sockets, 2 workers) with a small WSGI app and a real
HeartbeatRegistry, as the daemon's main loop reads it. An idle server keeps heartbeat "web"
fresh; every worker busy streaming keeps it fresh too (a restart would only cut the downloads);
every worker stuck makes it stale, and it is fresh again once they are released.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from lightnvr.core.config import WebConfig
from lightnvr.core.heartbeat import HeartbeatRegistry
from lightnvr.web.server import WebServer

WORKERS = 2
PROBE_PERIOD = 0.25
PROBE_TIMEOUT = 1.0
STALE_BOUND = 20.0  # generous: the heartbeat's max_age here is a few seconds


class App:
    """/block waits (never yields) until released; /stream trickles bytes; anything else: 200."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.stream_seconds = 0.0

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        if path == "/block":
            self.release.wait(60)
        start_response("200 OK", [("Content-Type", "text/plain")])
        if path == "/stream":
            return self._trickle()
        return [b"ok"]

    def _trickle(self) -> Iterator[bytes]:
        end = time.monotonic() + self.stream_seconds
        while time.monotonic() < end and not self.release.is_set():
            yield b"x" * 1024
            time.sleep(0.1)


@pytest.fixture
def served() -> Iterator[tuple[WebServer, HeartbeatRegistry, App]]:
    app = App()
    beats = HeartbeatRegistry()
    server = WebServer(WebConfig(web_thread_pool_size=WORKERS), app, port=0,
                       bind_ip="127.0.0.1", heartbeats=beats, probe_period=PROBE_PERIOD,
                       probe_timeout=PROBE_TIMEOUT)
    server.start()
    try:
        yield server, beats, app
    finally:
        app.release.set()
        server.stop(5.0)


def _get(port: int, path: str, out: list[bytes]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path)
        out.append(conn.getresponse().read())
    except OSError:
        pass
    finally:
        conn.close()


def _clients(port: int, path: str) -> list[threading.Thread]:
    out: list[bytes] = []
    threads = [threading.Thread(target=_get, args=(port, path, out), daemon=True,
                                name=f"test:client-{i}") for i in range(WORKERS)]
    for t in threads:
        t.start()
    return threads


def _stays_fresh(beats: HeartbeatRegistry, seconds: float) -> list[str]:
    """Stale lists seen while watching for `seconds` (the watchdog's view)."""
    seen: list[str] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        seen += beats.stale()
        time.sleep(0.1)
    return seen


def _max_age(beats: HeartbeatRegistry) -> float:
    assert "web" in beats.ages(), "the web server registered no heartbeat"
    return 4 * (PROBE_PERIOD + PROBE_TIMEOUT)


def test_idle_server_keeps_its_heartbeat_fresh(served: Any) -> None:
    _server, beats, _app = served
    assert _stays_fresh(beats, _max_age(beats) * 2) == []


def test_busy_streaming_workers_keep_it_fresh(served: Any) -> None:
    server, beats, app = served
    app.stream_seconds = _max_age(beats) * 2
    threads = _clients(server.bound_port, "/stream")
    assert _stays_fresh(beats, app.stream_seconds - 1) == []
    for t in threads:
        t.join(30)


def test_wedged_server_goes_stale_and_recovers(served: Any) -> None:
    server, beats, app = served
    threads = _clients(server.bound_port, "/block")  # every worker stuck, no byte going out
    deadline = time.monotonic() + STALE_BOUND
    while "web" not in beats.stale():
        assert time.monotonic() < deadline, f"heartbeat still fresh: {beats.ages()}"
        time.sleep(0.1)
    app.release.set()
    for t in threads:
        t.join(30)
    deadline = time.monotonic() + STALE_BOUND
    while "web" in beats.stale():
        assert time.monotonic() < deadline, f"heartbeat did not recover: {beats.ages()}"
        time.sleep(0.1)


def test_stop_ends_the_probe_and_forgets_the_heartbeat() -> None:
    before = set(threading.enumerate())
    beats = HeartbeatRegistry()
    server = WebServer(WebConfig(web_thread_pool_size=WORKERS), App(), port=0,
                       bind_ip="127.0.0.1", heartbeats=beats, probe_period=PROBE_PERIOD,
                       probe_timeout=PROBE_TIMEOUT)
    server.start()
    names = {t.name for t in threading.enumerate()}
    assert {"web", "web:probe", "web:heads"} <= names
    server.stop(5.0)
    assert "web" not in beats.ages()  # stopped on purpose: not a hang
    deadline = time.monotonic() + 5
    while [t for t in threading.enumerate() if t not in before and t.is_alive()]:
        assert time.monotonic() < deadline, [t.name for t in threading.enumerate()
                                             if t not in before]
        time.sleep(0.05)
