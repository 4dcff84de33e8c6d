"""The loop of a packet consumer thread: drain the queue in batches, wake ~10 times a second.

Waking a consumer for every packet (a condition notify, a context switch and a GIL handoff per
packet, ~60 packets/s per camera) cost more CPU than the muxing itself. Instead a consumer
drains everything queued, then sleeps `poll` seconds on an Event (its `stop()` sets it, so
shutdown is not delayed) - the queue's `put()` then never has a waiter to notify. Recording
and live view gain at most `poll` seconds of latency, which nobody can see.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from lightnvr.core.memory.handoff import HandoffQueue, QueueSignal
from lightnvr.video.packet import MediaPacket

POLL_SECONDS = 0.1


def consume(queue: HandoffQueue[MediaPacket], handle: Callable[[MediaPacket], None],
            idle: Callable[[], None], wake: threading.Event,
            poll: float = POLL_SECONDS, idle_every: float = 1.0) -> None:
    """Call `handle` for each item until the queue is closed and drained; `idle` about every
    `idle_every` seconds. `handle` owns the item (it must release it)."""
    get = queue.get
    next_idle = time.monotonic() + idle_every
    while True:
        item = get(0)
        if item is QueueSignal.TIMEOUT:
            now = time.monotonic()
            if now >= next_idle:
                idle()
                next_idle = now + idle_every
            wake.wait(poll)
            continue
        if item is QueueSignal.CLOSED:
            return
        handle(item)
