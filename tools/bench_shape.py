"""Benchmark: what the shape costs - a staircase from the PyAV floor to the whole daemon.

    .venv/bin/python tools/bench_shape.py [--streams 16] [--rounds 3] [--warmup 3]
        [--window 10] [--lightnvr-c PATH] [--json FILE]

Issue #16 asks where the CPU per stream goes between one `ffmpeg -c copy` per camera (or
LightNVR C) and our daemon. Each step of the staircase adds one thing, all measured in the
same run, interleaved, with the shared runner (tools/bench_runner.py):

1. `pyav 1 thread`: one thread per camera that demuxes with PyAV (the reader's options) and
   muxes the demuxed packet itself into fragmented MP4 (the recorder's options) - no pool,
   no queue, no second thread, no timestamp repair. What any PyAV program pays.
2. `pyav 2 threads`: the same, but a reader thread per camera hands each packet through a
   `HandoffQueue` with the recorder's wake policy to a muxer thread per camera - the thread
   shape the user asked for, with nothing of ours around it.
   `pyav 2 threads 1 CPU`: the same with those threads kept on one CPU, as the daemon's
   `[streams] cpu_affinity = auto` keeps its stream threads (core/cpu_affinity.py).
3. `lightnvr affinity off` and `lightnvr`: the whole daemon (streams added through the REST
   API): our reader and recorder (timestamp repair, pool, MediaPacket, schedules, segments,
   database rows) plus web server, governor, storage; with `[streams] cpu_affinity = off`
   and with the default `auto`.
4. References: one `ffmpeg -c copy` per camera; LightNVR C with `--lightnvr-c`.

(2) - (1) is the cost of the shape; (3) - (2) is our code around it; `affinity off` against
`lightnvr` is what keeping the stream threads on one CPU saves. Steps 1-2 run in a
child process of this file (`--worker`), so each is measured as its own process.
Benchmarks measure; nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from lightnvr.core.cpu_affinity import StreamCpuAffinity  # noqa: E402
from tools.bench_contenders import (  # noqa: E402
    Daemon,
    FfmpegPerCamera,
    LightnvrC,
    ffmpeg_record_argv,
)
from tools.bench_recording import stream_body  # noqa: E402
from tools.bench_runner import (  # noqa: E402
    Results,
    add_common_args,
    load_report,
    parse_counts,
    ramp,
    ratio_lines,
    run_rounds,
    started_camera,
    table,
)

ONE, TWO, TWO_PINNED, OURS_OFF, OURS, FFMPEG, C = (
    "pyav 1 thread", "pyav 2 threads", "pyav 2 threads 1 CPU", "lightnvr affinity off",
    "lightnvr", "ffmpeg -c copy x N", "LightNVR C")
MODES = {ONE: "one", TWO: "two", TWO_PINNED: "two-pinned"}


# -- the worker: N cameras recorded by bare PyAV threads ----------------------------------
class _Item:
    """A demuxed packet on its way through the HandoffQueue (its Droppable protocol)."""

    __slots__ = ("is_keyframe", "is_video", "packet")

    def __init__(self, packet: Any, is_video: bool) -> None:
        self.packet = packet
        self.is_video = is_video
        self.is_keyframe = bool(packet.is_keyframe)

    def release(self) -> None:
        self.packet = None


class _Camera:
    """One camera: demux -> mux in one thread (`one`) or through a queue (`two`)."""

    def __init__(self, url: str, out: Path, mode: str, cpus: StreamCpuAffinity | None) -> None:
        self.url, self.out, self.mode, self.cpus = url, out, mode, cpus
        self.muxed = 0
        self.flowing = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self._run, name=f"bench:{self.out.stem}", daemon=True).start()

    def _open(self) -> tuple[Any, Any, Any, dict[int, Any]]:
        import av

        from lightnvr.video.avcompat import add_stream_copy
        from lightnvr.video.muxing import FRAGMENTED_MP4_OPTIONS

        # The reader's demuxer options (video/source.py) and the recorder's muxer options.
        inp = av.open(self.url, options={"timeout": "10000000", "analyzeduration": "500000",
                                         "probesize": "500000", "fflags": "nobuffer",
                                         "rtsp_transport": "tcp"}, timeout=(5.0, None))
        streams = [inp.streams.video[0], *inp.streams.audio[:1]]
        out = av.open(str(self.out), "w", format="mp4", options=dict(FRAGMENTED_MP4_OPTIONS))
        outs = {s.index: add_stream_copy(out, s) for s in streams}
        return inp, out, streams, outs

    def _run(self) -> None:
        inp, out, streams, outs = self._open()
        vidx = streams[0].index
        if self.mode == "one":
            for pkt in inp.demux(streams):
                if pkt.dts is None or not pkt.size:
                    continue
                pkt.stream = outs[pkt.stream_index]
                out.mux(pkt)
                self.muxed += 1
                self.flowing.set()
            return
        from lightnvr.core.memory.handoff import HandoffQueue, QueueSignal
        from lightnvr.video.recorder import RECORDER_WAKE

        queue: HandoffQueue[_Item] = HandoffQueue(f"bench:{self.out.stem}", 2048, RECORDER_WAKE)

        def mux() -> None:
            while True:
                items = queue.take_batch(0.1)
                if items is QueueSignal.CLOSED:
                    return
                assert not isinstance(items, QueueSignal)
                for item in items:
                    pkt = item.packet
                    pkt.stream = outs[pkt.stream_index]
                    out.mux(pkt)
                    self.muxed += 1
                    self.flowing.set()

        def pinned(body: Callable[[], None], reader: bool) -> Callable[[], None]:
            def run() -> None:
                if self.cpus is not None:
                    self.cpus.enter(reader=reader)
                body()
            return run

        threading.Thread(target=pinned(mux, False), name=f"bench-mux:{self.out.stem}",
                         daemon=True).start()
        pinned(lambda: None, True)()  # this thread is the reader
        for pkt in inp.demux(streams):
            if pkt.dts is None or not pkt.size:
                continue
            queue.put(_Item(pkt, pkt.stream_index == vidx))


def worker(mode: str, url: str, directory: Path) -> int:
    """Read a stream count per line on stdin; answer "ok N" once N cameras record."""
    cameras: list[_Camera] = []
    cpus = StreamCpuAffinity("auto") if mode == "two-pinned" else None
    for line in sys.stdin:
        n = int(line)
        while len(cameras) < n:
            cam = _Camera(url, directory / f"cam{len(cameras)}.mp4",
                          "one" if mode == "one" else "two", cpus)
            cam.start()
            cameras.append(cam)
        ok = all(c.flowing.wait(30) for c in cameras)
        print(f"ok {n}" if ok else f"stalled {n}", flush=True)
    return 0


# -- the contender that drives a worker ----------------------------------------------------
class PyavThreads:
    """tools.bench_runner.Contender for a `--worker` child process."""

    def __init__(self, label: str, url: str) -> None:
        self.label = label
        self._url = url
        self._proc: subprocess.Popen[str] | None = None

    def start(self, workdir: Path) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, __file__, "--worker", MODES[self.label], self._url, str(workdir)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def scale(self, n: int, variant: str) -> None:
        p = self._proc
        assert p is not None and p.stdin is not None and p.stdout is not None
        p.stdin.write(f"{n}\n")
        p.stdin.flush()
        answer = p.stdout.readline().strip()
        if answer != f"ok {n}":
            raise RuntimeError(f"{self.label}: {answer or 'exited'}")

    def processes(self) -> list[psutil.Process]:
        return [psutil.Process(self._proc.pid)] if self._proc and self._proc.poll() is None \
            else []

    def extra(self) -> dict[str, float]:
        return {}

    def stop(self) -> None:
        p, self._proc = self._proc, None
        if p is None:
            return
        p.kill()  # daemon threads blocked in FFmpeg reads: nothing to flush that matters
        p.wait(10)


def main(argv: list[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else argv
    if args_in[:1] == ["--worker"]:
        return worker(args_in[1], args_in[2], Path(args_in[3]))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_common_args(ap, rounds=3, warmup=3.0, window=10.0, streams="16")
    ap.add_argument("--lightnvr-c", default=os.environ.get("LIGHTNVR_C", ""),
                    help="LightNVR C binary (docs/performance.md: how to build it)")
    ap.add_argument("--mount", default="file264")
    args = ap.parse_args(args_in)
    counts = parse_counts(args.streams)

    res = Results()
    with started_camera(args.mount) as url:
        makers: list[Any] = [lambda: PyavThreads(ONE, url), lambda: PyavThreads(TWO, url),
                             lambda: PyavThreads(TWO_PINNED, url),
                             lambda: Daemon(OURS_OFF, stream_body(url),
                                            {"streams": {"cpu_affinity": "off"}}),
                             lambda: Daemon(OURS, stream_body(url)),
                             lambda: FfmpegPerCamera(FFMPEG, ffmpeg_record_argv(url))]
        if args.lightnvr_c:
            makers.append(lambda: LightnvrC(C, args.lightnvr_c, url))
        load_report("before")
        run_rounds(makers, ramp(counts), args.rounds, args.warmup, args.window, res)
    print()
    print(table(res, f"The shape's cost ({args.mount}: 720p15 ~2 Mbit/s H.264 + AAC, "
                     "recording only)"))
    print("\n".join(ratio_lines(res, OURS, [OURS_OFF, TWO_PINNED, TWO, ONE, FFMPEG, C],
                                 slopes=False)))
    print("\n".join(ratio_lines(res, TWO, [ONE], slopes=False)))
    print("\n".join(ratio_lines(res, TWO_PINNED, [TWO, C], slopes=False)))
    for f in res.failures:
        print("FAILED:", f)
    load_report("after")
    if args.json:
        Path(args.json).write_text(json.dumps(res.to_json(), indent=2))
    return 1 if res.failures else 0


if __name__ == "__main__":
    sys.exit(main())
