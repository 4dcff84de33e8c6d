"""Benchmark: N cameras recorded by one lightnvr process vs N `ffmpeg -c copy -f segment` processes.

    .venv/bin/python tools/bench_recording.py [--streams 1,4,16] [--duration 60] [--warmup 8]

Starts the GStreamer test camera (tools/test_camera.py) and, for each N, records N clients of
its looped 720p15 ~2 Mbit/s H.264+AAC mount for `--duration` seconds: first with one lightnvr
process (StreamManager, recording only, in-memory recordings store), then with N ffmpeg
processes. CPU time is measured over the same window (after `--warmup` seconds), memory
(RSS, PSS, USS) at its end. A last run records the largest N with live view (HLS) on, for the
memory target. Prints a table and the lightnvr/ffmpeg ratios; `--json FILE` saves the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MiB = 1024 * 1024


def _memory(procs: list[psutil.Process]) -> dict[str, float]:
    rss = pss = uss = 0
    for p in procs:
        m = p.memory_full_info()
        rss, pss, uss = rss + m.rss, pss + m.pss, uss + m.uss
    return {"rss_mib": rss / MiB, "pss_mib": pss / MiB, "uss_mib": uss / MiB}


def _cpu(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        t = p.cpu_times()
        total += t.user + t.system
    return total


def _measure(procs: list[psutil.Process], warmup: float, duration: float) -> dict[str, float]:
    stop = threading.Event()
    stop.wait(warmup)
    c0, t0 = _cpu(procs), time.monotonic()
    stop.wait(duration)
    c1, t1 = _cpu(procs), time.monotonic()
    out = _memory(procs)
    out["cpu_s"] = c1 - c0
    out["window_s"] = t1 - t0
    return out


def run_lightnvr(url: str, n: int, out_dir: str, warmup: float, duration: float,
                 live: bool) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--worker", url, str(n), out_dir, "1" if live else "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        line = proc.stdout.readline()
        if not line.startswith("READY"):
            raise RuntimeError(f"lightnvr worker failed: {line!r}")
        result = _measure([psutil.Process(proc.pid)], warmup, duration)
        proc.stdin.write("stop\n")
        proc.stdin.flush()
        result["segments_ok"] = float(json.loads(proc.stdout.readline())["recording"])
    finally:
        if proc.poll() is None:
            proc.wait(30)
    return result


def run_ffmpeg(url: str, n: int, out_dir: str, warmup: float, duration: float) -> dict[str, float]:
    procs = []
    for i in range(n):
        cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", url,
               "-map", "0", "-c", "copy", "-f", "segment", "-segment_time", "900",
               "-reset_timestamps", "1", os.path.join(out_dir, f"ff{i}_%03d.mp4")]
        procs.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL))
    try:
        result = _measure([psutil.Process(p.pid) for p in procs], warmup, duration)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
    return result


def worker(url: str, n: int, out_dir: str, live: bool) -> int:
    """The lightnvr side: one StreamManager recording N streams until told to stop."""
    import logging

    from lightnvr.core.memory.pool import BufferPool
    from lightnvr.core.stream_config import StreamConfig
    from lightnvr.video.stream_manager import StreamManager, VideoSettings
    from tests.video.helpers import MemoryStore

    logging.basicConfig(level=logging.WARNING)
    settings = VideoSettings(storage_path=out_dir, hls_path=out_dir + "-hls",
                             stagger_seconds=0.1)
    mgr = StreamManager(settings, BufferPool.from_budget(max(16, 2 * n) * MiB), MemoryStore())
    mgr.start([StreamConfig(f"cam{i}", url, segment_duration=900, streaming_enabled=live)
               for i in range(n)])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(s.recording for s in mgr.statuses()):
        threading.Event().wait(0.2)
    print("READY", flush=True)
    sys.stdin.readline()
    recording = sum(1 for s in mgr.statuses() if s.recording)
    mgr.stop(20)
    print(json.dumps({"recording": recording}), flush=True)
    return 0


def _row(label: str, n: int, r: dict[str, float]) -> str:
    per_min = r["cpu_s"] / n / (r["window_s"] / 60)
    r["cpu_s_per_stream_min"] = per_min
    return (f"{label:<16}{n:>4}{per_min:>15.2f}{r['rss_mib']:>10.1f}{r['pss_mib']:>10.1f}"
            f"{r['uss_mib']:>10.1f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--streams", default="1,4,16")
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--warmup", type=float, default=8.0)
    ap.add_argument("--mount", default="file264")
    ap.add_argument("--no-live", action="store_true", help="skip the live-view memory run")
    ap.add_argument("--json", default="")
    ap.add_argument("--worker", nargs=4, metavar=("URL", "N", "DIR", "LIVE"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        url, n, out_dir, live = args.worker
        return worker(url, int(n), out_dir, live == "1")

    from tests.fixtures.camera import TestCamera
    from tools.make_test_clips import make_clips

    media = make_clips(os.environ.get("LIGHTNVR_TEST_MEDIA", ROOT / ".cache" / "test-media"))
    camera = TestCamera(media["h264"].parent)
    camera.start()
    url = camera.url(args.mount)
    counts = [int(x) for x in args.streams.split(",")]
    results: dict[str, Any] = {"duration": args.duration, "cpus": os.cpu_count(), "runs": []}
    head = f"{'':<16}{'N':>4}{'CPU-s/str-min':>15}{'RSS MiB':>10}{'PSS MiB':>10}{'USS MiB':>10}"
    lines = [head]
    try:
        for n in counts:
            with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
                lv = run_lightnvr(url, n, os.path.join(tmp, "l"), args.warmup, args.duration,
                                  False)
                ff = run_ffmpeg(url, n, tmp, args.warmup, args.duration)
            lines += [_row("lightnvr", n, lv), _row("ffmpeg x N", n, ff)]
            ratio = lv["cpu_s_per_stream_min"] / max(ff["cpu_s_per_stream_min"], 1e-9)
            lines.append(f"{'  ratio CPU':<16}{n:>4}{ratio:>15.2f}   PSS ratio "
                         f"{lv['pss_mib'] / ff['pss_mib']:.2f}")
            results["runs"].append({"n": n, "lightnvr": lv, "ffmpeg": ff, "cpu_ratio": ratio})
            print(lines[-3], lines[-2], lines[-1], sep="\n", flush=True)
        if not args.no_live:
            n = max(counts)
            with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
                lv = run_lightnvr(url, n, os.path.join(tmp, "l"), args.warmup, args.duration,
                                  True)
            lines.append(_row("lightnvr+live", n, lv))
            results["live"] = {"n": n, "lightnvr": lv}
            print(lines[-1], flush=True)
        if len(results["runs"]) >= 2:
            a, b = results["runs"][0], results["runs"][-1]
            per = (b["lightnvr"]["uss_mib"] - a["lightnvr"]["uss_mib"]) / (b["n"] - a["n"])
            results["uss_per_extra_stream_mib"] = per
            lines.append(f"USS per extra stream (lightnvr): {per:.2f} MiB")
    finally:
        camera.stop()
        shutil.rmtree(os.path.join(tempfile.gettempdir(), "bench-hls"), ignore_errors=True)
    print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
