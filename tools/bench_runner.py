"""The one benchmark runner: start contenders, measure CPU and memory, interleave rounds, tabulate.

Every benchmark (tools/bench_recording.py, tools/bench_detection.py) describes what it
compares as `Contender`s (tools/bench_contenders.py: the whole lightnvr daemon, one ffmpeg per
camera, LightNVR C) and hands them to `run_rounds`, which does the same thing for all of them:

    for each round:                      # >= 3, so a median means something
        for each contender:              # interleaved: ours, ffmpeg, C, ours, ffmpeg, C, ...
            start it                     # a fresh process (tree) in a fresh directory
            for n, variant in steps:     # a ramp: 1, 4, 16 streams, added one step at a time,
                scale it                 # or switched in place to a variant (live view on);
                                         # wait until they all flow
                wait `warmup` seconds, then measure CPU over `window` seconds,
                memory (RSS / PSS / USS summed over its processes) at the window's end
            stop it

Interleaving spreads whatever else the machine is doing over every contender instead of
charging it to whichever ran at the wrong moment; medians with min-max show the spread. The
load average is printed before and after, with a warning when the machine was not idle:
figures from a busy machine may be compared with each other, never quoted.
Benchmarks measure; nothing here asserts a speed.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import psutil

ROOT = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024
BUSY_LOAD = 1.0
SWITCH_SETTLE = 5.0  # extra seconds before measuring a step that switched variant


class Contender(Protocol):
    """What `run_rounds` drives. `label` names the table rows."""

    label: str

    def start(self, workdir: Path) -> None:
        """Start with no stream (workdir: fresh and empty, removed after `stop`)."""

    def scale(self, n: int, variant: str) -> None:
        """Run `n` streams (never fewer than before) in `variant` ("" = the plain one, else
        e.g. "live", "motion-key"), switching the running ones over; return once they flow."""

    def processes(self) -> list[psutil.Process]:
        """The processes whose CPU and memory count (e.g. one per ffmpeg)."""

    def extra(self) -> dict[str, float]:
        """Figures of its own taken after a window (dropped packets, frames analysed)."""

    def stop(self) -> None:
        """Stop everything it started (also after a failed start)."""


@dataclass
class Sample:
    cpu_s: float
    window_s: float
    rss_mib: float
    pss_mib: float
    uss_mib: float
    extra: dict[str, float] = field(default_factory=dict)

    def cpu_per_stream_min(self, n: int) -> float:
        """CPU-seconds per stream-minute (per minute of the whole process tree for n = 0)."""
        return self.cpu_s / max(n, 1) / (self.window_s / 60)


def _alive(procs: Iterable[psutil.Process]) -> list[psutil.Process]:
    return [p for p in procs if p.is_running()]


def _thread_ns(pid: int) -> dict[tuple[int, str], int]:
    """CPU nanoseconds of each live thread of `pid` (/proc/<pid>/task/*/schedstat)."""
    out: dict[tuple[int, str], int] = {}
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as fh:
                out[(pid, tid)] = int(fh.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # a thread that just exited
    return out


def cpu_seconds(procs: Iterable[psutil.Process]) -> float:
    """utime + stime of `procs` (threads that exited included; 10 ms ticks)."""
    total = 0.0
    for p in _alive(procs):
        try:
            t = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system
    return total


@dataclass
class CpuMark:
    """A point to measure CPU from: coarse process times and fine per-thread times."""

    coarse: float
    fine: dict[tuple[int, str], int]

    @classmethod
    def now(cls, procs: Sequence[psutil.Process]) -> CpuMark:
        fine: dict[tuple[int, str], int] = {}
        for p in _alive(procs):
            fine.update(_thread_ns(p.pid))
        return cls(cpu_seconds(procs), fine)

    def until(self, end: CpuMark) -> float:
        """CPU seconds from this mark to `end`. Per-thread schedstat (nanoseconds) when it
        accounts for everything: utime/stime come in 10 ms ticks, a 30 % error on 0.3 CPU-s a
        minute over a 10 s window. A thread that ended inside the window takes its share
        with it from schedstat (LightNVR C restarts a stream's threads on an update): then
        the coarse figure, which keeps it, is the honest one."""
        fine = sum(ns - self.fine.get(k, 0) for k, ns in end.fine.items()) / 1e9
        coarse = end.coarse - self.coarse
        return coarse if not end.fine or coarse - fine > 0.03 else fine


def memory_mib(procs: Iterable[psutil.Process]) -> tuple[float, float, float]:
    """(RSS, PSS, USS) MiB summed over `procs` (PSS shares libraries fairly between them)."""
    rss = pss = uss = 0
    for p in _alive(procs):
        try:
            m = p.memory_full_info()
        except psutil.NoSuchProcess:
            continue
        rss, pss, uss = rss + m.rss, pss + m.pss, uss + m.uss
    return rss / MiB, pss / MiB, uss / MiB


def measure(procs: Sequence[psutil.Process], warmup: float, window: float) -> Sample:
    """CPU over `window` seconds after `warmup` seconds, memory at the window's end."""
    pause = threading.Event()  # never set: paces the measurement only
    pause.wait(warmup)
    c0, t0 = CpuMark.now(procs), time.monotonic()
    pause.wait(window)
    c1, t1 = CpuMark.now(procs), time.monotonic()
    return Sample(c0.until(c1), t1 - t0, *memory_mib(procs))


def load_report(when: str) -> float:
    """Print the load average; warn (stderr too) when the machine is not idle."""
    one, five, fifteen = os.getloadavg()
    print(f"load average {when}: {one:.2f} {five:.2f} {fifteen:.2f} "
          f"({os.cpu_count()} CPUs)", flush=True)
    if one >= BUSY_LOAD:
        msg = (f"WARNING: load average {one:.2f} >= {BUSY_LOAD:g} {when}: the machine is busy; "
               "compare these figures with each other only, never quote them")
        print(msg, flush=True)
    return one


@dataclass
class Results:
    """Samples per (label, n), in the order first seen."""

    samples: dict[tuple[str, int], list[Sample]] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    # Rounds started per contender, over every run_rounds call that shares these Results (a
    # caller that interleaves by calling run_rounds once per round still numbers rows right).
    rounds: dict[str, int] = field(default_factory=dict)

    def start_round(self, contender: str) -> int:
        """Count one more round of `contender`; its number (1, 2, ...)."""
        self.rounds[contender] = self.rounds.get(contender, 0) + 1
        return self.rounds[contender]

    def add(self, label: str, n: int, s: Sample) -> None:
        if label not in self.labels:
            self.labels.append(label)
        if n not in self.counts:
            self.counts.append(n)
        self.samples.setdefault((label, n), []).append(s)

    def values(self, label: str, n: int, what: Callable[[Sample], float]) -> list[float]:
        return [what(s) for s in self.samples.get((label, n), [])]

    def median(self, label: str, n: int, what: Callable[[Sample], float]) -> float | None:
        v = self.values(label, n, what)
        return statistics.median(v) if v else None

    def cpu(self, label: str, n: int) -> float | None:
        return self.median(label, n, lambda s: s.cpu_per_stream_min(n))

    def pss(self, label: str, n: int) -> float | None:
        return self.median(label, n, lambda s: s.pss_mib)

    def uss(self, label: str, n: int) -> float | None:
        return self.median(label, n, lambda s: s.uss_mib)

    def extra(self, label: str, n: int, key: str) -> float | None:
        return self.median(label, n, lambda s: s.extra.get(key, 0.0))

    def to_json(self) -> dict[str, Any]:
        return {f"{label}/{n}": [vars(s) for s in ss] for (label, n), ss in self.samples.items()}


Step = tuple[int, str]  # (streams, variant)


def run_rounds(contenders: Sequence[Callable[[], Contender]], steps: Sequence[Step],
               rounds: int, warmup: float, window: float, results: Results | None = None,
               progress: bool = True, idle_settle: float = 12.0) -> Results:
    """Measure every contender at every step, `rounds` times, interleaved. Rows are labelled
    "<contender> <variant>". The idle step (n = 0) waits `idle_settle` seconds after the
    start (and the daemon's first API calls), then takes CPU over 5 s and memory: the idle
    state a user's daemon stays in (ours gives freed heap back every 10 s), not the peak of
    its start-up.

    A contender that fails (start, scale) loses that round only: the failure is recorded in
    `results.failures` and printed, and the others go on.
    """
    res = results or Results()
    for _ in range(rounds):
        for make in contenders:
            c = make()
            r = res.start_round(c.label)
            with tempfile.TemporaryDirectory(prefix="lightnvr-bench-") as tmp:
                try:
                    c.start(Path(tmp))
                    previous = ""
                    for n, variant in steps:
                        c.scale(n, variant)
                        # A switch restarts streams in some contenders (LightNVR C restarts a
                        # stream on any update, ffmpeg is started anew): let that settle.
                        settle = warmup + (SWITCH_SETTLE if variant != previous else 0.0)
                        previous = variant
                        procs = c.processes()
                        if not procs:  # e.g. ffmpeg per camera has no idle process
                            continue
                        # Idle: memory is what counts, and a CPU figure per stream means
                        # nothing; a short window keeps the run short.
                        s = measure(procs, settle if n else idle_settle, window if n else 5.0)
                        s.extra = c.extra()
                        label = f"{c.label} {variant}" if variant else c.label
                        res.add(label, n, s)
                        if progress:
                            print(f"  round {r}: {label:<24} N={n:<3} "
                                  f"{s.cpu_per_stream_min(n):6.3f} CPU-s/{'str-' if n else ''}min"
                                  f"  PSS {s.pss_mib:6.1f} MiB"
                                  + "".join(f"  {k} {v:g}" for k, v in s.extra.items()),
                                  flush=True)
                except Exception as exc:  # one broken contender must not lose the others
                    msg = f"round {r}: {c.label} failed: {exc}"
                    res.failures.append(msg)
                    print("  " + msg, flush=True)
                finally:
                    c.stop()
    return res


def _spread(values: list[float], fmt: str) -> str:
    if not values:
        return "-"
    med = statistics.median(values)
    if len(values) == 1:
        return format(med, fmt)
    return f"{format(med, fmt)} [{format(min(values), fmt)}-{format(max(values), fmt)}]"


def table(res: Results, title: str) -> str:
    """Medians [min-max] per contender and n: CPU-s per stream-minute, PSS, USS, RSS.

    n = 0 is the idle process: its CPU column is CPU-s per minute of the whole process.
    """
    head = (f"{'':<24}{'N':>4}  {'CPU-s/stream-min':<22}{'PSS MiB':<24}{'USS MiB':<12}"
            f"{'RSS MiB':<10}extra")
    lines = [title, head]
    for n in res.counts:
        for label in res.labels:
            ss = res.samples.get((label, n))
            if not ss:
                continue
            cpu = [s.cpu_per_stream_min(n) for s in ss]
            keys = sorted({k for s in ss for k in s.extra})
            extra = "  ".join(f"{k} {statistics.median([s.extra.get(k, 0.0) for s in ss]):g}"
                              for k in keys)
            lines.append(
                f"{label:<24}{n:>4}  {_spread(cpu, '.3f'):<22}"
                f"{_spread([s.pss_mib for s in ss], '.1f'):<24}"
                f"{statistics.median([s.uss_mib for s in ss]):<12.1f}"
                f"{statistics.median([s.rss_mib for s in ss]):<10.1f}{extra}")
    lines.append(f"(medians of {max((len(v) for v in res.samples.values()), default=0)} "
                 "rounds, [min-max]; N = 0: the idle process, CPU-s per minute)")
    return "\n".join(lines)


def ratio_lines(res: Results, ours: str, refs: Sequence[str], slopes: bool = True) -> list[str]:
    """CPU and PSS of `ours` over each reference at each n (medians), and (`slopes`) PSS per
    extra stream of every contender between the smallest and largest n > 0."""
    out: list[str] = []
    for ref in refs:
        if ref not in res.labels:
            continue
        for n in res.counts:
            if n == 0:
                continue
            a, b = res.cpu(ours, n), res.cpu(ref, n)
            pa, pb = res.pss(ours, n), res.pss(ref, n)
            if a is None or b is None or pa is None or pb is None:
                continue
            out.append(f"  {ours} / {ref} at N={n}: CPU {a / max(b, 1e-9):.2f} x, "
                       f"PSS {pa / max(pb, 1e-9):.2f} x")
    positive = [n for n in res.counts if n > 0]
    if slopes and len(positive) >= 2:
        lo, hi = min(positive), max(positive)
        for label in res.labels:
            a, b = res.pss(label, lo), res.pss(label, hi)
            if a is not None and b is not None and a != b:
                out.append(f"  PSS per extra stream ({label}, N={lo}->{hi}): "
                           f"{(b - a) / (hi - lo):.2f} MiB")
    return out


def add_common_args(ap: Any, rounds: int, warmup: float, window: float, streams: str) -> None:
    """The options every benchmark shares (argparse parser `ap`)."""
    ap.add_argument("--streams", default=streams, help="comma-separated N ramp (0 = idle)")
    ap.add_argument("--rounds", type=int, default=rounds, help="interleaved rounds (>= 3)")
    ap.add_argument("--warmup", type=float, default=warmup, help="seconds before each window")
    ap.add_argument("--window", "--duration", type=float, default=window, dest="window",
                    help="seconds of each CPU window")
    ap.add_argument("--json", default="", help="save every sample to this file")


def bench_clips() -> dict[str, Path]:
    """The test clips (tools/make_test_clips.py), made if need be: {"h264": path, "h265": path}
    in LIGHTNVR_TEST_MEDIA or .cache/test-media, where the tests keep them too."""
    from tools.make_test_clips import make_clips

    return make_clips(os.environ.get("LIGHTNVR_TEST_MEDIA", ROOT / ".cache" / "test-media"))


@contextmanager
def clip_camera() -> Iterator[Any]:
    """The GStreamer test camera (tools/test_camera.py) looping the test clips; stopped
    however the benchmark ends."""
    from tests.fixtures.camera import TestCamera

    camera = TestCamera(bench_clips()["h264"].parent)
    camera.start()
    try:
        yield camera
    finally:
        camera.stop()


@contextmanager
def started_camera(mount: str) -> Iterator[str]:
    """clip_camera(), yielding `mount`'s RTSP URL."""
    with clip_camera() as camera:
        yield camera.url(mount)


def parse_counts(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def ramp(counts: Sequence[int], variants: Sequence[str] = ("",)) -> list[Step]:
    """Every variant at every n, n ascending: [(1, a), (1, b), (4, a), (4, b), ...]."""
    return [(n, v) for n in counts for v in (variants if n else ("",))]
