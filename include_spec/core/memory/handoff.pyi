# Bounded single-producer/single-consumer handoff queue with a GOP-aware drop policy
# (lightnvr/core/memory/handoff.py).
from enum import Enum, IntEnum
from typing import Generic, Protocol, TypeVar

class Droppable(Protocol):
    @property
    def is_keyframe(self) -> bool: ...
    @property
    def is_video(self) -> bool: ...
    def release(self) -> None: ...   # called by the queue on every item it drops

T = TypeVar("T", bound=Droppable)

class DropLevel(IntEnum):
    NONE = 0       # only capacity limits apply
    KEY_ONLY = 1   # governor PRESSURE for live/detection: non-key video and audio are dropped
    ALL = 2        # governor CRITICAL for live/detection: consumer paused, everything dropped

class WakePolicy:
    """When take_batch() wakes its consumer: `batch` items queued (0: anything queued is
    taken at once, the consumer polls), a video keyframe (`keyframe`), or the oldest item
    `max_delay` s old (None: the consumer's timeout alone). Decides wake-ups only."""
    batch: int
    max_delay: float | None
    keyframe: bool
    def __init__(self, batch: int = 0, max_delay: float | None = None,
                 keyframe: bool = False) -> None: ...

POLL: WakePolicy   # the default: the consumer polls with its own timeout

class QueueSignal(Enum):
    TIMEOUT = 0
    CLOSED = 1     # closed and drained

class QueueStats:
    name: str
    depth: int
    capacity: int
    put: int
    delivered: int
    dropped: int          # items dropped (any reason)
    dropped_gops: int     # keyframes dropped (each takes the rest of its GOP with it)
    skipped_before_first_key: int = 0  # video before the first keyframe (not a loss)

class HandoffQueue(Generic[T]):
    """Invariant (property-tested): bounded depth; FIFO among delivered items; every delivered
    non-key video item is preceded in delivery by its GOP's keyframe and by every video item
    of that GOP before it (a dropped video item drops the rest of its GOP)."""
    name: str
    def __init__(self, name: str, capacity: int, wake: WakePolicy = ...) -> None: ...
    def put(self, item: T) -> bool: ...        # never blocks; False if the item (or it) was dropped
    def get(self, timeout: float | None = None) -> T | QueueSignal: ...
    def take_all(self) -> list[T] | QueueSignal: ...  # all queued, no wait; [] if none, CLOSED once drained
    # all queued once a batch is due under the wake policy, waiting <= timeout s; [] after
    # the timeout with nothing queued, CLOSED once drained
    def take_batch(self, timeout: float) -> list[T] | QueueSignal: ...
    def set_wake(self, wake: WakePolicy) -> None: ...  # the consumer's choice; wakes a waiter
    @property
    def wake(self) -> WakePolicy: ...
    @property
    def batch_waiters(self) -> int: ...  # consumers blocked in take_batch() now
    def close(self) -> None: ...               # state first, then notify_all; pending items drained by get()
    def discard_all(self) -> int: ...          # drop+release everything queued (consumer leaving)
    def set_drop_level(self, level: DropLevel) -> None: ...
    @property
    def drop_level(self) -> DropLevel: ...
    @property
    def closed(self) -> bool: ...
    def stats(self) -> QueueStats: ...
    def __len__(self) -> int: ...
