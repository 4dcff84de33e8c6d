# Packet-byte slabs, made when first needed, bounded per size class (lightnvr/core/memory/pool.py).
from collections.abc import Sequence
from typing import Any

class PooledBuffer:
    """Packet bytes in a slab (or a transient bytearray when oversize / pool exhausted).
    Reference counted: created with one reference; the last release() returns the slab."""
    size: int
    pooled: bool
    def view(self) -> memoryview: ...          # the `size` valid bytes, no copy
    @property
    def adopted(self) -> Any: ...              # the object adopt() holds (e.g. an av.Packet), else None
    def retain(self) -> PooledBuffer: ...      # +1 reference (fan-out to another consumer)
    def release(self) -> None: ...             # -1 reference; slab returns to the pool at 0

class PoolStats:
    capacity_bytes: int
    slabs_total: int
    slabs_in_use: int
    bytes_in_use: int
    peak_slabs_in_use: int
    exhaustions: int        # acquires that found their size class empty (transient allocation)
    oversize: int           # acquires larger than the largest slab (transient allocation)
    transient_in_use: int
    allocated_bytes: int    # slab bytes made so far (resident): the peak need, <= capacity_bytes
    adopted_in_use: int     # buffers held without a copy (adopt), not yet released
    adopted_bytes: int      # their bytes

class BufferPool:
    def __init__(self, size_classes: Sequence[tuple[int, int]]) -> None: ...  # (slab_bytes, count)
    @classmethod
    def from_budget(cls, total_bytes: int) -> BufferPool: ...   # a sensible class mix for video
    def acquire_copy(self, data: Any) -> PooledBuffer: ...      # copy a bytes-like (buffer protocol) in
    def adopt(self, data: Any, size: int) -> PooledBuffer: ...  # hold a bytes-like object, no copy; counted
    def stats(self) -> PoolStats: ...
    def utilization(self) -> float: ...        # 0.0..1.0: slabs in use + adopted bytes' share of the budget
