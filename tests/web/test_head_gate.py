"""The head gate sleeps until something is due: deadlines still close slow clients, stop wakes
it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from lightnvr.web.server import WebServer
from tests.fixtures.wait import wait_until
from tests.fixtures.web import LiveWeb


@pytest.fixture
def gated(web: LiveWeb) -> Iterator[WebServer]:
    """A server whose head deadline (1.5 s) is far shorter than its per-read timeout (20 s)."""
    srv = WebServer(web.ctx.config.web, web.app, port=0, bind_ip="127.0.0.1",
                    socket_timeout=20.0, head_deadline=1.5)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop(2.0)


def _read_until_closed(s: socket.socket) -> bytes:
    data = b""
    while chunk := s.recv(4096):
        data += chunk
    return data


def test_trickling_client_gets_408_at_the_head_deadline(gated: WebServer) -> None:
    """A client that sends a header byte every 0.2 s never goes quiet, so only the whole-head
    deadline can end it: the gate must wake for that deadline by itself."""
    stop = threading.Event()
    with socket.create_connection(("127.0.0.1", gated.bound_port), timeout=15) as s:
        def trickle() -> None:
            for byte in b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 500:
                if stop.wait(0.2):
                    return
                try:
                    s.send(bytes([byte]))
                except OSError:
                    return

        t = threading.Thread(target=trickle, name="test:trickle", daemon=True)
        t.start()
        try:
            answer = _read_until_closed(s)  # our 15 s timeout raises if the gate slept on
        finally:
            stop.set()
            t.join(5)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
    assert b'"error"' in answer


def test_silent_connection_is_closed_at_the_head_deadline(gated: WebServer) -> None:
    """A connection that sends nothing at all gives the gate no event to wake on; it is still
    answered 408 at the deadline (the gate was asleep with nothing waiting when it came)."""
    with socket.create_connection(("127.0.0.1", gated.bound_port), timeout=15) as s:
        answer = _read_until_closed(s)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:80]


def test_stop_closes_waiting_connections_and_ends_the_thread(web: LiveWeb) -> None:
    srv = WebServer(web.ctx.config.web, web.app, port=0, bind_ip="127.0.0.1")
    srv.start()
    with socket.create_connection(("127.0.0.1", srv.bound_port), timeout=8) as s:
        s.sendall(b"GET /api/health HTTP/1.1\r\n")  # waits in the gate (10 s deadline)
        gate = srv._gate
        assert gate is not None
        wait_until(lambda: gate.pending == 1, 5)
        t0 = time.monotonic()
        srv.stop(2.0)
        assert time.monotonic() - t0 < 2.5
        assert not gate._thread.is_alive()
        assert _read_until_closed(s) == b""  # closed by stop, not answered by a worker
