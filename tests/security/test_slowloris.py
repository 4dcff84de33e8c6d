"""Slowloris (issue #10 item 9): clients that trickle header bytes must not starve the server.

The real daemon (8 web workers, the default) with 32 clients connected, each sending a request
line and then one header byte every half second, never finishing the head (half of them on a
kept-alive connection, after one honest request) — or, the same attack one step later, a
complete login head announcing a small body that then trickles in a byte at a time. Meanwhile
`GET /api/health` from a well-behaved client must answer within 1 s, sample after sample; and
the server itself ends the trickling connections once their head is overdue.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.daemon import DaemonProcess, start_daemon

CLIENTS = 32
TRICKLE_PERIOD = 0.5
SAMPLES = 8
LIMIT = 1.0  # seconds, as the issue asks
HEAD_DEADLINE_BOUND = 30.0  # the server's head deadline is 10 s; a generous bound


# What each slow client sends before it starts trickling: an unfinished head, or a whole
# unauthenticated login head whose announced body never finishes.
OPENINGS = {
    "head": b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ",
    "body": b"POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 2000\r\n\r\n{\"username\": \"",
}


class Trickler:
    """CLIENTS sockets fed one byte each every TRICKLE_PERIOD from one thread."""

    def __init__(self, port: int, opening: bytes) -> None:
        self.socks: list[socket.socket] = []
        for i in range(CLIENTS):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            if i % 2:  # half of them on a kept-alive connection, after one honest request
                s.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                _read_answer(s)
            s.sendall(opening)
            self.socks.append(s)
        self.sent_ok = [True] * CLIENTS
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="test:trickler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(TRICKLE_PERIOD):
            for i, s in enumerate(self.socks):
                try:
                    s.send(b"a")
                except OSError:
                    self.sent_ok[i] = False

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def close(self) -> None:
        self.stop()
        for s in self.socks:
            s.close()


def _read_answer(s: socket.socket) -> None:
    """Read one HTTP answer with a Content-Length body off a kept-alive socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(4096)
    head, body = data.split(b"\r\n\r\n", 1)
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    assert head.startswith(b"HTTP/1.1 200"), head
    while len(body) < length:
        body += s.recv(4096)


def _health_seconds(port: int) -> float:
    """Seconds for a fresh client to get /api/health answered (inf when it is not, in 3 s)."""
    t0 = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
    try:
        conn.request("GET", "/api/health")
        resp = conn.getresponse()
        resp.read()
        return time.monotonic() - t0 if resp.status == 200 else float("inf")
    except OSError:
        return float("inf")
    finally:
        conn.close()


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[DaemonProcess]:
    d = start_daemon(tmp_path / "nvr")
    try:
        yield d
    finally:
        assert d.stop() == 0, d.log_tail()


@pytest.mark.parametrize("part", sorted(OPENINGS))
def test_health_answers_within_a_second_while_32_clients_trickle_headers(
        daemon: DaemonProcess, part: str) -> None:
    assert _health_seconds(daemon.port) < LIMIT  # the baseline
    trickler = Trickler(daemon.port, OPENINGS[part])
    try:
        time.sleep(2 * TRICKLE_PERIOD)  # every slow client has connected and is trickling
        samples = []
        for _ in range(SAMPLES):
            samples.append(_health_seconds(daemon.port))
            time.sleep(0.25)
        # The attack was real while we measured: every slow connection was still open.
        assert all(trickler.sent_ok), "the server closed slow clients before the measurement"
        assert max(samples) < LIMIT, [round(s, 2) for s in samples]

        # The server, not the clients, ends an overdue head: every slow connection is closed.
        trickler.stop()
        deadline = time.monotonic() + HEAD_DEADLINE_BOUND
        for s in trickler.socks:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            data = b""
            try:
                while chunk := s.recv(4096):
                    data += chunk
            except TimeoutError:
                pytest.fail("a trickling connection was still open after "
                            f"{HEAD_DEADLINE_BOUND} s")
            except ConnectionResetError:
                pass
            assert data == b"" or data.startswith(b"HTTP/1.1 408"), data[:80]
    finally:
        trickler.close()
    assert _health_seconds(daemon.port) < LIMIT
