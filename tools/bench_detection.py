"""Benchmark: what motion detection costs the whole daemon beside recording and a reference.

    .venv/bin/python tools/bench_detection.py [--streams 1,4,16] [--rounds 3] [--warmup 3]
        [--window 6] [--interval 1] [--json FILE]

With the shared runner (tools/bench_runner.py: interleaved rounds, medians, min-max, load
average before and after) it measures, at each N of the ramp:

- the whole daemon (`lightnvr -c CONF`, streams added through the REST API) recording N
  clients of the looped 720p15 ~2 Mbit/s H.264 + AAC mount `file264`, in three modes switched
  in place through PUT /api/streams/<name> (as a user's edit is): `record` (no detection);
  `motion-key` (+ motion detection on the main stream's keyframes); `motion-sub` (+ motion
  detection on a sub-stream, `still264` 640x360, its own reader);
- the reference: one `ffmpeg -skip_frame nokey -i URL -vf scale=320:-1,format=gray -f null -`
  per camera (decode the keyframes, scale them to a small grey picture: what keyframe motion
  detection needs at the least).

Detection looks at every keyframe (`--interval 1`, GOP 2 s), as the reference does. Design
targets (issue #11): keyframe-mode motion detection adds no more CPU per stream than
recording itself costs (<= 1 x), and at most 2 MiB per detector ((USS of a mode - USS of
`record`) / N, same run). Defaults take about 9 minutes (`make bench` runs 2 rounds: about 6).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.bench_contenders import Daemon, FfmpegPerCamera  # noqa: E402
from tools.bench_detectors import (  # noqa: E402
    OURS,
    detector_lines,
    looped_camera,
    parse_args,
    report,
)
from tools.bench_runner import Results, ramp, run_rounds  # noqa: E402

REF = "ffmpeg nokey gray x N"
MODES = ("record", "motion-key", "motion-sub")


def stream_body(main_url: str, sub_url: str, interval: int) -> Any:
    def body(i: int, mode: str) -> dict[str, Any]:
        motion = mode != "record"
        return {"name": f"cam{i}", "url": main_url, "enabled": True, "record": True,
                "streaming_enabled": False, "segment_duration": 900, "record_audio": True,
                "detection_based_recording": motion,
                "detection_model": "motion" if motion else "",
                "detection_interval": interval,
                "sub_stream_url": sub_url if mode == "motion-sub" else ""}
    return body


def reference_argv(url: str) -> Any:
    def argv(i: int, d: Path, variant: str) -> list[str]:
        return ["-rtsp_transport", "tcp", "-skip_frame", "nokey", "-i", url, "-vf",
                "scale=320:-1,format=gray", "-f", "null", "-"]
    return argv


def main(argv: list[str] | None = None) -> int:
    args, counts = parse_args(__doc__, "1,4,16", argv)
    res = Results()
    with looped_camera() as camera:
        main_url, sub_url = camera.url("file264"), camera.url("still264")
        ours = [lambda: Daemon(OURS, stream_body(main_url, sub_url, args.interval))]
        ref = [lambda: FfmpegPerCamera(REF, reference_argv(main_url))]
        # Interleaved per round: the daemon's ramp through every mode, then the reference's.
        for r in range(args.rounds):
            print(f"round {r + 1} of {args.rounds}", flush=True)
            run_rounds(ours, ramp(counts, MODES), 1, args.warmup, args.window, res)
            run_rounds(ref, ramp(counts), 1, args.warmup, args.window, res)
    return report(res, "Motion detection (file264 720p15 H.264 + AAC; sub-stream still264 "
                       "640x360)", detector_lines(res, counts, MODES, REF, targets=True),
                  args.json)


if __name__ == "__main__":
    sys.exit(main())
