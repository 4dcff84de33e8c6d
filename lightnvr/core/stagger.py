"""Staggered start-up: start registered items (streams) one at a time with a delay between them.

Design: `run()` works in the caller's thread; `start()` runs the same loop in a thread named
`stagger` (core.worker_thread) so the main loop (and READY=1) need not wait for every stream.
The delay is an `Event.wait`, so `stop()` ends it at once (the daemon's stop event within 0.1
s); items not yet started are reported by `pending()`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from lightnvr.core.worker_thread import WorkerThread

log = logging.getLogger(__name__)


class StaggeredStarter(WorkerThread):
    """Start callables one at a time, `delay` seconds apart, until done or stopped."""

    delay: float

    def __init__(self, delay: float, stop_event: threading.Event | None = None) -> None:
        if delay < 0:
            raise ValueError(f"stagger delay must be >= 0, got {delay}")
        # not a daemon thread: interpreter exit waits for a start() in progress
        super().__init__("stagger", daemon=False)
        self.delay = delay
        self._external = stop_event
        self._lock = threading.Lock()
        self._items: list[tuple[str, Callable[[], None]]] = []
        self._started: list[str] = []
        self._failed: list[str] = []

    def add(self, name: str, start: Callable[[], None]) -> None:
        """Queue `start` (called once, in order); may be called while running."""
        with self._lock:
            self._items.append((name, start))

    def _next(self) -> tuple[str, Callable[[], None]] | None:
        with self._lock:
            return self._items.pop(0) if self._items else None

    def run(self) -> list[str]:
        """Start everything queued; returns the names started. A failing item is logged."""
        first = True
        while not self._stopped():
            item = self._next()
            if item is None:
                break
            if not first and self._wait(self.delay):
                with self._lock:
                    self._items.insert(0, item)
                break
            first = False
            name, start = item
            try:
                start()
                log.info("started %s", name)
                with self._lock:
                    self._started.append(name)
            except Exception:
                log.error("starting %s failed", name, exc_info=True)
                with self._lock:
                    self._failed.append(name)
        return self.started()

    def _stopped(self) -> bool:
        return self._stop.is_set() or (self._external is not None and self._external.is_set())

    def _wait(self, seconds: float) -> bool:
        """Wait `seconds` unless stopped; True if stopped. The external event (owned by the
        daemon, which we must not set) is checked every 0.1 s."""
        deadline = time.monotonic() + seconds
        while not self._stopped():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._stop.wait(min(left, 0.1) if self._external is not None else left)
        return True

    def _run(self) -> None:
        log.debug("stagger thread started")
        try:
            self.run()
        finally:
            log.debug("stagger thread exiting")

    def started(self) -> list[str]:
        with self._lock:
            return list(self._started)

    def failed(self) -> list[str]:
        with self._lock:
            return list(self._failed)

    def pending(self) -> list[str]:
        with self._lock:
            return [name for name, _ in self._items]
