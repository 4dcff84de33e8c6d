"""Benchmark: N cameras recorded by the whole lightnvr daemon vs ffmpeg and LightNVR C.

    .venv/bin/python tools/bench_recording.py [--streams 0,1,4,16[,64]] [--rounds 3]
        [--warmup 3] [--window 6] [--no-live] [--lightnvr-c PATH] [--json FILE]

Starts the GStreamer test camera (tools/test_camera.py) and measures, with the shared runner
(tools/bench_runner.py: interleaved rounds, medians, min-max, load average before and after):

1. Recording only, N = `--streams` (a ramp; N = 0 is the idle process): the whole daemon
   (`lightnvr -c CONF`, streams added through the REST API, 15-minute segments, audio kept);
   one `ffmpeg -c copy -f segment` per camera; LightNVR C with `--lightnvr-c PATH`.
2. Recording + live view at the largest N, switched on in the same processes: the daemon and
   LightNVR C get `streaming_enabled` through PUT /api/streams/<name> (C: its own HLS writer,
   go2rtc being off); ffmpeg restarts writing the segments and a 1 s fMP4 HLS playlist (tee).

The camera is the `file264` mount: 720p15 ~2 Mbit/s H.264 + AAC, looped without re-encoding,
one RTSP/TCP client per stream. Defaults take about 11 minutes with LightNVR C, 7 without
(estimated from shorter runs).
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

from tools.bench_contenders import (  # noqa: E402
    Daemon,
    FfmpegPerCamera,
    LightnvrC,
    ffmpeg_record_argv,
)
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

OURS, FFMPEG, C = "lightnvr", "ffmpeg -c copy x N", "LightNVR C"


def stream_body(url: str) -> Any:
    def body(i: int, variant: str) -> dict[str, Any]:
        return {"name": f"cam{i}", "url": url, "enabled": True, "record": True,
                "streaming_enabled": variant == "live", "segment_duration": 900,
                "record_audio": True}
    return body


def contenders(url: str, c_binary: str) -> list[Any]:
    out: list[Any] = [lambda: Daemon(OURS, stream_body(url)),
                      lambda: FfmpegPerCamera(FFMPEG, ffmpeg_record_argv(url))]
    if c_binary:
        out.append(lambda: LightnvrC(C, c_binary, url))
    return out


def core_lines(res: Results, n: int) -> list[str]:
    """At N = `n`: each contender's CPU as % of one core and the packets our queues dropped
    in the window (issue #16 at 64 streams: 0 dropped, <= 50 % of one core)."""
    out: list[str] = []
    for label in res.labels:
        cpu = res.cpu(label, n)
        if cpu is None or not n:
            continue
        dropped = res.extra(label, n, "dropped")
        drops = f", dropped {dropped:g} packets" if label.startswith(OURS) else ""
        out.append(f"  {label} at N={n}: {cpu * n / 60 * 100:.0f} % of one core{drops}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_common_args(ap, rounds=3, warmup=3.0, window=6.0, streams="0,1,4,16")
    ap.add_argument("--no-live", action="store_true",
                    help="skip the recording + live view step at the largest N")
    ap.add_argument("--lightnvr-c", default=os.environ.get("LIGHTNVR_C", ""),
                    help="LightNVR C binary (docs/performance.md: how to build it)")
    ap.add_argument("--mount", default="file264")
    args = ap.parse_args(argv)
    if args.lightnvr_c and not os.access(args.lightnvr_c, os.X_OK):
        ap.error(f"--lightnvr-c {args.lightnvr_c}: not an executable file")
    counts = parse_counts(args.streams)
    steps = ramp(counts)
    top = max(counts)
    if not args.no_live and top:
        steps.append((top, "live"))  # the same processes, live view switched on in place

    res = Results()
    with started_camera(args.mount) as url:
        load_report("before")
        run_rounds(contenders(url, args.lightnvr_c), steps, args.rounds, args.warmup,
                   args.window, res)
    print()
    print(table(res, f"Recording ({args.mount}: 720p15 ~2 Mbit/s H.264 + AAC, one RTSP/TCP "
                     "client per stream); '<name> live': live view on as well"))
    print("\n".join(ratio_lines(res, OURS, [FFMPEG, C])))
    print("\n".join(core_lines(res, top)))
    live = f"{OURS} live"
    if live in res.labels:
        print("\n".join(ratio_lines(res, live, [f"{FFMPEG} live", f"{C} live"], slopes=False)))
        a, b = res.cpu(live, top), res.cpu(OURS, top)
        if a is not None and b is not None:
            print(f"  {OURS}: live view adds {a - b:.3f} CPU-s/stream-min to recording's "
                  f"{b:.3f} at N={top} (target: no more than recording)")
    for f in res.failures:
        print("FAILED:", f)
    load_report("after")
    if args.json:
        Path(args.json).write_text(json.dumps(res.to_json(), indent=2))
    return 1 if res.failures else 0


if __name__ == "__main__":
    sys.exit(main())
