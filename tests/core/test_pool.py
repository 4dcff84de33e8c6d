"""BufferPool: size classes, reference counts, exhaustion and oversize statistics."""

from __future__ import annotations

import threading

import pytest

from lightnvr.core.memory.pool import BufferPool


def test_acquire_copies_into_smallest_fitting_slab() -> None:
    pool = BufferPool([(1024, 2), (64, 4)])
    buf = pool.acquire_copy(b"x" * 100)
    assert buf.pooled and buf.size == 100
    assert bytes(buf.view()) == b"x" * 100
    s = pool.stats()
    assert (s.slabs_total, s.slabs_in_use, s.bytes_in_use) == (6, 1, 1024)
    assert s.capacity_bytes == 2 * 1024 + 4 * 64
    buf.release()
    assert pool.stats().slabs_in_use == 0 and pool.stats().peak_slabs_in_use == 1


def test_refcount_fanout_returns_slab_after_last_release() -> None:
    pool = BufferPool([(64, 1)])
    buf = pool.acquire_copy(bytearray(b"abc"))
    assert buf.retain() is buf
    buf.retain()
    buf.release()
    buf.release()
    assert pool.stats().slabs_in_use == 1
    buf.release()
    assert pool.stats().slabs_in_use == 0
    with pytest.raises(RuntimeError):
        buf.release()
    # The slab is reused by the next packet; the old buffer no longer exposes it.
    nxt = pool.acquire_copy(b"zz")
    assert bytes(buf.view()) == b"" and bytes(nxt.view()) == b"zz"


def test_exhaustion_and_oversize_fall_back_to_transient() -> None:
    pool = BufferPool([(64, 1), (128, 1)])
    a = pool.acquire_copy(b"a" * 10)       # 64 class
    b = pool.acquire_copy(b"b" * 10)       # 64 empty -> 128 class
    c = pool.acquire_copy(b"c" * 10)       # all empty -> transient
    big = pool.acquire_copy(memoryview(b"d" * 500))
    assert (a.pooled, b.pooled, c.pooled, big.pooled) == (True, True, False, False)
    assert bytes(c.view()) == b"c" * 10 and bytes(big.view()) == b"d" * 500
    s = pool.stats()
    assert (s.exhaustions, s.oversize, s.transient_in_use) == (1, 1, 2)
    assert pool.utilization() == 1.0
    for x in (a, b, c, big):
        x.release()
    s = pool.stats()
    assert (s.slabs_in_use, s.transient_in_use, s.peak_slabs_in_use) == (0, 0, 2)
    assert pool.utilization() == 0.0


def test_from_budget() -> None:
    pool = BufferPool.from_budget(8 * 1024 * 1024)
    s = pool.stats()
    assert 0 < s.capacity_bytes <= 8 * 1024 * 1024
    assert pool.acquire_copy(b"k" * 900_000).pooled    # a big keyframe fits a slab
    tiny = BufferPool.from_budget(1000)
    assert tiny.stats().slabs_total >= 1


def test_concurrent_release_keeps_counts_exact() -> None:
    pool = BufferPool([(256, 64)])
    bufs = [pool.acquire_copy(b"p" * 100) for _ in range(64)]
    for b in bufs:
        b.retain()
        b.retain()

    def consumer() -> None:
        for b in bufs:
            b.release()

    threads = [threading.Thread(target=consumer, name=f"test-consumer-{i}") for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert pool.stats().slabs_in_use == 0


def test_slabs_are_made_when_first_needed_and_reused() -> None:
    """An idle pool holds no slab memory; what it makes is the peak need, then reused."""
    pool = BufferPool.from_budget(32 * 1024 * 1024)
    assert pool.stats().allocated_bytes == 0          # nothing resident before a packet
    bufs = [pool.acquire_copy(b"v" * 3000) for _ in range(3)]
    assert pool.stats().allocated_bytes == 3 * 4096   # three small slabs, nothing else
    assert [bytes(b.view()) for b in bufs] == [b"v" * 3000] * 3
    for b in bufs:
        b.release()
    again = [pool.acquire_copy(b"w" * 100) for _ in range(3)]
    s = pool.stats()
    assert s.allocated_bytes == 3 * 4096 and s.slabs_in_use == 3  # the same slabs, reused
    assert [bytes(b.view()) for b in again] == [b"w" * 100] * 3
    assert s.capacity_bytes > s.allocated_bytes        # the budget is a ceiling, not a cost


def test_adopt_holds_the_object_without_a_copy_and_counts_it() -> None:
    pool = BufferPool([(1024, 4)])  # a 4 KiB budget
    data = bytearray(b"q" * 2048)
    buf = pool.adopt(data, 2048)
    assert buf.adopted is data and not buf.pooled
    data[0:1] = b"Q"  # the same memory, not a copy
    assert bytes(buf.view()[:2]) == b"Qq" and buf.size == 2048
    s = pool.stats()
    assert (s.adopted_in_use, s.adopted_bytes, s.slabs_in_use, s.allocated_bytes) == (1, 2048, 0, 0)
    slab = pool.acquire_copy(b"x" * 10)
    # One slab of four plus half the budget's bytes held.
    assert pool.utilization() == 0.25 + 0.5
    buf.retain()
    buf.release()
    assert pool.stats().adopted_in_use == 1
    buf.release()
    slab.release()
    s = pool.stats()
    assert (s.adopted_in_use, s.adopted_bytes) == (0, 0) and pool.utilization() == 0.0
    assert buf.adopted is None and bytes(buf.view()) == b""  # the reference is dropped
    with pytest.raises(RuntimeError):
        buf.release()
