"""Make the looping test clips the test camera serves (720p15 ~2 Mbit/s H.264 + AAC, H.265 copy).

    python tools/make_test_clips.py [--out .cache/test-media] [--seconds 20]

Uses Debian's ``ffmpeg`` (lavfi testsrc2 with noise, so the bitrate looks like a real camera's).
Clips already present are kept, so calling it again is cheap. GOP is 2 s (30 frames), no
B-frames, AAC mono 48 kHz.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

CLIP_H264 = "clip264.mp4"
CLIP_H265 = "clip265.mp4"


def _run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL)


def _atomic(target: Path, build: list[str]) -> None:
    """Run ffmpeg into a temp name and rename, so an interrupted run leaves no half clip."""
    tmp = target.with_name(target.stem + ".tmp" + target.suffix)
    _run([*build, str(tmp)])
    os.replace(tmp, target)


def make_clips(out_dir: str | os.PathLike[str], seconds: int = 20) -> dict[str, Path]:
    """Create (if missing) and return {"h264": path, "h265": path}."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    h264, h265 = out / CLIP_H264, out / CLIP_H265
    base = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y"]
    if not h264.is_file() or h264.stat().st_size == 0:
        _atomic(h264, [
            *base, "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=15,noise=alls=12:allf=t",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", str(seconds),
            "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-pix_fmt", "yuv420p",
            "-b:v", "2M", "-maxrate", "2.2M", "-bufsize", "4M", "-g", "30", "-keyint_min", "30",
            "-sc_threshold", "0", "-bf", "0", "-c:a", "aac", "-b:a", "64k", "-ac", "1",
        ])
    if not h265.is_file() or h265.stat().st_size == 0:
        _atomic(h265, [
            *base, "-i", str(h264), "-c:v", "libx265", "-preset", "ultrafast", "-b:v", "1M",
            "-x265-params", "keyint=30:min-keyint=30:scenecut=0:bframes=0:log-level=error",
            "-tag:v", "hvc1", "-c:a", "copy",
        ])
    return {"h264": h264, "h265": h265}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--out", default=".cache/test-media")
    ap.add_argument("--seconds", type=int, default=20)
    args = ap.parse_args(argv)
    for kind, path in make_clips(args.out, args.seconds).items():
        print(f"{kind} {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
