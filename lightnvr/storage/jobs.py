"""Work other threads hand to the storage thread: named jobs, each with a Future for its result.

Design: a web worker that asks for a retention pass or a sync must not wait for the pass the
storage thread is in (minutes on a full SD card), so it queues the job here and waits for its
Future as long as it likes; the storage thread runs queued jobs between its own steps
(manager.py). Asking for a job of a kind that is queued and not started yet joins that job
(ten clicks on "clean up" make one pass, not ten).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

log = logging.getLogger(__name__)


class JobQueue:
    """Jobs by kind, run in submission order by one thread (`run_pending`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, tuple[Callable[[], Any], Future[Any]]] = {}  # insertion order

    def submit(self, kind: str, fn: Callable[[], Any]) -> Future[Any]:
        """Queue `fn` as a job of `kind`, or join the queued one of that kind; its Future."""
        with self._lock:
            queued = self._jobs.get(kind)
            if queued is not None:
                return queued[1]
            done: Future[Any] = Future()
            self._jobs[kind] = (fn, done)
            return done

    def _take(self) -> tuple[str, Callable[[], Any], Future[Any]] | None:
        with self._lock:
            if not self._jobs:
                return None
            kind = next(iter(self._jobs))
            fn, done = self._jobs.pop(kind)
            return kind, fn, done

    def run_pending(self) -> int:
        """Run every queued job in this thread (its result or error goes to its Future); how
        many ran."""
        ran = 0
        while (job := self._take()) is not None:
            kind, fn, done = job
            if not done.set_running_or_notify_cancel():
                continue
            ran += 1
            try:
                done.set_result(fn())
            except Exception as exc:
                log.error("storage: %s failed", kind, exc_info=True)
                done.set_exception(exc)
        return ran

    def cancel_all(self) -> None:
        """Cancel what is still queued (the thread is stopping): waiters see CancelledError."""
        while (job := self._take()) is not None:
            job[2].cancel()
