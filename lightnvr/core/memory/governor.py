"""Memory governor: memory readings -> NORMAL/PRESSURE/CRITICAL -> drop levels of the queues.

Design: one thread, `governor` (core.worker_thread), runs `tick()` every `period` seconds (an
`Event.wait` loop, stopped by `stop()`): read (psutil by default; tests inject a reading
source), evaluate against `MemoryLimits`, apply hysteresis, and push a `DropLevel` to every
registered queue by its role. The level rises at once but falls one step only after
`recover_ticks` consecutive readings that are below the current level even with a `margin` of
headroom, so it does not flap around a threshold. Recording queues are never throttled by level
(their bounded capacity drops whole GOPs instead); live and detection queues go KEY_ONLY under
PRESSURE and ALL under CRITICAL. The governor beats a heartbeat "governor" each tick when given
a registry.
Lock order: governor lock, then a queue's lock (apply() calls set_drop_level under ours).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Any

import psutil

from lightnvr.core.config import MemoryConfig
from lightnvr.core.heartbeat import HeartbeatRegistry
from lightnvr.core.memory.arena import trim_malloc
from lightnvr.core.memory.cgroup import read_cgroup_memory
from lightnvr.core.memory.handoff import DropLevel, HandoffQueue
from lightnvr.core.worker_thread import WorkerThread

log = logging.getLogger(__name__)
_MB = 1024 * 1024


class PressureLevel(IntEnum):
    NORMAL = 0
    PRESSURE = 1
    CRITICAL = 2


class QueueRole(Enum):
    RECORDING = "recording"
    LIVE = "live"
    DETECTION = "detection"


_DROP = {
    QueueRole.RECORDING: (DropLevel.NONE, DropLevel.NONE, DropLevel.NONE),
    QueueRole.LIVE: (DropLevel.NONE, DropLevel.KEY_ONLY, DropLevel.ALL),
    QueueRole.DETECTION: (DropLevel.NONE, DropLevel.KEY_ONLY, DropLevel.ALL),
}


@dataclass(frozen=True, slots=True)
class MemoryReading:
    rss_bytes: int
    available_bytes: int
    pool_utilization: float


@dataclass(frozen=True, slots=True)
class MemoryLimits:
    """Thresholds; a byte limit of 0 is not used. Pool thresholds are fractions 0..1."""

    rss_pressure_bytes: int = 0
    rss_critical_bytes: int = 0
    available_pressure_bytes: int = 64 * _MB
    available_critical_bytes: int = 32 * _MB
    pool_pressure: float = 0.85
    pool_critical: float = 0.97

    @classmethod
    def from_config(cls, memory: MemoryConfig) -> MemoryLimits:
        """From a `[memory]` MemoryConfig (megabytes in the file)."""
        return cls(memory.rss_pressure_mb * _MB, memory.rss_critical_mb * _MB,
                   memory.available_pressure_mb * _MB, memory.available_critical_mb * _MB)


_process: psutil.Process | None = None  # built once per pid: construction reads /proc twice


def _this_process() -> psutil.Process:
    global _process
    if _process is None or _process.pid != os.getpid():  # a fork (-d) is a new process
        _process = psutil.Process()
    return _process


class _MemAvailable:
    """The system's MemAvailable, read from /proc/meminfo through one descriptor kept open.

    psutil.virtual_memory() parses every field of the file (and asks sysinfo) to give the one
    number the governor needs: ~100 us of CPU each second, six times this. Where the file
    or the field is missing (not Linux, kernels before 3.14), psutil's figure is used.
    """

    def __init__(self, path: str = "/proc/meminfo") -> None:
        self._path = path
        self._fd: int | None = None
        self._usable = True

    def read(self) -> int:
        if self._usable:
            try:
                if self._fd is None:  # not per process: the descriptor survives a fork
                    self._fd = os.open(self._path, os.O_RDONLY | os.O_CLOEXEC)
                data = os.pread(self._fd, 16384, 0)  # offset 0: the kernel writes it afresh
                at = data.index(b"MemAvailable:") + len(b"MemAvailable:")
                return int(data[at:data.index(b"\n", at)].split()[0]) * 1024  # in kB
            except (OSError, ValueError, IndexError):
                self._usable = False
                log.info("%s has no MemAvailable; available memory from psutil", self._path)
        return int(psutil.virtual_memory().available)


_mem_available = _MemAvailable()


def read_process_memory() -> MemoryReading:
    """This process's RSS, and available memory: the system's, or its memory cgroup's when
    that is smaller (a device limit or a systemd MemoryMax= counts, not the host's RAM).
    Pool utilization is left 0 for the caller to fill in."""
    rss = _this_process().memory_info().rss
    available = _mem_available.read()
    group = read_cgroup_memory()
    if group is not None:
        available = min(available, group.available)
    return MemoryReading(int(rss), available, 0.0)


def _level_for(limits: MemoryLimits, r: MemoryReading, margin: float) -> PressureLevel:
    """Evaluate with `margin` (0..1) of extra headroom required (used when recovering)."""
    def over(value: float, limit: float) -> bool:
        return limit > 0 and value >= limit * (1 - margin)

    def under(value: float, limit: float) -> bool:
        return limit > 0 and value < limit * (1 + margin)

    if (over(r.rss_bytes, limits.rss_critical_bytes)
            or under(r.available_bytes, limits.available_critical_bytes)
            or over(r.pool_utilization, limits.pool_critical)):
        return PressureLevel.CRITICAL
    if (over(r.rss_bytes, limits.rss_pressure_bytes)
            or under(r.available_bytes, limits.available_pressure_bytes)
            or over(r.pool_utilization, limits.pool_pressure)):
        return PressureLevel.PRESSURE
    return PressureLevel.NORMAL


class MemoryGovernor(WorkerThread):
    """Watches memory and sets the drop level of registered queues."""

    def __init__(self, limits: MemoryLimits, read: Callable[[], MemoryReading] | None = None,
                 period: float = 1.0, heartbeats: HeartbeatRegistry | None = None,
                 trim: Callable[[], object] = trim_malloc) -> None:
        # not a daemon thread: the shutdown coordinator stops it in order
        super().__init__("governor", daemon=False)
        self.limits = limits
        self._read = read or read_process_memory
        self.period = period
        self.margin = 0.1
        self.recover_ticks = 3
        self._heartbeats = heartbeats
        self._lock = threading.Lock()
        self._queues: dict[int, tuple[HandoffQueue[Any], QueueRole]] = {}
        self._level = PressureLevel.NORMAL
        self._below = 0
        self._last: MemoryReading | None = None
        # Freed heap back to the OS every `trim_every` seconds from this thread (arena.py):
        # without it an idle daemon keeps its start-up's garbage resident. Tests pass `trim`.
        self.trim_every = 10.0
        self._trim = trim

    def register_queue(self, queue: HandoffQueue[Any], role: QueueRole) -> None:
        """Track `queue`; it gets the drop level of the current pressure level at once."""
        with self._lock:
            self._queues[id(queue)] = (queue, role)
            queue.set_drop_level(_DROP[role][self._level])

    def unregister_queue(self, queue: HandoffQueue[Any]) -> None:
        with self._lock:
            self._queues.pop(id(queue), None)

    def evaluate(self, reading: MemoryReading) -> PressureLevel:
        """The level `reading` is at, without hysteresis (pure)."""
        return _level_for(self.limits, reading, 0.0)

    def apply(self, level: PressureLevel) -> None:
        """Set the level and push the matching drop level to every queue."""
        with self._lock:
            if level != self._level:
                log_fn = log.warning if level > self._level else log.info
                log_fn("memory level %s -> %s (%s)", self._level.name, level.name,
                       self._describe())
            self._level = PressureLevel(level)
            for queue, role in self._queues.values():
                queue.set_drop_level(_DROP[role][self._level])

    def _describe(self) -> str:
        r = self._last
        if r is None:
            return "no reading"
        return (f"rss {r.rss_bytes // _MB} MB, available {r.available_bytes // _MB} MB, "
                f"pool {r.pool_utilization:.0%}")

    def tick(self) -> PressureLevel:
        """Read, evaluate with hysteresis, apply; returns the level now in force."""
        reading = self._read()
        self._last = reading
        raw = self.evaluate(reading)
        current = self._level
        if raw >= current:
            self._below = 0
            new = raw
        elif _level_for(self.limits, reading, self.margin) < current:
            self._below += 1
            new = current
            if self._below >= self.recover_ticks:
                self._below = 0
                new = PressureLevel(current - 1)
        else:
            self._below = 0
            new = current
        if new != current:  # the queues hold the current level already (register_queue)
            self.apply(new)
        self._beat()
        return new

    @property
    def level(self) -> PressureLevel:
        return self._level

    @property
    def last_reading(self) -> MemoryReading | None:
        return self._last

    def start(self) -> bool:
        """Start the `governor` thread (one tick immediately, then every `period`); False if
        it is running already."""
        if self._heartbeats is not None:  # max_age follows a `period` changed after __init__
            self.watch(self._heartbeats, max(5.0, self.period * 5))
        return super().start()

    def _run(self) -> None:
        log.info("governor thread started (period %.1fs)", self.period)
        next_trim = time.monotonic() + self.trim_every
        while True:
            try:
                self.tick()
                if time.monotonic() >= next_trim:
                    next_trim = time.monotonic() + self.trim_every
                    self._trim()
            except Exception:
                log.error("memory governor tick failed", exc_info=True)
            if self._stop.wait(self.period):
                break
        log.info("governor thread exiting")
