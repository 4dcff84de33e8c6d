"""`make bench`: run every benchmark in turn, each printing its figures beside its reference.

Benchmarks measure; they assert nothing about speed (timed assertions belong nowhere).
Pass `--quick` for shorter runs while developing; `make bench` runs the full set (about
22 minutes; 26 with LightNVR C: `make bench LIGHTNVR_C=/path/to/lightnvr`, estimated from its
parts; the recording table of issue #16 alone, about 11 minutes:
`make bench BENCH_ARGS=bench_recording.py`).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parent

BENCHMARKS: list[tuple[str, list[str], list[str]]] = [
    # (script, full-run arguments, quick-run arguments)
    # bench_recording.py also compares LightNVR C when LIGHTNVR_C names its binary.
    ("bench_recording.py", [], ["--streams", "0,1,4", "--rounds", "2"]),
    # where the CPU per stream goes: PyAV floor -> thread shape -> whole daemon (~8 min)
    ("bench_shape.py", [], ["--streams", "4", "--rounds", "1", "--window", "5"]),
    # our Python per packet against bare PyAV, one thread, the test clip (~1 min)
    ("bench_hotpath.py", [], ["--rounds", "3", "--loops", "2"]),
    ("bench_api.py", [], ["--seconds", "5", "--clients", "20"]),
    # Two rounds here keep `make bench` shorter (bench_detection.py alone runs three).
    ("bench_detection.py", ["--rounds", "2"], ["--streams", "1,4", "--rounds", "2"]),
    ("bench_objects.py", [], ["--streams", "1", "--rounds", "1", "--window", "6",
                              "--frames", "50"]),
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="shorter runs")
    ap.add_argument("only", nargs="*", help="run only these benchmark scripts")
    args = ap.parse_args(argv)
    failures = 0
    for script, full, quick in BENCHMARKS:
        if args.only and script not in args.only:
            continue
        path = TOOLS / script
        cmd = [sys.executable, str(path), *(quick if args.quick else full)]
        print(f"\n=== {script} {' '.join(cmd[2:])}", flush=True)
        rc = subprocess.call(cmd)
        if rc != 0:
            print(f"=== {script} failed with exit code {rc}", flush=True)
            failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
