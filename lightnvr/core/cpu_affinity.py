"""Which CPUs the per-stream threads run on: `[streams] cpu_affinity` (ours).

Why: every demuxed packet crosses PyAV's GIL-released calls five times (av_packet_unref,
av_read_frame, av_packet_alloc, av_packet_move_ref, av_packet_free) and every muxed one
once more. With a thread per camera and per recording spread over several CPUs, each of
those releases hands the GIL to a thread waiting on another CPU: a futex wake, a cross-CPU
wake-up, and the releasing thread blocks again a microsecond later (a GIL convoy). Measured
on the 2-core development machine at 16 streams: ~350 context switches per stream-second
against LightNVR C's ~65, and the same readers and recorders kept on one CPU cost ~30 % less
CPU per stream (docs/performance.md, "Stream threads on one CPU"). The threads, queues and
pools stay as they are; only where the kernel runs them changes.

Settings:
- `auto` (default): with 2 or more CPUs allowed, the stream threads (readers, recorders, live
  writers) share one CPU, one more per `AUTO_STREAMS_PER_CPU` readers. Which CPU is chosen
  from the process id, so two daemons on one machine (a test run) do not pile on the same
  one. Detectors, the web server and storage are not pinned: their work is not per packet.
- `off`: the kernel places every thread (the behaviour before this setting).
- a CPU list (`3`, `2,3`, `0-1`): the stream threads run on those CPUs (those not allowed
  to the process are ignored, with one warning; none left -> not pinned).

A thread calls `enter()` first thing on itself and `leave()` when it ends. Linux applies
sched_setaffinity(tid) per thread, so the set can grow for every member at once when a
reader joins (auto).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)

AUTO_STREAMS_PER_CPU = 64  # 64 recorded streams used 65 % of one core here (docs)
ALLOWED = "auto, off, or CPU numbers such as 3, 2,3 or 0-1"


def parse_cpu_affinity(text: str) -> tuple[int, ...] | None:
    """The CPUs a setting names, () for `auto`, None for `off`; ValueError if malformed."""
    value = text.strip().lower()
    if value == "auto":
        return ()
    if value in ("off", "none"):
        return None
    cpus: set[int] = set()
    for part in value.replace(" ", "").split(","):
        lo, sep, hi = part.partition("-")
        if not lo.isdigit() or (sep and not hi.isdigit()):
            raise ValueError(f"not a CPU list: {text!r}")
        first, last = int(lo), int(hi) if sep else int(lo)
        if last < first or last > 4095:
            raise ValueError(f"not a CPU range: {part!r}")
        cpus.update(range(first, last + 1))
    return tuple(sorted(cpus))


def _allowed_cpus() -> tuple[int, ...]:
    try:
        return tuple(sorted(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux: nothing to pin
        return ()


class StreamCpuAffinity:
    """Keeps the stream threads that `enter()` on the CPUs the setting gives (thread-safe)."""

    def __init__(self, setting: str = "auto", allowed: tuple[int, ...] | None = None,
                 pid: int | None = None,
                 apply: Callable[[int, Iterable[int]], None] | None = None) -> None:
        self._setting = setting
        self._wanted = parse_cpu_affinity(setting)
        self._allowed = _allowed_cpus() if allowed is None else tuple(sorted(allowed))
        self._pid = os.getpid() if pid is None else pid
        # tests hand in a recorder of (tid, cpus) calls; the real one is os.sched_setaffinity
        self._apply = apply or os.sched_setaffinity
        self._lock = threading.Lock()
        self._members: dict[int, bool] = {}  # native thread id -> is a reader
        self._current: frozenset[int] | None = None
        if self._wanted:
            usable = [c for c in self._wanted if c in self._allowed]
            if len(usable) < len(self._wanted):
                log.warning("[streams] cpu_affinity = %s: CPU(s) %s not available to this "
                            "process (allowed: %s)%s", setting,
                            ",".join(str(c) for c in self._wanted if c not in usable),
                            ",".join(str(c) for c in self._allowed) or "none",
                            "" if usable else "; stream threads are not pinned")
            self._wanted = tuple(usable) if usable else None

    def cpus(self) -> frozenset[int] | None:
        """The CPUs stream threads are kept on now; None while they are not pinned."""
        with self._lock:
            return self._current

    def members(self) -> int:
        with self._lock:
            return len(self._members)

    def _target(self) -> frozenset[int] | None:
        wanted, allowed = self._wanted, self._allowed
        if wanted is None or len(allowed) < 2:
            return None
        if wanted:
            return frozenset(wanted)
        readers = sum(1 for r in self._members.values() if r)
        k = max(1, -(-readers // AUTO_STREAMS_PER_CPU))
        if k >= len(allowed):
            return frozenset(allowed)  # every CPU: what an unpinned thread has
        start = self._pid % len(allowed)
        return frozenset(allowed[(start + i) % len(allowed)] for i in range(k))

    def enter(self, reader: bool = False) -> None:
        """Call on the stream thread itself, first thing: keeps it on the stream CPUs."""
        tid = threading.get_native_id()
        with self._lock:
            self._members[tid] = reader
            target = self._target()
            if target is None:  # `off`, one CPU, or no CPU of the list available
                return
            tids = [tid]
            if target != self._current:
                tids = list(self._members)
                log.info("stream threads run on CPU %s ([streams] cpu_affinity = %s)",
                         ",".join(str(c) for c in sorted(target)), self._setting)
            self._current = target
            for t in tids:
                self._pin(t, target)

    def leave(self) -> None:
        """Call on the stream thread when it ends (the set never shrinks under others)."""
        with self._lock:
            self._members.pop(threading.get_native_id(), None)

    def _pin(self, tid: int, cpus: frozenset[int]) -> None:
        try:
            self._apply(tid, cpus)
        except OSError as exc:  # a thread that just ended (ESRCH), a cgroup cpuset (EINVAL)
            log.debug("cpu affinity of thread %d: %s", tid, exc)
