"""The cheroot server thread: bounded stop, in-flight requests, no thread leaks, timeouts."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from lightnvr.core.shutdown import ShutdownCoordinator
from lightnvr.web.http import Access, Request, Response
from lightnvr.web.server import WebServer
from tests.fixtures.wait import wait_until


def _new_threads(before: set[threading.Thread], wait: float = 2.0) -> list[str]:
    def left() -> list[str]:
        return [t.name for t in threading.enumerate() if t not in before and t.is_alive()]

    wait_until(lambda: not left(), wait, step=0.02)
    return left()


def test_threads_are_named_and_stop_leaves_none(web_factory):
    before = set(threading.enumerate())
    web = web_factory()
    names = {t.name for t in threading.enumerate()}
    assert "web" in names and "web:worker-1" in names
    assert web.api.get("/api/health").status == 200
    t0 = time.monotonic()
    web.server.stop(3.0)
    assert time.monotonic() - t0 < 3.5
    assert _new_threads(before) == []
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", web.port), timeout=1).close()


def test_in_flight_request_finishes_during_stop(web):
    entered, release = threading.Event(), threading.Event()

    def slow(req: Request) -> Response:
        entered.set()
        release.wait(1.0)
        return Response.json({"done": True})

    web.app.router.add("GET", "/api/test-slow", slow, Access.READ)
    result: dict[str, object] = {}
    t = threading.Thread(target=lambda: result.update(r=web.api.get("/api/test-slow")))
    t.start()
    assert entered.wait(5)
    t0 = time.monotonic()
    web.server.stop(5.0)
    t.join(5)
    assert result["r"].status == 200 and result["r"].json == {"done": True}  # type: ignore[attr-defined]
    assert time.monotonic() - t0 < 5.0


def test_stuck_handler_does_not_hold_stop_past_its_deadline(web, caplog):
    release = threading.Event()
    entered = threading.Event()

    def stuck(req: Request) -> Response:
        entered.set()
        release.wait(30)
        return Response.json({})

    web.app.router.add("GET", "/api/test-stuck", stuck, Access.READ)
    t = threading.Thread(target=lambda: web.api.request("GET", "/api/test-stuck"), daemon=True)
    t.start()
    assert entered.wait(5)
    t0 = time.monotonic()
    with caplog.at_level("ERROR"):
        web.server.stop(1.0)
    assert time.monotonic() - t0 < 1.6
    assert any("overran" in r.getMessage() for r in caplog.records)
    release.set()
    t.join(5)


def test_shutdown_coordinator_stops_web_first(web):
    coord = ShutdownCoordinator(global_deadline=10)
    order: list[str] = []
    coord.register("database", 40, lambda s: order.append("database"))
    web.server.register_shutdown(coord)
    assert coord.registered()[0] == "web"
    report = coord.shutdown()
    assert report.ok and order == ["database"]
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", web.port), timeout=1).close()


def test_busy_port_fails_start_with_address(web):
    other = WebServer(web.ctx.config.web, web.app, port=web.port, bind_ip="127.0.0.1")
    with pytest.raises(OSError, match=f"127.0.0.1:{web.port}"):
        other.start()


def test_stalled_client_is_dropped_after_socket_timeout(web):
    srv = WebServer(web.ctx.config.web, web.app, port=0, bind_ip="127.0.0.1",
                    socket_timeout=1.0)
    srv.start()
    try:
        s = socket.create_connection(("127.0.0.1", srv.bound_port), timeout=5)
        s.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")  # never finishes the headers
        t0 = time.monotonic()
        data = s.recv(4096)
        while data:
            more = s.recv(4096)
            if not more:
                break
            data += more
        assert time.monotonic() - t0 < 4.0  # closed by the server, not by our 5 s timeout
        s.close()
    finally:
        srv.stop(2.0)


def test_many_concurrent_clients(web):
    errors: list[object] = []

    def worker() -> None:
        for _ in range(5):
            r = web.api.get("/api/system/status")
            if r.status != 200:
                errors.append(r.status)

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []


def _read_response(s: socket.socket) -> bytes:
    """One whole response (head and Content-Length body) off a kept-alive connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        assert chunk, f"closed before the response was complete: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        chunk = s.recv(4096)
        assert chunk, "closed before the body was complete"
        body += chunk
    return head


def test_kept_alive_connection_is_served_then_expired(web):
    """The accept loop sleeps until something is due: a connection handed back for keep-alive
    still gets its next request served, and is closed once it idles past the socket timeout
    (not left open because the loop slept through its expiry)."""
    srv = WebServer(web.ctx.config.web, web.app, port=0, bind_ip="127.0.0.1",
                    socket_timeout=1.0)
    srv.start()
    try:
        with socket.create_connection(("127.0.0.1", srv.bound_port), timeout=8) as s:
            for _ in range(2):  # the second request proves the connection was kept alive
                s.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
                assert _read_response(s).startswith(b"HTTP/1.1 200")
            assert s.recv(4096) == b""  # the server closed it (our 8 s timeout raises)
    finally:
        srv.stop(2.0)


def test_stop_is_prompt_with_kept_alive_connections(web):
    """stop() wakes the sleeping accept loop itself, with idle kept-alive connections open."""
    before = set(threading.enumerate())
    srv = WebServer(web.ctx.config.web, web.app, port=0, bind_ip="127.0.0.1")
    srv.start()
    socks = [socket.create_connection(("127.0.0.1", srv.bound_port), timeout=8)
             for _ in range(3)]
    try:
        for s in socks:
            s.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert _read_response(s).startswith(b"HTTP/1.1 200")
        t0 = time.monotonic()
        srv.stop(3.0)
        assert time.monotonic() - t0 < 3.5  # within its deadline (the loop sleeps 10 s)
        assert _new_threads(before) == []
        for s in socks:
            assert s.recv(4096) == b""  # closed by the server, not left to our timeout
    finally:
        for s in socks:
            s.close()
