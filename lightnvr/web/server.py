"""WebServer: cheroot's threaded WSGI server running the lightnvr WebApp in a thread "web".

Design: `start()` binds the listening socket in the caller's thread (so a busy port fails
start-up at once, with the address in the message) and starts cheroot's worker pool
(`[web] web_thread_pool_size` threads, renamed `web:worker-N`); the thread "web" then runs
cheroot's accept loop. A connection reaches a worker only once its request head is complete:
until then it waits in the head gate (head_gate.py, thread `web:heads`, `HEAD_DEADLINE` for the
whole head), so slow clients cannot hold the workers. With a HeartbeatRegistry the thread
`web:probe` (probe.py) requests /api/health over loopback every `PROBE_PERIOD` s and keeps the
critical heartbeat "web" fresh while the server answers. `stop(timeout)` (also registered
with the ShutdownCoordinator at PRIORITY_WEB) stops the probe and the gate, closes the listening
socket, lets workers finish in-flight requests until the deadline, then force-closes their
connections; it returns within `timeout` and logs any thread that overran. Limits: request line
+ headers `MAX_HEADER_BYTES`, body `[web] max_request_bytes` (413), socket timeout
`SOCKET_TIMEOUT` per read once a worker has the connection.
Idle cost: the accept loop (`_Connections`) sleeps until a connection arrives, a kept-alive
connection turns readable or reaches its expiry (`socket_timeout` after its last request), or
`stop()` / a worker handing a connection back wakes it through a socket pair - not every
`expiration_interval` as cheroot's own loop does (ten wake-ups a second at 0.1 s).
Live view: the server owns `LiveSockets` (live_socket.py, thread `web:live`), published to the
API as `ctx.extra[LIVE_SOCKETS]`, started and stopped with it; its gateway puts
`environ[TAKE_SOCKET]` into every request, a callable with which a handler takes over the
connection's socket (cheroot then neither answers nor shuts it down).
"""

from __future__ import annotations

import logging
import math
import selectors
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from cheroot import connections, wsgi

from lightnvr.core.config import WebConfig
from lightnvr.core.heartbeat import HeartbeatRegistry
from lightnvr.core.shutdown import PRIORITY_WEB, ShutdownCoordinator
from lightnvr.web.head_gate import HeadGate
from lightnvr.web.live_socket import LiveSockets
from lightnvr.web.probe import WebProbe, loopback_host
from lightnvr.web.waker import Waker

log = logging.getLogger(__name__)

MAX_HEADER_BYTES = 16 * 1024
SOCKET_TIMEOUT = 10.0
STOP_DEADLINE = 5.0
HEAD_DEADLINE = 10.0  # the whole request head, however it is trickled
PROBE_PERIOD = 5.0
PROBE_TIMEOUT = 5.0
HEARTBEAT_NAME = "web"
LIVE_SOCKETS = "live_sockets"  # ctx.extra key of the server's LiveSockets
TAKE_SOCKET = "lightnvr.take_socket"  # environ key: () -> the connection's socket


class SocketTakenError(Exception):
    """The connection cannot be handed over (bytes already buffered after the head, TLS)."""


class _Gateway(wsgi.Gateway_10):  # type: ignore[misc]
    """WSGI 1.0 gateway that lets a handler take the socket (live view WebSockets)."""

    taken = False

    def get_environ(self) -> dict[str, Any]:  # type: ignore[override]
        env: dict[str, Any] = super().get_environ()
        env[TAKE_SOCKET] = self._take_socket
        return env

    def _take_socket(self) -> socket.socket:
        req = self.req
        conn = req.conn
        if conn.rfile.has_data() or req.server.ssl_adapter is not None:
            raise SocketTakenError("connection cannot be handed over")
        self.taken = True  # start_response and write do nothing from now on
        req.sent_headers = True  # cheroot writes no answer of its own...
        req.close_connection = True  # ...reads no further request from it...
        conn.linger = True  # ...and neither shuts it down nor closes it: it is the caller's now
        sock: socket.socket = conn.socket
        return sock

    def start_response(self, status: str, headers: Any, exc_info: Any = None) -> Any:
        if self.taken:
            self.started_response = True
            return self.write
        return super().start_response(status, headers, exc_info)

    def write(self, chunk: bytes) -> None:
        if not self.taken:
            super().write(chunk)


