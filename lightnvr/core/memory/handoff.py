"""Bounded single-producer/single-consumer handoff queue with a GOP-aware drop policy.

`put()` never blocks: a reader thread must never stall on a slow consumer. When the queue is
over capacity, or the MemoryGovernor raised its drop level, items are dropped so that a
consumer never receives a video frame whose reference frame was dropped:

1. On overflow the oldest droppable item goes first: audio, or a non-key video frame. Dropping
   a video frame also drops every later video frame of its GOP, those queued now and those
   that arrive later, until the next keyframe (the queue then "skips to the next keyframe").
2. If only keyframes are queued (every GOP cut down to its head), the oldest GOP goes.
3. `DropLevel.KEY_ONLY` drops non-key video and audio on `put` (keyframes pass);
   `DropLevel.ALL` drops everything on `put` and discards what is queued.
4. Until the first keyframe, non-key video is dropped (a stream joined mid-GOP).

Every dropped item gets `release()` exactly once (outside the lock: releasing returns pool
slabs, and the pool's lock is never taken while holding ours). `close()` sets the flag under
the lock, then notifies; `get()` returns `QueueSignal.CLOSED` once closed and drained.

Per-packet cost (the reader puts ~60 packets/s per camera): `put()` notifies only when a
consumer is blocked in `get()` (Condition.notify builds a deque even with nobody waiting),
and a consumer that polls takes everything queued under one lock with `take_all()`.

Wake-ups per batch, not per packet: each queue has a `WakePolicy` saying when a consumer
blocked in `take_batch()` is woken - once `batch` items are queued, at once for a video
keyframe (`keyframe`), or when the oldest queued item has waited `max_delay` seconds - and
the consumer then takes everything queued. A recorder needs no packet the moment it is
demuxed (docs/performance.md), so its queue wakes it a few times a second; the default policy
wakes only when the consumer's own timeout ends, i.e. the consumer polls (live view and
detectors keep their latency). The policy decides wake-ups only: what is admitted, dropped
and delivered, and in which order, is the same under every policy.
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Generic, Protocol, TypeVar


class Droppable(Protocol):
    @property
    def is_keyframe(self) -> bool: ...

    @property
    def is_video(self) -> bool: ...

    def release(self) -> None: ...


T = TypeVar("T", bound=Droppable)


class DropLevel(IntEnum):
    NONE = 0
    KEY_ONLY = 1
    ALL = 2


@dataclass(frozen=True, slots=True)
class WakePolicy:
    """When `take_batch()` wakes its consumer (module doc): `batch` items queued (0: never
    for a count), a video keyframe queued (`keyframe`), or the oldest item `max_delay` s old
    (None: only the consumer's own timeout). Whatever the policy, close() wakes at once."""

    batch: int = 0
    max_delay: float | None = None
    keyframe: bool = False

    def __post_init__(self) -> None:
        if self.batch < 0:
            raise ValueError(f"WakePolicy.batch must be >= 0, got {self.batch}")
        if self.max_delay is not None and self.max_delay < 0:
            raise ValueError(f"WakePolicy.max_delay must be >= 0, got {self.max_delay}")


POLL = WakePolicy()  # the consumer's timeout alone decides (it polls)


class QueueSignal(Enum):
    TIMEOUT = 0
    CLOSED = 1


@dataclass(frozen=True, slots=True)
class QueueStats:
    name: str
    depth: int
    capacity: int
    put: int
    delivered: int
    dropped: int
    dropped_gops: int
    # rule 4: video skipped before the queue's first keyframe (joining mid-GOP, no consumer
    # fell behind) - counted apart so that "dropped" means footage a consumer lost
    skipped_before_first_key: int = 0


def _is_key(item: Droppable) -> bool:
    return item.is_video and item.is_keyframe


class HandoffQueue(Generic[T]):
    """Invariant (property-tested): bounded depth; FIFO among delivered items; every delivered
    non-key video item is preceded in delivery by its GOP's keyframe and by every video item
    of that GOP before it (a dropped video item drops the rest of its GOP)."""

    name: str

    def __init__(self, name: str, capacity: int, wake: WakePolicy = POLL) -> None:
        if capacity < 1:
            raise ValueError(f"queue {name}: capacity must be >= 1, got {capacity}")
        self.name = name
        self._capacity = capacity
        self._items: collections.deque[T] = collections.deque()
        self._cond = threading.Condition(threading.Lock())
        self._closed = False
        self._level = DropLevel.NONE
        self._skip_video = True  # rule 4: wait for a keyframe
        self._had_key = False
        self._skipped_before_key = 0
        self._waiting = 0  # consumers blocked in get() (under the lock): put() notifies them
        self._batching = 0  # consumers blocked in take_batch(): put() notifies per `_wake`
        self._wake = wake
        self._first_at = 0.0  # monotonic time the oldest queued item was put (max_delay)
        self._key_queued = False  # a video keyframe is queued (WakePolicy.keyframe)
        self._put = 0
        self._delivered = 0
        self._dropped = 0
        self._dropped_gops = 0

    # -- producer side ---------------------------------------------------------------------
    def put(self, item: T) -> bool:
        """Queue `item` without blocking; False if `item` itself was dropped (and released)."""
        dropped: list[T] = []
        with self._cond:
            self._put += 1
            accepted = self._admit(item, dropped)
            # _batch_due first: it also notes a queued keyframe for a later take_batch().
            if accepted and ((self._batch_due(item) and self._batching) or self._waiting):
                self._cond.notify()
        for d in dropped:
            d.release()
        return accepted

    def _admit(self, item: T, dropped: list[T]) -> bool:
        if self._closed or self._level == DropLevel.ALL:
            self._drop(item, dropped)
            return False
        if item.is_video:
            if item.is_keyframe:
                self._skip_video = False
                self._had_key = True
            elif self._skip_video:
                if not self._had_key:
                    dropped.append(item)  # released like a drop, counted apart (rule 4)
                    self._skipped_before_key += 1
                    return False
                self._drop(item, dropped)
                return False
        if self._level == DropLevel.KEY_ONLY and not _is_key(item):
            self._drop(item, dropped)
            return False
        if not self._items:
            self._first_at = time.monotonic()  # once per batch, not per packet
        self._items.append(item)
        while len(self._items) > self._capacity:
            self._evict(dropped)
        return bool(self._items) and self._items[-1] is item

    def _drop(self, item: T, dropped: list[T]) -> None:
        dropped.append(item)
        self._dropped += 1
        if item.is_video:
            # Rules 1 and 3: the rest of this GOP is useless without this frame.
            self._skip_video = True
            if item.is_keyframe:
                self._dropped_gops += 1

    def _evict(self, dropped: list[T]) -> None:
        """Remove the oldest droppable item (rule 1), else the oldest whole GOP (rule 2)."""
        index = next((i for i, it in enumerate(self._items) if not _is_key(it)), 0)
        victim = self._items[index]
        if not victim.is_video:
            del self._items[index]
            self._drop(victim, dropped)
            return
        self._drop_gop_from(index, dropped)

    def _drop_gop_from(self, index: int, dropped: list[T]) -> None:
        """Drop the video item at `index` and the later video items of its GOP."""
        skip_before = self._skip_video
        kept: collections.deque[T] = collections.deque()
        gop_open = True
        for i, it in enumerate(self._items):
            if i < index or not it.is_video or not gop_open:
                kept.append(it)
            elif i > index and it.is_keyframe:
                gop_open = False
                kept.append(it)
            else:
                self._drop(it, dropped)
        self._items = kept
        # _drop set the skip flag; but if a later keyframe is queued, the cut GOP already
        # ended and arriving frames belong to a newer, intact GOP (unless it was cut before).
        self._skip_video = skip_before or gop_open

    # -- consumer side ---------------------------------------------------------------------
    def get(self, timeout: float | None = None) -> T | QueueSignal:
        """The oldest item; `QueueSignal.TIMEOUT` after `timeout` s; `CLOSED` once drained."""
        with self._cond:
            if timeout is None:
                while not self._items and not self._closed:
                    self._wait(None)
            else:
                deadline = time.monotonic() + timeout
                while not self._items and not self._closed:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return QueueSignal.TIMEOUT
                    self._wait(left)
            if self._items:
                self._delivered += 1
                return self._items.popleft()
            return QueueSignal.CLOSED

    def _batch_due(self, item: T) -> bool:
        """Under the lock, `item` just queued: is a batch due under the wake policy?"""
        wake = self._wake
        if wake.keyframe and item.is_video and item.is_keyframe:
            self._key_queued = True
            return True
        return 0 < wake.batch <= len(self._items)

    def take_batch(self, timeout: float) -> list[T] | QueueSignal:
        """Take everything queued, oldest first, once a batch is due under the queue's
        `WakePolicy` (module doc), waiting at most `timeout` s: possibly an empty list after
        the timeout; `QueueSignal.CLOSED` once closed and drained. With `batch` 0 anything
        queued is due at once (the consumer polls). Delivers the same items in the same
        order as get() would."""
        wake = self._wake
        with self._cond:
            n = len(self._items)
            due = self._closed or (n > 0 and (wake.batch == 0 or n >= wake.batch
                                              or (wake.keyframe and self._key_queued)))
            if not due:
                now = time.monotonic()
                deadline = now + timeout
                if wake.max_delay is not None:
                    # An item queued from now on has waited less than max_delay when this
                    # ends; one queued already, since _first_at.
                    start = self._first_at if n else now
                    deadline = min(deadline, start + wake.max_delay)
                self._batching += 1
                try:
                    while not self._closed and now < deadline:
                        if self._cond.wait(deadline - now):
                            break  # put() found a batch due (or close, set_wake)
                        now = time.monotonic()
                finally:
                    self._batching -= 1
            self._key_queued = False
            return self._take_locked()

    def set_wake(self, wake: WakePolicy) -> None:
        """Change the wake policy (the consumer owns it: how soon it needs its packets);
        a consumer blocked now is woken so it waits under the new one."""
        with self._cond:
            self._wake = wake
            self._cond.notify_all()

    @property
    def wake(self) -> WakePolicy:
        return self._wake

    @property
    def batch_waiters(self) -> int:
        """Consumers blocked in take_batch() right now (0 or 1 for one consumer)."""
        with self._cond:
            return self._batching

    def _wait(self, timeout: float | None) -> None:
        """Under the lock: wait for a put or close, counted so put() knows to notify."""
        self._waiting += 1
        try:
            self._cond.wait(timeout)
        finally:
            self._waiting -= 1

    def take_all(self) -> list[T] | QueueSignal:
        """Everything queued now, oldest first, without waiting: an empty list when there is
        nothing, `QueueSignal.CLOSED` once closed and drained. The same items in the same
        order as that many get() calls, under one lock acquisition."""
        with self._cond:
            return self._take_locked()

    def _take_locked(self) -> list[T] | QueueSignal:
        """Under the lock: everything queued, or CLOSED once closed and drained."""
        items = self._items
        if not items:
            return QueueSignal.CLOSED if self._closed else []
        out = list(items)
        items.clear()
        self._delivered += len(out)
        return out

    def close(self) -> None:
        """No more puts (they are dropped); consumers drain what is queued, then see CLOSED."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def discard_all(self) -> int:
        """Drop and release everything queued (a consumer leaving without draining)."""
        dropped: list[T] = []
        with self._cond:
            while self._items:
                self._drop(self._items.popleft(), dropped)
        for d in dropped:
            d.release()
        return len(dropped)

    # -- governor side ---------------------------------------------------------------------
    def set_drop_level(self, level: DropLevel) -> None:
        """KEY_ONLY/ALL apply to later puts; ALL also discards what is queued now."""
        with self._cond:
            self._level = DropLevel(level)
        if level == DropLevel.ALL:
            self.discard_all()

    @property
    def drop_level(self) -> DropLevel:
        return self._level

    @property
    def closed(self) -> bool:
        return self._closed

    def stats(self) -> QueueStats:
        with self._cond:
            return QueueStats(self.name, len(self._items), self._capacity, self._put,
                              self._delivered, self._dropped, self._dropped_gops,
                              self._skipped_before_key)

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)
