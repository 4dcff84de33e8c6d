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
from tools.bench_detectors import (  # noqa: E402
    OURS,
    detector_lines,
    looped_camera,
    parse_args,
    report,
)
from tools.bench_runner import Results, ramp, run_rounds  # noqa: E402

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


def main(argv: list[str] | None = None) -> int:
    args, counts = parse_args(__doc__, "1,4", argv, lambda ap: ap.add_argument(
        "--frames", type=int, default=200, help="frames of the inference part"))

    from tests.detection.object_models import build

    models = Path(tempfile.mkdtemp(prefix="bench-models-"))
    model = build(models / MODEL)
    ms = sorted(inference_ms(model, args.frames))
    print(f"inference per frame (letterbox 1280x720 -> 128x128 + ONNX Runtime, 1 thread): "
          f"median {statistics.median(ms):.2f} ms, min {ms[0]:.2f}, max {ms[-1]:.2f} "
          f"({len(ms)} frames)", flush=True)

    res = Results()
    with looped_camera() as camera:
        url = camera.url("file264")
        ours = [lambda: Daemon(OURS, stream_body(url, args.interval),
                               config={"models": {"path": str(models)}})]
        for r in range(args.rounds):
            print(f"round {r + 1} of {args.rounds}", flush=True)
            run_rounds(ours, ramp(counts, MODES), 1, args.warmup, args.window, res)
    return report(res, "Object detection (file264 720p15 H.264 + AAC; test model 128x128)",
                  detector_lines(res, counts, MODES), args.json, {"inference_ms": ms})


if __name__ == "__main__":
    sys.exit(main())
