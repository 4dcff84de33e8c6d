"""MemoryGovernor: evaluation, hysteresis, per-role drop levels, its thread and heartbeat."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from lightnvr.core.config import parse_config_text
from lightnvr.core.heartbeat import HeartbeatRegistry
from lightnvr.core.memory.governor import (
    MemoryGovernor,
    MemoryLimits,
    MemoryReading,
    PressureLevel,
    QueueRole,
    read_process_memory,
)
from lightnvr.core.memory.handoff import DropLevel, HandoffQueue
from tests.fixtures.wait import wait_until

MB = 1024 * 1024
LIMITS = MemoryLimits(rss_pressure_bytes=100 * MB, rss_critical_bytes=200 * MB,
                      available_pressure_bytes=50 * MB, available_critical_bytes=20 * MB,
                      pool_pressure=0.8, pool_critical=0.95)


@dataclass(eq=False)
class Pkt:
    is_keyframe: bool
    is_video: bool = True
    released: int = 0

    def release(self) -> None:
        self.released += 1


class Readings:
    """An injected reading source the test steers."""

    def __init__(self) -> None:
        self.value = MemoryReading(10 * MB, 1000 * MB, 0.0)
        self.calls = 0

    def __call__(self) -> MemoryReading:
        self.calls += 1
        return self.value


def test_evaluate_thresholds() -> None:
    g = MemoryGovernor(LIMITS, Readings())
    assert g.evaluate(MemoryReading(10 * MB, 1000 * MB, 0.1)) is PressureLevel.NORMAL
    assert g.evaluate(MemoryReading(150 * MB, 1000 * MB, 0.1)) is PressureLevel.PRESSURE
    assert g.evaluate(MemoryReading(10 * MB, 30 * MB, 0.1)) is PressureLevel.PRESSURE
    assert g.evaluate(MemoryReading(10 * MB, 1000 * MB, 0.85)) is PressureLevel.PRESSURE
    assert g.evaluate(MemoryReading(250 * MB, 1000 * MB, 0.1)) is PressureLevel.CRITICAL
    assert g.evaluate(MemoryReading(10 * MB, 10 * MB, 0.1)) is PressureLevel.CRITICAL
    assert g.evaluate(MemoryReading(10 * MB, 1000 * MB, 0.99)) is PressureLevel.CRITICAL
    off = MemoryGovernor(MemoryLimits(0, 0, 0, 0, 0, 0), Readings())
    assert off.evaluate(MemoryReading(10**12, 0, 1.0)) is PressureLevel.NORMAL


def test_limits_from_config() -> None:
    cfg = parse_config_text("[memory]\nrss_pressure_mb = 300\nrss_critical_mb = 400\n"
                            "available_pressure_mb = 50\navailable_critical_mb = 10\n",
                            environ={})
    lim = MemoryLimits.from_config(cfg.memory)
    assert (lim.rss_pressure_bytes, lim.rss_critical_bytes) == (300 * MB, 400 * MB)
    assert (lim.available_pressure_bytes, lim.available_critical_bytes) == (50 * MB, 10 * MB)


def test_queues_follow_levels_by_role() -> None:
    src = Readings()
    g = MemoryGovernor(LIMITS, src)
    rec, live, det = (HandoffQueue[Pkt](n, 100) for n in ("rec", "live", "det"))
    g.register_queue(rec, QueueRole.RECORDING)
    g.register_queue(live, QueueRole.LIVE)
    g.register_queue(det, QueueRole.DETECTION)
    for q in (rec, live, det):
        assert q.put(Pkt(True))

    src.value = MemoryReading(150 * MB, 1000 * MB, 0.0)
    assert g.tick() is PressureLevel.PRESSURE
    assert [q.drop_level for q in (rec, live, det)] == [
        DropLevel.NONE, DropLevel.KEY_ONLY, DropLevel.KEY_ONLY]
    assert rec.put(Pkt(False)) and not live.put(Pkt(False)) and not det.put(Pkt(False))
    assert live.put(Pkt(True)) and det.put(Pkt(True))   # keyframes still flow

    src.value = MemoryReading(250 * MB, 1000 * MB, 0.0)
    assert g.tick() is PressureLevel.CRITICAL
    assert [q.drop_level for q in (rec, live, det)] == [
        DropLevel.NONE, DropLevel.ALL, DropLevel.ALL]
    assert len(live) == 0 and len(det) == 0 and len(rec) == 2
    assert rec.put(Pkt(False)) and not live.put(Pkt(True))
    assert g.last_reading == src.value


def test_hysteresis_rises_at_once_and_falls_slowly() -> None:
    src = Readings()
    g = MemoryGovernor(LIMITS, src)
    live = HandoffQueue[Pkt]("live", 10)
    g.register_queue(live, QueueRole.LIVE)
    src.value = MemoryReading(250 * MB, 1000 * MB, 0.0)
    assert g.tick() is PressureLevel.CRITICAL
    # Just under the critical limit (inside the 10 % margin): stays CRITICAL.
    src.value = MemoryReading(195 * MB, 1000 * MB, 0.0)
    for _ in range(5):
        assert g.tick() is PressureLevel.CRITICAL
    # Clearly below: one step down after recover_ticks readings, then the next step.
    src.value = MemoryReading(10 * MB, 1000 * MB, 0.0)
    levels = [g.tick() for _ in range(2 * g.recover_ticks)]
    assert levels[: g.recover_ticks - 1] == [PressureLevel.CRITICAL] * (g.recover_ticks - 1)
    assert levels[g.recover_ticks - 1] is PressureLevel.PRESSURE
    assert levels[-1] is PressureLevel.NORMAL
    assert live.drop_level is DropLevel.NONE
    # A flapping reading never lowers the level.
    src.value = MemoryReading(150 * MB, 1000 * MB, 0.0)
    assert g.tick() is PressureLevel.PRESSURE
    for n in range(10):
        src.value = MemoryReading((150 if n % 2 else 10) * MB, 1000 * MB, 0.0)
        assert g.tick() is PressureLevel.PRESSURE


def test_new_queue_gets_current_level_and_unregister() -> None:
    src = Readings()
    g = MemoryGovernor(LIMITS, src)
    src.value = MemoryReading(150 * MB, 1000 * MB, 0.0)
    g.tick()
    q = HandoffQueue[Pkt]("late", 4)
    g.register_queue(q, QueueRole.LIVE)
    assert q.drop_level is DropLevel.KEY_ONLY
    g.unregister_queue(q)
    src.value = MemoryReading(250 * MB, 1000 * MB, 0.0)
    g.tick()
    assert q.drop_level is DropLevel.KEY_ONLY


def test_thread_ticks_beats_and_stops() -> None:
    before = threading.active_count()
    src = Readings()
    hb = HeartbeatRegistry()
    g = MemoryGovernor(LIMITS, src, period=0.01, heartbeats=hb)
    g.start()
    assert "governor" in [t.name for t in threading.enumerate()]
    deadline = threading.Event()
    for _ in range(200):
        if src.calls >= 3:
            break
        deadline.wait(0.01)
    assert src.calls >= 3
    assert "governor" in hb.ages() and hb.stale() == []
    g.stop(2.0)
    assert threading.active_count() == before
    assert "governor" not in hb.ages()


def test_tick_errors_do_not_kill_the_thread() -> None:
    calls = {"n": 0}

    def flaky() -> MemoryReading:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("proc unreadable")
        return MemoryReading(0, 1000 * MB, 0.0)

    g = MemoryGovernor(LIMITS, flaky, period=0.01)
    g.start()
    for _ in range(200):
        if calls["n"] >= 3:
            break
        threading.Event().wait(0.01)
    g.stop(2.0)
    assert calls["n"] >= 3


def test_real_reading() -> None:
    r = read_process_memory()
    assert r.rss_bytes > MB and r.available_bytes > 0 and r.pool_utilization == 0.0


def test_thread_gives_freed_heap_back_every_few_seconds() -> None:
    """The governor thread calls the trim (glibc malloc_trim) on its cadence, and the real
    trim runs on this (glibc) machine."""
    import ctypes

    from lightnvr.core.memory.arena import trim_malloc

    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = (ctypes.c_void_p,)
    blocks = [libc.malloc(64 * 1024) for _ in range(400)]  # 25 MiB of heap (below mmap size)
    for b in blocks:
        ctypes.memset(b, 1, 64 * 1024)  # resident
    for b in blocks:
        libc.free(b)
    assert trim_malloc() is True  # glibc had free heap to give back, and did
    trims: list[float] = []
    g = MemoryGovernor(LIMITS, Readings(), period=0.01, trim=lambda: trims.append(1.0))
    g.trim_every = 0.02
    g.start()
    try:
        assert wait_until(lambda: len(trims) >= 2, 10)
    finally:
        g.stop(2.0)


def test_available_memory_is_the_kernels_figure() -> None:
    """The governor's own /proc/meminfo reading gives what psutil gives (MemAvailable, not
    MemFree: page cache the kernel can drop counts as available)."""
    import psutil

    from lightnvr.core.memory.cgroup import read_cgroup_memory

    group = read_cgroup_memory()
    ours = read_process_memory().available_bytes
    theirs = int(psutil.virtual_memory().available)
    if group is not None:
        theirs = min(theirs, group.available)
    assert abs(ours - theirs) < 64 * MB


def test_meminfo_is_parsed_and_a_file_without_memavailable_falls_back(tmp_path) -> None:
    import psutil

    from lightnvr.core.memory.governor import _MemAvailable

    info = tmp_path / "meminfo"
    info.write_text("MemTotal:        1000000 kB\nMemFree:          200000 kB\n"
                    "MemAvailable:     300000 kB\nBuffers:            1000 kB\n")
    assert _MemAvailable(str(info)).read() == 300000 * 1024
    old = tmp_path / "meminfo-3.10"  # kernels before 3.14 have no MemAvailable
    old.write_text("MemTotal:        1000000 kB\nMemFree:          200000 kB\n")
    assert abs(_MemAvailable(str(old)).read() - psutil.virtual_memory().available) < 64 * MB