class _Connections(connections.ConnectionManager):  # type: ignore[misc]
    """cheroot's keep-alive manager whose loop sleeps until the next thing is due (module doc).

    The loop body is cheroot's `ConnectionManager._run` (accept, hand readable kept-alive
    connections to the server, expire idle ones) with the select timeout computed instead of
    fixed; its helpers are cheroot's own.
    """

    # cheroot's private members we use (its type stub leaves them out)
    _selector: Any
    _stop_requested: bool
    _remove_invalid_sockets: Callable[[], None]
    _from_server_socket: Callable[[socket.socket], Any]
    _expire: Callable[..., None]

    def __init__(self, server: Any) -> None:
        super().__init__(server)
        self._waker = Waker()
        self._selector.register(self._waker.reader.fileno(), selectors.EVENT_READ,
                                data=self._waker)

    @property
    def _num_connections(self) -> int:  # cheroot's count minus our waker (keep-alive limit)
        return len(self._selector) - 2

    def put(self, conn: Any) -> None:
        super().put(conn)
        self._waker.wake()  # a new expiry to schedule: the loop may be sleeping without one

    def stop(self) -> None:
        self._stop_requested = True
        self._waker.wake()
        super().stop()  # waits for the loop to notice, which it now does at once

    def _timeout(self) -> float | None:
        """Seconds until the first kept-alive connection expires; None: nothing to expire."""
        first = min((conn.last_used for _, conn in self._selector.connections
                     if conn is not self.server), default=math.inf)
        if first == math.inf:
            return None
        return max(0.0, first + self.server.timeout - time.time())

    def _run(self, expiration_interval: float) -> None:
        while not self._stop_requested:
            try:
                active = list(self._selector.select(timeout=self._timeout()))
            except OSError:
                self._remove_invalid_sockets()
                continue
            for sock_fd, conn in active:
                if conn is self._waker:
                    self._waker.drain()
                elif conn is self.server:
                    new_conn = self._from_server_socket(self.server.socket)
                    if new_conn is not None:
                        self.server.process_conn(new_conn)
                else:  # back to the selector by put() once a worker has read the request
                    self._selector.unregister(sock_fd)
                    self.server.process_conn(conn)
            self._expire(threshold=time.time() - self.server.timeout)


class _GatedServer(wsgi.Server):  # type: ignore[misc]
    """cheroot's server with the head gate in front of its worker queue."""

    gate: HeadGate | None = None
    _connections: Any

    def prepare(self) -> None:
        super().prepare()
        # cheroot's manager holds only the listening socket so far: swap in ours.
        plain, self._connections = self._connections, _Connections(self)
        plain.close()

    def process_conn(self, conn: Any) -> None:
        gate = self.gate
        # Bytes already buffered in the reader (a pipelined request) cannot be peeked at;
        # TLS bytes cannot be read before the handshake: both go to a worker as before.
        if gate is None or self.ssl_adapter is not None or conn.rfile.has_data():
            super().process_conn(conn)
        else:
            gate.admit(conn)


