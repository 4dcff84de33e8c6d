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


def _is_key(item: Droppable) -> bool:
    return item.is_video and item.is_keyframe


class HandoffQueue(Generic[T]):
    """Invariant (property-tested): bounded depth; FIFO among delivered items; every delivered
    non-key video item is preceded in delivery by its GOP's keyframe and by every video item
    of that GOP before it (a dropped video item drops the rest of its GOP)."""

    name: str

    def __init__(self, name: str, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"queue {name}: capacity must be >= 1, got {capacity}")
        self.name = name
        self._capacity = capacity
        self._items: collections.deque[T] = collections.deque()
        self._cond = threading.Condition(threading.Lock())
        self._closed = False
        self._level = DropLevel.NONE
        self._skip_video = True  # rule 4: wait for a keyframe
        self._waiting = 0  # consumers blocked in get() (under the lock): put() notifies them
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
            if accepted and self._waiting:
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
            elif self._skip_video:
                self._drop(item, dropped)
                return False
        if self._level == DropLevel.KEY_ONLY and not _is_key(item):
            self._drop(item, dropped)
            return False
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
                              self._delivered, self._dropped, self._dropped_gops)

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)
