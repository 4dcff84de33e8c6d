"""WebServer: cheroot's threaded WSGI server running the lightnvr WebApp in a thread "web".

Design: `start()` binds the listening socket in the caller's thread (so a busy port fails
start-up at once, with the address in the message) and starts cheroot's worker pool
(`[web] web_thread_pool_size` threads, renamed `web:worker-N`); the thread "web" then runs
cheroot's accept loop. `stop(timeout)` (also registered with the ShutdownCoordinator at
PRIORITY_WEB) closes the listening socket first, lets workers finish in-flight requests
until the deadline, then force-closes their connections; it returns within `timeout` and
logs any thread that overran. Limits: request line + headers `MAX_HEADER_BYTES`, body
`[web] max_request_bytes` (413), socket timeout `SOCKET_TIMEOUT` so a stalled client
releases its worker.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from cheroot import wsgi

from lightnvr.core.config import WebConfig
from lightnvr.core.shutdown import PRIORITY_WEB, ShutdownCoordinator

log = logging.getLogger(__name__)

MAX_HEADER_BYTES = 16 * 1024
SOCKET_TIMEOUT = 10.0
STOP_DEADLINE = 5.0


class WebServer:
    """One HTTP listener for the WSGI `app` on `[web] bind_ip:port`."""

    def __init__(self, config: WebConfig, app: Any, port: int | None = None,
                 bind_ip: str | None = None, socket_timeout: float = SOCKET_TIMEOUT) -> None:
        self.config = config
        self.socket_timeout = socket_timeout
        self.app = app
        self._addr = (bind_ip if bind_ip is not None else config.bind_ip,
                      config.port if port is None else port)
        self._server: wsgi.Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._workers: list[threading.Thread] = []

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
        server = wsgi.Server(self._addr, self.app, numthreads=n, max=n,
                             request_queue_size=64,
                             timeout=self.socket_timeout,  # type: ignore[arg-type]
                             shutdown_timeout=int(STOP_DEADLINE), server_name="lightnvr")
        server.max_request_header_size = MAX_HEADER_BYTES
        server.max_request_body_size = self.config.max_request_bytes
        # The accept loop notices stop() at this period; 0.1 s keeps shutdown snappy.
        server.expiration_interval = 0.1
        try:
            server.prepare()
        except OSError as e:
            raise OSError(e.errno, f"cannot listen on {self._addr[0]}:{self._addr[1]}: "
                                   f"{e.strerror or e}") from e
        self._workers = list(getattr(server.requests, "_threads", []))
        for i, t in enumerate(self._workers, 1):
            t.name = f"web:worker-{i}"
        self._server = server
        self._thread = threading.Thread(target=self._run, name="web", daemon=True)
        self._thread.start()
        log.info("web server listening on http://%s:%d (%d workers)", self._addr[0],
                 self.bound_port, n)

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
        # Leave a little of the budget for joining "web" after the workers are done.
        server.shutdown_timeout = max(0.1, timeout * 0.8)
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