class _Progress:
    """The monotonic time a response last moved: stamped per request and per body chunk."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.last = time.monotonic()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        self.last = time.monotonic()
        return _Stamped(self.app(environ, start_response), self)


class _Stamped:
    def __init__(self, body: Iterable[bytes], progress: _Progress) -> None:
        self._body = body
        self._progress = progress

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._body:
            self._progress.last = time.monotonic()
            yield chunk

    def close(self) -> None:
        closer = getattr(self._body, "close", None)
        if closer is not None:
            closer()


class WebServer:
    """One HTTP listener for the WSGI `app` on `[web] bind_ip:port`."""

    live: LiveSockets

    def __init__(self, config: WebConfig, app: Any, port: int | None = None,
                 bind_ip: str | None = None, socket_timeout: float = SOCKET_TIMEOUT, *,
                 heartbeats: HeartbeatRegistry | None = None,
                 probe_period: float = PROBE_PERIOD, probe_timeout: float = PROBE_TIMEOUT,
                 head_deadline: float = HEAD_DEADLINE) -> None:
        self.config = config
        self.socket_timeout = socket_timeout
        self.app = app
        self._progress = _Progress(app)
        self._heartbeats = heartbeats
        self._probe_period, self._probe_timeout = probe_period, probe_timeout
        self._head_deadline = head_deadline
        self._gate: HeadGate | None = None
        self._probe: WebProbe | None = None
        self._addr = (bind_ip if bind_ip is not None else config.bind_ip,
                      config.port if port is None else port)
        self._server: wsgi.Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._workers: list[threading.Thread] = []
        self.live = LiveSockets()
        ctx = getattr(app, "ctx", None)
        if ctx is not None:
            ctx.extra[LIVE_SOCKETS] = self.live

    @property
    def bound_port(self) -> int:
        """The real port (useful when configured as 0)."""
        if self._server is None or self._server.socket is None:
            raise RuntimeError("web server not started")
        return int(self._server.socket.getsockname()[1])

    @property
    def bind_ip(self) -> str:
        return self._addr[0]

    def start(self) -> None:
        """Bind and start serving; OSError names the address when the port is taken."""
        n = max(1, self.config.web_thread_pool_size)
        # cheroot's stub says int; the socket timeout is a float at runtime.
        server = _GatedServer(self._addr, self._progress, numthreads=n, max=n,
                             request_queue_size=64,
                             timeout=self.socket_timeout,  # type: ignore[arg-type]
                             shutdown_timeout=int(STOP_DEADLINE), server_name="lightnvr")
        server.gateway = _Gateway
        server.max_request_header_size = MAX_HEADER_BYTES
        server.max_request_body_size = self.config.max_request_bytes
        try:
            server.prepare()
        except OSError as e:
            raise OSError(e.errno, f"cannot listen on {self._addr[0]}:{self._addr[1]}: "
                                   f"{e.strerror or e}") from e
        self._workers = list(getattr(server.requests, "_threads", []))
        for i, t in enumerate(self._workers, 1):
            t.name = f"web:worker-{i}"
        self._server = server
        if HeadGate.available():
            self._gate = HeadGate(lambda conn: wsgi.Server.process_conn(server, conn),
                                  self._head_deadline, MAX_HEADER_BYTES,
                                  idle=self.socket_timeout)
            self._gate.start()
            server.gate = self._gate
        self.live.start(self._heartbeats)
        self._thread = threading.Thread(target=self._run, name="web", daemon=True)
        self._thread.start()
        log.info("web server listening on http://%s:%d (%d workers)", self._addr[0],
                 self.bound_port, n)
        self._start_probe()

    def _start_probe(self) -> None:
        if self._heartbeats is None:
            return
        # Stale after several failed probes in a row: one slow answer is not a hang.
        beat = self._heartbeats.register(
            HEARTBEAT_NAME, max_age=4 * (self._probe_period + self._probe_timeout))
        thread = self._thread
        self._probe = WebProbe(
            loopback_host(self._addr[0]), self.bound_port, beat, period=self._probe_period,
            timeout=self._probe_timeout, last_progress=lambda: self._progress.last,
            accepting=lambda: thread is not None and thread.is_alive())
        self._probe.start()

    def _run(self) -> None:
        log.info("thread web started")
        assert self._server is not None
        try:
            self._server.serve()
        except Exception:
            log.error("web server loop failed", exc_info=True)
        finally:
            log.info("thread web exited")

    def stop(self, timeout: float = STOP_DEADLINE) -> None:
        """Stop accepting, finish in-flight requests, return within `timeout` seconds."""
        with self._lock:
            server, thread = self._server, self._thread
            if server is None:
                return
            self._server = None
        deadline = time.monotonic() + timeout
        probe, self._probe = self._probe, None
        if probe is not None:  # first: a stopping server must not look hung
            if self._heartbeats is not None:
                self._heartbeats.unregister(HEARTBEAT_NAME)
            probe.stop(min(0.5, timeout * 0.1))
        gate, self._gate = self._gate, None
        if gate is not None:  # closes what waits for a head; newcomers go straight on
            gate.stop(min(1.0, timeout * 0.2))
        self.live.stop(min(1.0, timeout * 0.2))  # live viewers hold no worker: just close
        # Leave a little of the budget for joining "web" after the workers are done.
        server.shutdown_timeout = max(0.1, timeout * 0.7)
        stopper = threading.Thread(target=server.stop, name="web:stop", daemon=True)
        stopper.start()
        stopper.join(max(0.0, deadline - time.monotonic()))
        if thread is not None:
            thread.join(max(0.0, deadline - time.monotonic()))
        late = [t.name for t in (stopper, thread) if t is not None and t.is_alive()]
        late += [t.name for t in self._workers if t.is_alive()]
        if late:
            log.error("web server overran its %.1fs stop deadline: %s", timeout,
                      ", ".join(late))
        else:
            log.info("web server stopped")

    def register_shutdown(self, coordinator: ShutdownCoordinator,
                          deadline: float = STOP_DEADLINE) -> None:
        """Register `stop` as component "web" at PRIORITY_WEB."""
        coordinator.register("web", PRIORITY_WEB, self.stop, deadline)
