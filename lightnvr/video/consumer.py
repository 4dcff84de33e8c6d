"""The loop of a packet consumer thread: drain the queue in batches, wake ~10 times a second.

Liveness: a consumer given a heartbeat (`watch()`) beats for every packet and at every idle
wake-up, so a healthy consumer with nothing to do stays fresh, and one stuck in a write (a
hung disk, a muxer that never returns) goes stale and stops the systemd watchdog pings
(core/daemon.py). An orderly exit unregisters the heartbeat; a thread that dies keeps it, so
the watchdog sees that too.

Waking a consumer for every packet (a condition notify, a context switch and a GIL handoff per
packet, ~60 packets/s per camera) cost more CPU than the muxing itself. Instead a consumer
drains everything queued, then sleeps `poll` seconds on an Event (its `stop()` sets it, so
shutdown is not delayed) - the queue's `put()` then never has a waiter to notify. Recording
and live view gain at most `poll` seconds of latency, which nobody can see.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from lightnvr.core.heartbeat import Heartbeat, HeartbeatRegistry
from lightnvr.core.memory.handoff import HandoffQueue, QueueSignal
from lightnvr.video.packet import MediaPacket

POLL_SECONDS = 0.1
log = logging.getLogger(__name__)


class ConsumerThread:
    """Lifecycle shared by the consumers of one stream's queue (recorder, live writer,
    detector).

    A subclass sets `name`, `queue` and `THREAD_PREFIX` and implements `_run`; the thread is
    named `<THREAD_PREFIX>:<name>`. `stop()` closes the queue (the loop drains it and ends),
    wakes the poll sleep, and joins against the deadline.
    """

    THREAD_PREFIX = "consumer"
    name: str
    queue: HandoffQueue[MediaPacket]

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._registry: HeartbeatRegistry | None = None
        self._max_age = 0.0
        self._critical = True
        self._heartbeat: Heartbeat | None = None
        self.errors = 0  # items the thread failed to handle

    @property
    def thread_name(self) -> str:
        return f"{self.THREAD_PREFIX}:{self.name}"

    def watch(self, registry: HeartbeatRegistry, max_age: float, critical: bool = True) -> None:
        """Give the thread a heartbeat named like it, registered by `start()`. A critical one
        stops the watchdog pings when stale; a detector's is not critical (a wedged decoder
        costs detection, not recording, and must not get the daemon restarted)."""
        self._registry, self._max_age, self._critical = registry, max_age, critical

    def start(self) -> None:
        if self._registry is not None:
            self._heartbeat = self._registry.register(self.thread_name, self._max_age,
                                                      self._critical)
        self._thread = threading.Thread(target=self._main, name=self.thread_name, daemon=True)
        self._thread.start()

    def _main(self) -> None:
        self._run()  # an exception leaves the heartbeat registered: it goes stale
        if self._registry is not None:
            self._registry.unregister(self.thread_name, self._heartbeat)

    def _beat(self) -> None:
        hb = self._heartbeat
        if hb is not None:
            hb.beat()

    def stop(self, timeout: float) -> bool:
        """Close the queue, let the thread finish what it holds; False if it overran."""
        self.queue.close()
        self._wake.set()
        if self._thread is None:
            return True
        self._thread.join(max(0.0, timeout))
        if self._thread.is_alive():
            log.warning("%s:%s did not stop within %.1f s", self.THREAD_PREFIX, self.name,
                        timeout)
            return False
        return True

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _count_error(self, what: str) -> int:
        """One more item that failed (call from an `except`): logged with its traceback the
        first three times and every 100th, so a broken camera cannot flood the log; returns
        the count (callers reset their output every 10th)."""
        self.errors += 1
        if self.errors <= 3 or self.errors % 100 == 0:
            log.warning("%s: %s (error %d)", self.thread_name, what, self.errors,
                        exc_info=True)
        return self.errors

    def _run(self) -> None:
        raise NotImplementedError


def _nothing() -> None:
    return None


def consume(queue: HandoffQueue[MediaPacket], handle: Callable[[MediaPacket], None],
            idle: Callable[[], None], wake: threading.Event,
            poll: float = POLL_SECONDS, idle_every: float = 1.0,
            beat: Callable[[], None] = _nothing) -> None:
    """Call `handle` for each item until the queue is closed and drained; `idle` about every
    `idle_every` seconds; `beat` for every item and every wake-up of an empty queue (so it
    stops only while `handle` or `idle` is stuck). `handle` owns the item (it must release
    it)."""
    take_all = queue.take_all
    next_idle = time.monotonic() + idle_every
    while True:
        # One lock acquisition for everything queued since the last wake-up (~6 packets per
        # camera at 0.1 s), not one per packet.
        items = take_all()
        beat()
        if items is QueueSignal.CLOSED:
            return
        assert not isinstance(items, QueueSignal)
        if not items:
            now = time.monotonic()
            if now >= next_idle:
                idle()
                next_idle = now + idle_every
            wake.wait(poll)
            continue
        for n, item in enumerate(items):
            try:
                handle(item)
            except BaseException:
                for rest in items[n + 1:]:  # never leak the batch's slabs
                    rest.release()
                raise
            beat()
