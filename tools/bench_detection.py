"""Benchmark: what motion detection costs beside recording, and beside an ffmpeg reference.

    .venv/bin/python tools/bench_detection.py [--streams 1,4,16] [--duration 60] [--warmup 8]

Starts the GStreamer test camera (tools/test_camera.py) and, for each N, runs one lightnvr
process (StreamManager, in-memory recordings store) recording N clients of the looped 720p15
~2 Mbit/s H.264 mount `file264`, three times: recording only; recording + motion detection on
the main stream (keyframe mode); recording + motion detection on a sub-stream (`still264`,
640x360, its own reader). The reference, measured in the same run, is N processes of
`ffmpeg -skip_frame nokey -i URL -vf scale=320:-1,format=gray -f null -`. Detection looks at
every keyframe (`--interval 1`, GOP 2 s), as the reference does. CPU is measured over the same
window (after `--warmup`), memory (RSS, PSS, USS) at its end.

Design targets (issue #11): keyframe-mode motion detection adds no more CPU per stream than
recording itself costs, and at most 2 MiB per detector (USS difference / N).
"""

from __future__ import annotations

import argparse
import json
import os
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

from tools.bench_recording import MiB, _measure, _row  # noqa: E402

MODES = ("record", "motion-key", "motion-sub")


def run_lightnvr(urls: tuple[str, str], n: int, mode: str, out_dir: str, interval: int,
                 warmup: float, duration: float) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--worker", urls[0], urls[1], str(n), mode, out_dir,
           str(interval)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        line = proc.stdout.readline()
        if not line.startswith("READY"):
            raise RuntimeError(f"lightnvr worker failed: {line!r}")
        result = _measure([psutil.Process(proc.pid)], warmup, duration)
        proc.stdin.write("stop\n")
        proc.stdin.flush()
        result.update(json.loads(proc.stdout.readline()))
    finally:
        if proc.poll() is None:
            proc.wait(30)
    return result


def run_reference(url: str, n: int, warmup: float, duration: float) -> dict[str, float]:
    procs = [subprocess.Popen(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp",
         "-skip_frame", "nokey", "-i", url, "-vf", "scale=320:-1,format=gray", "-f", "null",
         "-"], stdin=subprocess.DEVNULL) for _ in range(n)]
    try:
        return _measure([psutil.Process(p.pid) for p in procs], warmup, duration)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def worker(main_url: str, sub_url: str, n: int, mode: str, out_dir: str,
           interval: int) -> int:
    """The lightnvr side: one StreamManager with N streams until told to stop."""
    import logging

    from lightnvr.core.memory.pool import BufferPool
    from lightnvr.core.stream_config import StreamConfig
    from lightnvr.video.stream_manager import StreamManager, VideoSettings
    from tests.video.helpers import MemoryStore

    logging.basicConfig(level=logging.WARNING)
    settings = VideoSettings(storage_path=out_dir, hls_path=out_dir + "-hls",
                             stagger_seconds=0.1)
    mgr = StreamManager(settings, BufferPool.from_budget(max(16, 2 * n) * MiB), MemoryStore())
    motion = mode != "record"
    mgr.start([StreamConfig(f"cam{i}", main_url, segment_duration=900, streaming_enabled=False,
                            detection_based_recording=motion,
                            detection_model="motion" if motion else "",
                            detection_interval=interval,
                            sub_stream_url=sub_url if mode == "motion-sub" else "")
               for i in range(n)])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(s.recording for s in mgr.statuses()):
        threading.Event().wait(0.2)
    print("READY", flush=True)
    sys.stdin.readline()
    st = mgr.statuses()
    out = {"recording": sum(1 for s in st if s.recording),
           "frames": sum(s.detection_frames for s in st)}
    mgr.stop(20)
    print(json.dumps(out), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--streams", default="1,4,16")
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--warmup", type=float, default=8.0)
    ap.add_argument("--interval", type=int, default=1, help="detection_interval (s)")
    ap.add_argument("--json", default="")
    ap.add_argument("--worker", nargs=6, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        main_url, sub_url, n, mode, out_dir, interval = args.worker
        return worker(main_url, sub_url, int(n), mode, out_dir, int(interval))

    from tests.fixtures.camera import TestCamera
    from tools.make_test_clips import make_clips

    media = make_clips(os.environ.get("LIGHTNVR_TEST_MEDIA", ROOT / ".cache" / "test-media"))
    camera = TestCamera(media["h264"].parent)
    camera.start()
    urls = (camera.url("file264"), camera.url("still264"))
    results: dict[str, Any] = {"duration": args.duration, "cpus": os.cpu_count(), "runs": []}
    lines = [f"{'':<16}{'N':>4}{'CPU-s/str-min':>15}{'RSS MiB':>10}{'PSS MiB':>10}"
             f"{'USS MiB':>10}"]
    try:
        for n in (int(x) for x in args.streams.split(",")):
            run: dict[str, Any] = {"n": n}
            for mode in MODES:
                with tempfile.TemporaryDirectory(prefix="bench-det-") as tmp:
                    run[mode] = run_lightnvr(urls, n, mode, tmp, args.interval, args.warmup,
                                             args.duration)
                lines.append(_row(mode, n, run[mode]))
                print(lines[-1], flush=True)
            run["reference"] = run_reference(urls[0], n, args.warmup, args.duration)
            lines.append(_row("ffmpeg nokey", n, run["reference"]))
            rec = run["record"]["cpu_s_per_stream_min"]
            for mode in MODES[1:]:
                extra = run[mode]["cpu_s_per_stream_min"] - rec
                mem = (run[mode]["uss_mib"] - run["record"]["uss_mib"]) / n
                run[mode]["extra_cpu_vs_recording"] = extra / max(rec, 1e-9)
                run[mode]["uss_per_detector_mib"] = mem
                lines.append(f"  {mode}: +{extra:.2f} CPU-s/str-min = "
                             f"{extra / max(rec, 1e-9):.2f} x recording (target <= 1), "
                             f"{mem:.2f} MiB USS per detector (target <= 2), "
                             f"{run[mode]['frames']:.0f} frames analysed")
            print("\n".join(lines[-3:]), flush=True)
            results["runs"].append(run)
    finally:
        camera.stop()
    print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
