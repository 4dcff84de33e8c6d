"""The loop of a packet consumer thread: drain the queue in batches, wake ~10 times a second.

Liveness: a consumer given a heartbeat (`watch()`) beats for every packet and at every idle
wake-up, so a healthy consumer with nothing to do stays fresh, and one stuck in a write (a
hung disk, a muxer that never returns) goes stale and stops the systemd watchdog pings
(core/daemon.py). An orderly exit unregisters the heartbeat; a thread that dies keeps it, so
the watchdog sees that too.

Waking a consumer for every packet (a condition notify, a context switch and a GIL handoff per
packet, ~60 packets/s per camera) cost more CPU than the muxing itself. Instead a consumer
drains everything queued, then waits in the queue's `take_batch()` until its WakePolicy
says a batch is due, at most `poll` seconds (`stop()` closes the queue, which ends the wait
at once). Live view and detectors poll (`put()` never has a waiter to notify) and gain at
most `poll` seconds of latency; a recorder's queue wakes it ~4 times a second.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from lightnvr.core.cpu_affinity import StreamCpuAffinity
from lightnvr.core.memory.handoff import HandoffQueue, QueueSignal
from lightnvr.core.worker_thread import WorkerThread
from lightnvr.video.packet import MediaPacket

POLL_SECONDS = 0.1
log = logging.getLogger(__name__)


class ConsumerThread(WorkerThread):
    """Lifecycle shared by the consumers of one stream's queue (recorder, live writer,
    detector): a core.worker_thread.WorkerThread.

    A subclass sets `name`, `queue` and `THREAD_PREFIX` and implements `_run`; the thread is
    named `<THREAD_PREFIX>:<name>`, and so is its heartbeat (`watch()`). `stop()` closes the
    queue (the loop drains it and ends), wakes the poll sleep, and joins against the deadline.
    A detector's heartbeat is not critical (a wedged decoder costs detection, not recording,
    and must not get the daemon restarted).
    """

    THREAD_PREFIX = "consumer"
    name: str
    queue: HandoffQueue[MediaPacket]

    def __init__(self) -> None:
        super().__init__()
        self._wake = self._stop  # the poll sleep of consume(): stop() ends it
        self.errors = 0  # items the thread failed to handle
        # Set before start() for per-packet stream threads (recorder, live writers): they
        # then run on the stream CPUs (core/cpu_affinity.py). Detectors stay unpinned.
        self.cpu_affinity: StreamCpuAffinity | None = None

    def _main(self) -> None:
        affinity = self.cpu_affinity
        if affinity is None:
            super()._main()
            return
        affinity.enter()
        try:
            super()._main()
        finally:
            affinity.leave()

    @property
    def thread_name(self) -> str:
        return f"{self.THREAD_PREFIX}:{self.name}"

    def _wake_up(self) -> None:
        self.queue.close()

    def _count_error(self, what: str) -> int:
        """One more item that failed (call from an `except`): logged with its traceback the
        first three times and every 100th, so a broken camera cannot flood the log; returns
        the count (callers reset their output every 10th)."""
        self.errors += 1
        if self.errors <= 3 or self.errors % 100 == 0:
            log.warning("%s: %s (error %d)", self.thread_name, what, self.errors,
                        exc_info=True)
        return self.errors


def _nothing() -> None:
    return None


def consume(queue: HandoffQueue[MediaPacket], handle: Callable[[MediaPacket], None],
            idle: Callable[[], None], wake: threading.Event,
            poll: float = POLL_SECONDS, idle_every: float = 1.0,
            beat: Callable[[], None] = _nothing) -> None:
    """Call `handle` for each item until the queue is closed and drained; `idle` about every
    `idle_every` seconds; `beat` for every item and every wake-up of an empty queue (so it
    stops only while `handle` or `idle` is stuck). `handle` owns the item (it must release
    it). Waits at most `poll` s at a time, less when the queue's WakePolicy says a batch is
    due sooner; `stop()` closes the queue, which ends the wait (`wake` is that stop event)."""
    take_batch = queue.take_batch
    next_idle = time.monotonic() + idle_every
    while True:
        # One lock acquisition for everything queued since the last wake-up (~6 packets per
        # camera at 0.1 s; a recorder's queue batches ~0.25 s), not one per packet.
        items = take_batch(poll)
        beat()
        if items is QueueSignal.CLOSED:
            return
        assert not isinstance(items, QueueSignal)
        if not items:
            now = time.monotonic()
            if now >= next_idle:
                idle()
                next_idle = now + idle_every
            continue
        for n, item in enumerate(items):
            try:
                handle(item)
            except BaseException:
                for rest in items[n + 1:]:  # never leak the batch's slabs
                    rest.release()
                raise
            beat()
