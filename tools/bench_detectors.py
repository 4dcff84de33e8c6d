"""What the detection benchmarks share: their options, the looped camera, the per-detector lines.

tools/bench_detection.py (motion) and tools/bench_objects.py (object models) both ramp the
daemon through detection modes switched in place (tools/bench_runner.py) on the test camera's
looped 720p15 `file264` mount, and report each detector's cost over recording alone.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tools.bench_runner import (
    Results,
    add_common_args,
    clip_camera,
    load_report,
    parse_counts,
    table,
)

OURS = "lightnvr"


def parse_args(doc: str | None, streams: str, argv: list[str] | None,
               more: Callable[[argparse.ArgumentParser], object] = lambda ap: None
               ) -> tuple[argparse.Namespace, list[int]]:
    """The common options plus `--interval` (and what `more` adds); the stream counts > 0."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    add_common_args(ap, rounds=3, warmup=3.0, window=6.0, streams=streams)
    ap.add_argument("--interval", type=int, default=1, help="detection_interval (s)")
    more(ap)
    args = ap.parse_args(argv)
    return args, [n for n in parse_counts(args.streams) if n > 0]


@contextmanager
def looped_camera() -> Iterator[Any]:
    """The GStreamer test camera serving the generated clips (file264 and the scenes);
    stopped on exit. The load average is reported before and after the measurements."""
    with clip_camera() as camera:
        load_report("before")
        yield camera


def detector_lines(res: Results, counts: Sequence[int], modes: Sequence[str],
                   ref: str = "", targets: bool = False) -> list[str]:
    """Per N and detection mode (every mode but the first, `record`): the extra CPU per
    stream-minute over recording, that as a multiple of recording, the extra USS per
    detector and the frames analysed; with `targets`, motion's issue targets beside them."""
    out = []
    for n in counts:
        rec, rec_uss = res.cpu(f"{OURS} {modes[0]}", n), res.uss(f"{OURS} {modes[0]}", n)
        if rec is None or rec_uss is None:
            continue
        reference = res.cpu(ref, n) if ref else None
        for mode in modes[1:]:
            cpu, uss = res.cpu(f"{OURS} {mode}", n), res.uss(f"{OURS} {mode}", n)
            if cpu is None or uss is None:
                continue
            extra = cpu - rec
            ref_txt = f", reference {reference:.3f}" if reference is not None else ""
            frames = res.extra(f"{OURS} {mode}", n, "frames") or 0.0
            cpu_target, mem_target = (" (target <= 1)", " (target <= 2)") if targets \
                else ("", "")
            out.append(f"  N={n} {mode}: +{extra:.3f} CPU-s/str-min = "
                       f"{extra / max(rec, 1e-9):.2f} x recording{cpu_target}{ref_txt}; "
                       f"{(uss - rec_uss) / n:.2f} MiB USS per detector{mem_target}; "
                       f"{frames:.0f} frames analysed")
    return out


def report(res: Results, title: str, lines: list[str], json_path: str,
           payload: dict[str, Any] | None = None) -> int:
    """Print the table, the detector lines and the failures, the load average after, save
    the samples (under "daemon" beside `payload` when given); the exit code."""
    print()
    print(table(res, title))
    print("\n".join(lines))
    for f in res.failures:
        print("FAILED:", f)
    load_report("after")
    if json_path:
        data = res.to_json() if payload is None else {**payload, "daemon": res.to_json()}
        Path(json_path).write_text(json.dumps(data, indent=2))
    return 1 if res.failures else 0
