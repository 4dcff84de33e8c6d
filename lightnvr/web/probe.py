"""WebProbe: the web server's heartbeat — thread `web:probe` asks the server for /api/health over
loopback and beats only when the server answers (or is visibly busy making progress).

Design: a heartbeat stamped by the accept loop alone would stay fresh while every worker is
stuck, and one stamped by the workers would stay fresh while nothing accepts; a real request
through the listening socket, the head gate and a worker proves the whole path (issue #10
item 15). Every `period` seconds the thread sends `GET /api/health` with a `timeout`; any
HTTP answer beats (a 503 from a broken database is the database's heartbeat to report, not
the web server's); only its status line is looked at (http.client's header parsing was most
of an idle daemon's probe cost). A probe that times out still beats when a response chunk
went out during the probe and the accept thread is alive: eight long downloads keep every
worker busy, and restarting the daemon for that would cut the downloads and the recordings
for nothing.
`stop()` sets the event and joins the thread (it wakes at once; a probe in flight ends within
`timeout`).
"""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from collections.abc import Callable

from lightnvr.core.heartbeat import Heartbeat

log = logging.getLogger(__name__)

PROBE_PATH = "/api/health"
_STATUS_LINE = re.compile(rb"HTTP/1\.[01] [1-5][0-9][0-9][ \r]")


def loopback_host(bind_ip: str) -> str:
    """The address that reaches a server bound to `bind_ip` from this host."""
    if bind_ip in ("", "0.0.0.0"):
        return "127.0.0.1"
    if bind_ip == "::":
        return "::1"
    return bind_ip


class WebProbe:
    """Thread `web:probe`: beats `heartbeat` while the server at host:port answers."""

    def __init__(self, host: str, port: int, heartbeat: Heartbeat, *, period: float,
                 timeout: float, last_progress: Callable[[], float],
                 accepting: Callable[[], bool]) -> None:
        self.host, self.port = host, port
        self._host_header = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self.heartbeat = heartbeat
        self.period, self.timeout = period, timeout
        self._last_progress = last_progress
        self._accepting = accepting
        self._stop = threading.Event()
        self._failing = False
        self._thread = threading.Thread(target=self._run, name="web:probe", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        log.info("thread web:probe started (every %.1fs)", self.period)
        while not self._stop.wait(self.period):
            try:
                self._tick()
            except Exception:  # never let the probe die: its silence would read as a hang
                log.error("web probe failed", exc_info=True)
        log.info("thread web:probe exited")

    def _tick(self) -> None:
        began = time.monotonic()
        answered = self.probe()
        busy = (not answered and self._accepting()
                and self._last_progress() >= began)
        if answered or busy:
            self.heartbeat.beat()
        if not answered and not self._failing:
            log.warning("web server did not answer %s within %.1fs%s", PROBE_PATH,
                        self.timeout, " (busy: responses are still going out)" if busy else "")
        elif answered and self._failing:
            log.info("web server answers %s again", PROBE_PATH)
        self._failing = not answered

    def probe(self) -> bool:
        """True when the server answered one request over loopback within the timeout."""
        deadline = time.monotonic() + self.timeout
        request = (f"GET {PROBE_PATH} HTTP/1.1\r\nHost: {self._host_header}\r\n"
                   "User-Agent: lightnvr-probe\r\nConnection: close\r\n\r\n").encode()
        answer = b""
        try:
            with socket.create_connection((self.host, self.port), self.timeout) as sock:
                sock.sendall(request)
                # Read to the server's close: leaving bytes unread would reset the connection
                # under the worker still writing them.
                while True:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    sock.settimeout(left)
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    answer += chunk
        except OSError:
            return False
        return _STATUS_LINE.match(answer) is not None

    def stop(self, timeout: float) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("web:probe did not stop within %.1fs", timeout)
