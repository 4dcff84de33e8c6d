"""CPU use for the System page: the machine's and this daemon's own share, over a real interval.

`psutil.cpu_percent(interval=None)` measures since *any* previous call in the process, so two
callers a few milliseconds apart (the page, the metrics route, a second browser) made it read
0.0. `CpuMeter` keeps its own previous sample and answers with the figure over at least
MIN_INTERVAL seconds, repeating the last figure to callers that come sooner.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

import psutil

MIN_INTERVAL = 1.0  # s: shorter intervals are mostly rounding of the kernel's tick counters


@dataclass(frozen=True, slots=True)
class CpuReading:
    """Percentages over `interval` seconds; both of the whole machine (all cores = 100)."""

    machine: float
    process: float
    interval: float
    cores: int

    @property
    def process_of_one_core(self) -> float:
        """The daemon's use as `top` shows it (one busy core = 100)."""
        return self.process * self.cores


def _machine_times() -> tuple[float, float]:
    """(busy, total) CPU seconds of the machine since boot."""
    t = psutil.cpu_times()
    total = float(sum(t))
    idle = t.idle + getattr(t, "iowait", 0.0)
    return total - idle, total


def _process_seconds(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return float(t.user + t.system)


class CpuMeter:
    """Thread-safe; `read()` never blocks on a sampling interval."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc = psutil.Process(os.getpid())
        self._cores = psutil.cpu_count() or 1
        self._prev = (time.monotonic(), *_machine_times(), _process_seconds(self._proc))
        self._last = CpuReading(0.0, 0.0, 0.0, self._cores)

    def read(self) -> CpuReading:
        with self._lock:
            now = time.monotonic()
            if now - self._prev[0] < MIN_INTERVAL and self._last.interval > 0:
                return self._last
            busy, total = _machine_times()
            proc = _process_seconds(self._proc)
            t0, busy0, total0, proc0 = self._prev
            wall = max(1e-6, now - t0)
            machine = 100.0 * (busy - busy0) / (total - total0) if total > total0 else 0.0
            process = 100.0 * (proc - proc0) / (wall * self._cores)
            self._prev = (now, busy, total, proc)
            self._last = CpuReading(round(max(0.0, min(100.0, machine)), 1),
                                    round(max(0.0, min(100.0, process)), 1), round(wall, 2),
                                    self._cores)
            return self._last
