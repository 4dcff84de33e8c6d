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

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.bench_contenders import Daemon, FfmpegPerCamera  # noqa: E402
from tools.bench_runner import (  # noqa: E402
    Results,
    add_common_args,
    load_report,
    parse_counts,
    ramp,
    run_rounds,
    table,
)

OURS, REF = "lightnvr", "ffmpeg nokey gray x N"
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


def target_lines(res: Results, counts: list[int]) -> list[str]:
    out = []
    for n in counts:
        rec, rec_uss = res.cpu(f"{OURS} record", n), res.uss(f"{OURS} record", n)
        ref = res.cpu(REF, n)
        if rec is None or rec_uss is None:
            continue
        for mode in MODES[1:]:
            cpu, uss = res.cpu(f"{OURS} {mode}", n), res.uss(f"{OURS} {mode}", n)
            if cpu is None or uss is None:
                continue
            extra = cpu - rec
            ref_txt = f", reference {ref:.3f}" if ref is not None else ""
            frames = res.extra(f"{OURS} {mode}", n, "frames") or 0.0
            out.append(f"  N={n} {mode}: +{extra:.3f} CPU-s/str-min = "
                       f"{extra / max(rec, 1e-9):.2f} x recording (target <= 1){ref_txt}; "
                       f"{(uss - rec_uss) / n:.2f} MiB USS per detector (target <= 2); "
                       f"{frames:.0f} frames analysed")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_common_args(ap, rounds=3, warmup=3.0, window=6.0, streams="1,4,16")
    ap.add_argument("--interval", type=int, default=1, help="detection_interval (s)")
    args = ap.parse_args(argv)
    counts = [n for n in parse_counts(args.streams) if n > 0]

    from tests.fixtures.camera import TestCamera
    from tools.make_test_clips import make_clips

    media = make_clips(os.environ.get("LIGHTNVR_TEST_MEDIA", ROOT / ".cache" / "test-media"))
    camera = TestCamera(media["h264"].parent)
    camera.start()
    main_url, sub_url = camera.url("file264"), camera.url("still264")
    load_report("before")
    res = Results()
    try:
        ours = [lambda: Daemon(OURS, stream_body(main_url, sub_url, args.interval))]
        ref = [lambda: FfmpegPerCamera(REF, reference_argv(main_url))]
        # Interleaved per round: the daemon's ramp through every mode, then the reference's.
        for r in range(args.rounds):
            print(f"round {r + 1} of {args.rounds}", flush=True)
            run_rounds(ours, ramp(counts, MODES), 1, args.warmup, args.window, res)
            run_rounds(ref, ramp(counts), 1, args.warmup, args.window, res)
    finally:
        camera.stop()
    print()
    print(table(res, "Motion detection (file264 720p15 H.264 + AAC; sub-stream still264 "
                     "640x360)"))
    print("\n".join(target_lines(res, counts)))
    for f in res.failures:
        print("FAILED:", f)
    load_report("after")
    if args.json:
        Path(args.json).write_text(json.dumps(res.to_json(), indent=2))
    return 1 if res.failures else 0


if __name__ == "__main__":
    sys.exit(main())
