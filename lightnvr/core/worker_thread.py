"""The stoppable-thread base: a named thread, its stop event, a deadline join and a heartbeat.

Design: a subclass implements `_run()` (one loop, typically `while not self._stop.wait(p)`)
and, when its thread blocks on something besides the stop event (a queue, a second event),
`_wake_up()` to end that wait. `start()` registers the heartbeat (if `watch()` gave one; it
is named like the thread), clears the stop event and starts the thread, unless it is running
already. `stop(timeout)` sets the event, calls `_wake_up()` and joins against the deadline;
a thread that overran is logged once and reported by the return value. When `_run()` returns
the thread drops its own heartbeat; when it raises, the heartbeat stays and goes stale, so the
watchdog sees a dead thread (core/heartbeat.py). Used by the stagger, backup, governor,
storage and packet consumer threads (cheroot's `ThreadPool.stop`, gunicorn's `Arbiter.stop`).
"""

from __future__ import annotations

import logging
import threading

from lightnvr.core.heartbeat import Heartbeat, HeartbeatRegistry

log = logging.getLogger(__name__)


class WorkerThread:
    """One named thread with a stop event; see the module doc for what callers rely on."""

    def __init__(self, thread_name: str = "", daemon: bool = True) -> None:
        self._thread_name = thread_name
        self._daemon = daemon
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()  # two start() calls make one thread
        self._registry: HeartbeatRegistry | None = None
        self._max_age = 0.0
        self._critical = True
        self._heartbeat: Heartbeat | None = None

    @property
    def thread_name(self) -> str:
        """The thread's name, also its heartbeat's."""
        return self._thread_name

    def watch(self, registry: HeartbeatRegistry, max_age: float, critical: bool = True) -> None:
        """Give the thread a heartbeat named like it, registered by the next `start()`. A
        critical one stops the watchdog pings when older than `max_age` seconds."""
        self._registry, self._max_age, self._critical = registry, max_age, critical

    def start(self) -> bool:
        """Start the thread unless it is running; True when this call started it."""
        with self._start_lock:
            if self._thread is not None and self._thread.is_alive():
                return False
            if self._registry is not None:
                self._heartbeat = self._registry.register(self.thread_name, self._max_age,
                                                          self._critical)
            self._stop.clear()
            thread = threading.Thread(target=self._main, name=self.thread_name,
                                      daemon=self._daemon)
            self._thread = thread
            thread.start()
        return True

    def stop(self, timeout: float) -> bool:
        """Ask the thread to stop and join it within `timeout` seconds; False if it overran
        (logged). Safe before `start()` and from the thread itself (no join then)."""
        self._stop.set()
        self._wake_up()
        return self.join(timeout)

    def join(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the thread to end; False (and one log line) if it
        is still running then."""
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            return True
        thread.join(max(0.0, timeout))
        if thread.is_alive():
            log.warning("%s did not stop within %.1f s", self.thread_name, timeout)
            return False
        return True

    def is_alive(self) -> bool:
        """Whether the thread has been started and has not ended yet."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def on_thread(self) -> bool:
        """Whether the caller runs in this object's thread."""
        return self._thread is not None and threading.current_thread() is self._thread

    def _main(self) -> None:
        self._run()  # an exception leaves the heartbeat registered: it goes stale
        if self._registry is not None and self._heartbeat is not None:
            # only our own: a successor started under the same name keeps its heartbeat
            self._registry.unregister(self.thread_name, self._heartbeat)

    def _beat(self) -> None:
        """Stamp the heartbeat (no-op without one); cheap enough for every packet."""
        hb = self._heartbeat
        if hb is not None:
            hb.beat()

    def _wake_up(self) -> None:
        """Hook for `stop()`: end a wait other than on `_stop` (close a queue, set an event)."""

    def _run(self) -> None:
        raise NotImplementedError
