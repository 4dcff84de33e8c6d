"""Packet-byte slabs in a few size classes, bounded per class, reference counted for fan-out.

A packet is copied once into a slab; each consumer of a fan-out holds a reference and the last
`release()` returns the slab. When a size class (and every larger one) is empty, or a packet is
larger than the largest slab, a transient `bytearray` is used and counted: exhaustion is a
pressure signal for the MemoryGovernor, never a crash. One lock guards the free lists and all
reference counts (releases come from several consumer threads).

Slabs are allocated the first time a class has none free, never up front: a zero-filled slab
is resident memory, and the whole budget (32 MiB by default) made an idle daemon with no
camera cost that much for nothing. A class never holds more than its count, and slabs it has
are kept for reuse (no malloc churn per packet), so resident slab memory is the peak of what
the queues really held, at most the budget (`stats().allocated_bytes`).

`adopt()` holds a bytes-like object someone else allocated instead of copying it (the
reader's demuxed av.Packet: FFmpeg's memory, freed when the last reference goes), counted in
`stats()` and `utilization()` so the governor still sees what the queues hold.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# from_budget's class mix for H.264/H.265 packets: most P-frames and audio are small, a few
# keyframes are large. (slab_bytes, share of the budget)
_VIDEO_MIX = ((4 * 1024, 0.15), (64 * 1024, 0.35), (256 * 1024, 0.30), (1024 * 1024, 0.20))
_EMPTY = bytearray()
_ADOPTED = -2  # PooledBuffer._class_index of bytes held, not copied (BufferPool.adopt)


@dataclass(frozen=True, slots=True)
class PoolStats:
    capacity_bytes: int
    slabs_total: int
    slabs_in_use: int
    bytes_in_use: int
    peak_slabs_in_use: int
    exhaustions: int
    oversize: int
    transient_in_use: int
    allocated_bytes: int = 0
    adopted_in_use: int = 0
    adopted_bytes: int = 0


class PooledBuffer:
    """Packet bytes in a slab (or a transient bytearray when oversize / pool exhausted).

    Reference counted: created with one reference; the last release() returns the slab.
    """

    __slots__ = ("_class_index", "_data", "_pool", "_refs", "pooled", "size")

    def __init__(self, pool: BufferPool, data: bytearray, size: int, class_index: int) -> None:
        self._pool = pool
        self._data = data
        self._class_index = class_index  # -1: transient
        self._refs = 1
        self.size = size
        self.pooled = class_index >= 0

    def view(self) -> memoryview:
        """The `size` valid bytes, without copying. Do not use after the last release()."""
        return memoryview(self._data)[: self.size]

    @property
    def adopted(self) -> Any:
        """The object whose bytes `BufferPool.adopt` holds (e.g. the demuxer's av.Packet),
        else None. Valid until the last release()."""
        data = self._data
        return data if self._class_index == _ADOPTED and data is not _EMPTY else None

    def retain(self) -> PooledBuffer:
        """+1 reference (hand the same bytes to another consumer)."""
        self._pool._retain(self)
        return self

    def release(self) -> None:
        """-1 reference; at zero the slab goes back to the pool. Over-release raises."""
        self._pool._release(self)


class BufferPool:
    """At most `count` slabs of each `slab_bytes`: `size_classes` is [(slab_bytes, count), ...];
    slabs are made when first needed (module doc)."""

    def __init__(self, size_classes: Sequence[tuple[int, int]]) -> None:
        classes = sorted((int(s), int(n)) for s, n in size_classes if s > 0 and n > 0)
        self._sizes = [s for s, _ in classes]
        self._free: list[list[bytearray]] = [[] for _ in classes]
        # Slabs each class may still create (lazy allocation, see the module doc).
        self._unmade = [n for _, n in classes]
        self._allocated = 0
        self._lock = threading.Lock()
        self._slabs_total = sum(n for _, n in classes)
        self._capacity = sum(s * n for s, n in classes)
        self._in_use = 0
        self._bytes_in_use = 0
        self._peak = 0
        self._exhaustions = 0
        self._oversize = 0
        self._transient = 0
        self._adopted = 0
        self._adopted_bytes = 0

    @classmethod
    def from_budget(cls, total_bytes: int) -> BufferPool:
        """A class mix suited to video packets within `total_bytes` (at least one small slab)."""
        classes = [(size, int(total_bytes * share) // size) for size, share in _VIDEO_MIX]
        if all(n == 0 for _, n in classes):
            classes = [(_VIDEO_MIX[0][0], max(1, total_bytes // _VIDEO_MIX[0][0]))]
        return cls(classes)

    def acquire_copy(self, data: Any) -> PooledBuffer:
        """Copy the bytes-like `data` into a slab (smallest fitting class with one free)."""
        src = memoryview(data).cast("B")
        n = src.nbytes
        with self._lock:
            index, slab = self._take(n)
            if index < 0:
                self._transient += 1
        if index < 0:
            slab = bytearray(src)  # allocated outside the lock: it may be large
        elif slab is None:
            # A new slab of class `index` (reserved under the lock), made outside it: zero
            # filling up to 1 MiB must not hold up other threads' releases.
            slab = bytearray(self._sizes[index])
            slab[:n] = src
        else:
            slab[:n] = src
        return PooledBuffer(self, slab, n, index)

    def adopt(self, data: Any, size: int) -> PooledBuffer:
        """Hold `data` (a bytes-like object of `size` bytes someone else allocated, e.g. the
        demuxer's av.Packet) instead of copying it into a slab: the one copy saved per
        packet. Counted in `stats()` and `utilization()` like slab bytes; the last release()
        drops the reference (the owner frees the memory)."""
        with self._lock:
            self._adopted += 1
            self._adopted_bytes += size
        return PooledBuffer(self, data, size, _ADOPTED)

    def _take(self, n: int) -> tuple[int, bytearray | None]:
        """Under the lock: (class, slab) for the smallest class >= n with a free slab, or
        (class, None) when that class may still make one; (-1, None) and count why not."""
        first = bisect_left(self._sizes, n)  # the smallest class that fits (sizes sorted)
        if first == len(self._sizes):
            self._oversize += 1
            return -1, None
        for i in range(first, len(self._sizes)):
            free = self._free[i]
            if free or self._unmade[i]:
                slab = None
                if free:
                    slab = free.pop()
                else:
                    self._unmade[i] -= 1
                    self._allocated += self._sizes[i]
                self._in_use += 1
                self._bytes_in_use += self._sizes[i]
                self._peak = max(self._peak, self._in_use)
                return i, slab
        self._exhaustions += 1
        return -1, None

    def _retain(self, buf: PooledBuffer) -> None:
        with self._lock:
            if buf._refs <= 0:
                raise RuntimeError("retain() on a released PooledBuffer")
            buf._refs += 1

    def _release(self, buf: PooledBuffer) -> None:
        with self._lock:
            if buf._refs <= 0:
                raise RuntimeError("PooledBuffer released more often than retained")
            buf._refs -= 1
            if buf._refs:
                return
            if buf._class_index == _ADOPTED:
                self._adopted -= 1
                self._adopted_bytes -= buf.size
            elif buf._class_index < 0:
                self._transient -= 1
            else:
                self._free[buf._class_index].append(buf._data)
                self._in_use -= 1
                self._bytes_in_use -= self._sizes[buf._class_index]
            buf._data = _EMPTY  # a stale view() must not see the slab's next packet

    def stats(self) -> PoolStats:
        with self._lock:
            return PoolStats(self._capacity, self._slabs_total, self._in_use,
                             self._bytes_in_use, self._peak, self._exhaustions, self._oversize,
                             self._transient, self._allocated, self._adopted,
                             self._adopted_bytes)

    def utilization(self) -> float:
        """Fraction 0.0..1.0 of slabs in use, plus adopted bytes as their share of the budget
        (0.0 for an empty pool)."""
        with self._lock:
            if not self._slabs_total:
                return 0.0
            used = self._in_use / self._slabs_total + self._adopted_bytes / self._capacity
            return min(1.0, used)
