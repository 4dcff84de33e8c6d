"""Benchmark: what object detection costs, per frame and per stream, beside motion detection.

    .venv/bin/python tools/bench_objects.py [--streams 1,4] [--rounds 3] [--warmup 3]
        [--window 6] [--interval 1] [--frames 200] [--json FILE]

Two parts:

- inference per frame, in this process: the test model of tests/detection/object_models.py
  (128 x 128 float32, end2end; the same graph the tests run) on a decoded 1280 x 720 frame -
  letterboxing inside FFmpeg (frames.model_input) and the ONNX Runtime session (1 intra-op
  thread) - median and min-max milliseconds over `--frames` frames;
- the whole daemon (tools/bench_runner.py: interleaved rounds, medians, min-max, load average
  before and after) recording N clients of the looped 720p15 H.264 + AAC mount `file264` in
  three modes switched in place through PUT /api/streams/<name>: `record` (no detection),
  `motion-key` (motion detection on keyframes) and `objects` (the test model at
  `--interval`, keyframes): CPU per stream-minute and USS, with the extra cost of each
  detector over recording.

Benchmarks measure; they assert nothing about speed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.bench_contenders import Daemon  # noqa: E402
from tools.bench_runner import (  # noqa: E402
    Results,
    add_common_args,
    load_report,
    parse_counts,
    ramp,
    run_rounds,
    table,
)

OURS = "lightnvr"
MODES = ("record", "motion-key", "objects")
MODEL = "ball.onnx"


def stream_body(url: str, interval: int) -> Any:
    def body(i: int, mode: str) -> dict[str, Any]:
        model = {"record": "", "motion-key": "motion", "objects": MODEL}[mode]
        return {"name": f"cam{i}", "url": url, "enabled": True, "record": True,
                "streaming_enabled": False, "segment_duration": 900, "record_audio": True,
                "detection_based_recording": mode != "record", "detection_model": model,
                "detection_interval": interval}
    return body


def inference_ms(model: Path, frames: int) -> list[float]:
    """Milliseconds per frame: letterbox a 1280 x 720 frame and run the model."""
    import av
    import numpy as np

    from lightnvr.video.detection.engine import Letterbox
    from lightnvr.video.detection.frames import model_input
    from lightnvr.video.detection.models import read_labels
    from lightnvr.video.detection.onnx_engine import OnnxEngine

    engine = OnnxEngine(str(model), model.name, read_labels(str(model)))
    rng = np.random.default_rng(0)
    picture = rng.integers(0, 200, (720, 1280, 3), dtype=np.uint8)
    picture[200:400, 800:1000] = 255
    frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
    box = Letterbox.fit(frame.width, frame.height, *engine.input_size)
    out: list[float] = []
    for _ in range(frames):
        t0 = time.perf_counter()
        engine.detect(model_input(frame, box), 0.5, box)
        out.append((time.perf_counter() - t0) * 1000.0)
    return out


def target_lines(res: Results, counts: list[int]) -> list[str]:
    out = []
    for n in counts:
        rec, rec_uss = res.cpu(f"{OURS} record", n), res.uss(f"{OURS} record", n)
        if rec is None or rec_uss is None:
            continue
        for mode in MODES[1:]:
            cpu, uss = res.cpu(f"{OURS} {mode}", n), res.uss(f"{OURS} {mode}", n)
            if cpu is None or uss is None:
                continue
            extra = cpu - rec
            frames = res.extra(f"{OURS} {mode}", n, "frames") or 0.0
            out.append(f"  N={n} {mode}: +{extra:.3f} CPU-s/str-min = "
                       f"{extra / max(rec, 1e-9):.2f} x recording; "
                       f"{(uss - rec_uss) / n:.2f} MiB USS per detector; "
                       f"{frames:.0f} frames analysed")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_common_args(ap, rounds=3, warmup=3.0, window=6.0, streams="1,4")
    ap.add_argument("--interval", type=int, default=1, help="detection_interval (s)")
    ap.add_argument("--frames", type=int, default=200, help="frames of the inference part")
    args = ap.parse_args(argv)
    counts = [n for n in parse_counts(args.streams) if n > 0]

    from tests.detection.object_models import build
    from tests.fixtures.camera import TestCamera
    from tools.make_test_clips import make_clips

    models = Path(tempfile.mkdtemp(prefix="bench-models-"))
    model = build(models / MODEL)
    ms = sorted(inference_ms(model, args.frames))
    print(f"inference per frame (letterbox 1280x720 -> 128x128 + ONNX Runtime, 1 thread): "
          f"median {statistics.median(ms):.2f} ms, min {ms[0]:.2f}, max {ms[-1]:.2f} "
          f"({len(ms)} frames)", flush=True)

    media = make_clips(os.environ.get("LIGHTNVR_TEST_MEDIA", ROOT / ".cache" / "test-media"))
    camera = TestCamera(media["h264"].parent)
    camera.start()
    url = camera.url("file264")
    load_report("before")
    res = Results()
    try:
        ours = [lambda: Daemon(OURS, stream_body(url, args.interval),
                               config={"models": {"path": str(models)}})]
        for r in range(args.rounds):
            print(f"round {r + 1} of {args.rounds}", flush=True)
            run_rounds(ours, ramp(counts, MODES), 1, args.warmup, args.window, res)
    finally:
        camera.stop()
    print()
    print(table(res, "Object detection (file264 720p15 H.264 + AAC; test model 128x128)"))
    print("\n".join(target_lines(res, counts)))
    for f in res.failures:
        print("FAILED:", f)
    load_report("after")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"inference_ms": ms, "daemon": res.to_json()}, indent=2))
    return 1 if res.failures else 0


if __name__ == "__main__":
    sys.exit(main())
