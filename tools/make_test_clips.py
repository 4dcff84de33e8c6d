"""Make the looping test clips the test camera serves (720p15 ~2 Mbit/s H.264 + AAC, H.265 too).

    python tools/make_test_clips.py [--out .cache/test-media] [--seconds 20]

`make_clip` is the project's one clip encoder (PyAV): these camera clips and every test's
small clip (tests/fixtures/clips.py imports it) come from it. Camera clips are a moving
colour pattern with per-frame sensor-like noise, so the bitrate looks like a real camera's;
GOP 2 s (30 frames), no B-frames, AAC mono 48 kHz; the H.265 clip is tagged `hvc1`. Clips
already present are kept, so calling it again is cheap.
"""

from __future__ import annotations

import argparse
import os
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal, cast

CLIP_H264 = "clip264.mp4"
CLIP_H265 = "clip265.mp4"
CAMERA_SIZE = (1280, 720)
CAMERA_FPS = 15
AUDIO_RATE = 48000
_AUDIO_FRAME = 1024  # AAC's samples per frame

Picture = Literal["noise", "grey", "scene"]


def _scene(width: int, height: int) -> Any:
    """A smooth colour pattern (three planes) that `_picture` shifts a little every frame."""
    import numpy as np

    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    luma = 128 + 60 * np.sin(x / 37.0) * np.cos(y / 23.0) + 40 * np.sin((x + y) / 91.0)
    cb = 128 + 50 * np.sin(x[::2, ::2] / 53.0)
    cr = 128 + 50 * np.cos(y[::2, ::2] / 41.0)
    return tuple(p.astype(np.int16) for p in (luma, cb, cr))


def _picture(frame: Any, i: int, picture: Picture, scene: Any, rng: Any) -> None:
    if picture == "grey":
        for plane in frame.planes:
            plane.update(bytes([i * 12 % 256]) * plane.buffer_size)
        return
    if picture == "noise":
        for plane in frame.planes:
            plane.update(os.urandom(plane.buffer_size))
        return
    import numpy as np

    for plane, base in zip(frame.planes, scene, strict=True):
        moved = np.roll(base, (i * 2) % base.shape[1], axis=1)  # the pattern pans
        noisy = moved + rng.integers(-10, 11, base.shape, dtype=np.int16)  # new every frame
        data = np.clip(noisy, 0, 255).astype(np.uint8)
        if plane.line_size != data.shape[1]:  # rows padded for alignment
            data = np.pad(data, ((0, 0), (0, plane.line_size - data.shape[1])))
        plane.update(data.tobytes())


def _options(codec: str, gop: int | None, fixed_gop: bool, b_frames: int, crf: int,
             bitrate: int | None) -> dict[str, object]:
    if codec == "libx265":
        params = [f"bframes={b_frames}", "log-level=error"]
        if gop:
            params += [f"keyint={gop}"] + ([f"min-keyint={gop}", "scenecut=0"]
                                           if fixed_gop else [])
        options: dict[str, object] = {"preset": "ultrafast", "x265-params": ":".join(params)}
        if bitrate is None:
            options["crf"] = str(crf)
        return options
    options = {"preset": "fast" if b_frames else "ultrafast", "bf": str(b_frames)}
    if bitrate is None:
        options["crf"] = str(crf)
    if gop:
        options["g"] = str(gop)
    if gop and fixed_gop:  # as cameras send: no extra keyframes at scene cuts
        options.update({"keyint_min": str(gop), "sc_threshold": "0"})
    return options


def make_clip(path: str | os.PathLike[str], frames: int = 4, size: tuple[int, int] = (320, 240),
              noise: bool = True, fps: int = 10, gop: int | None = None, b_frames: int = 0,
              *, picture: Picture | None = None, codec: str = "libx264",
              bitrate: int | None = None, audio: bool = False, fixed_gop: bool = False,
              fragmented: bool = True) -> Path:
    """The one clip encoder: `frames` frames of H.264 (or `codec`) at `path`, made with PyAV.

    `fragmented` (default): a fragmented MP4, one fragment per GOP, as our recorder writes;
    otherwise a plain MP4 with the index at the end (what a file-serving camera loops).
    Pictures (`picture`, else by `noise`): "noise" random pixels that do not compress,
    "grey" one grey level that changes every frame, "scene" a panning pattern with sensor
    noise. `gop`: frames per keyframe (default: the encoder's); `fixed_gop`: no extra
    keyframes at scene cuts either; `b_frames` > 0 makes file order differ from presentation
    order. `bitrate` (bit/s) instead of a constant quality; `audio`: an AAC mono 48 kHz 440 Hz tone.
    """
    import av
    import numpy as np

    kind: Picture = picture or ("noise" if noise else "grey")
    options = {"movflags": "frag_keyframe+empty_moov+default_base_moof"} if fragmented else {}
    out = av.open(str(path), "w", format="mp4", options=options)
    try:
        # `codec` is a name chosen at run time: PyAV's stubs cannot know it makes video
        v = cast("av.VideoStream", out.add_stream(codec, rate=fps))
        v.width, v.height = size
        v.pix_fmt = "yuv420p"
        if codec == "libx265":
            v.codec_tag = "hvc1"  # what Apple's players and MSE ask for
        if bitrate is not None:
            v.bit_rate = bitrate
        v.options = _options(codec, gop, fixed_gop, b_frames, 10 if kind == "noise" else 30,
                             bitrate)
        a: av.AudioStream | None = None
        if audio:
            a = out.add_stream("aac", rate=AUDIO_RATE)
            a.layout = "mono"
            a.bit_rate = 64000
        scene = _scene(*size) if kind == "scene" else None
        rng = np.random.default_rng(1)
        samples = 0
        for i in range(frames):
            frame = av.VideoFrame(size[0], size[1], "yuv420p")
            _picture(frame, i, kind, scene, rng)
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for pkt in v.encode(frame):
                out.mux(pkt)
            # audio up to the end of this video frame, so the two stay interleaved
            while a is not None and samples < (i + 1) * AUDIO_RATE // fps:
                t = (samples + np.arange(_AUDIO_FRAME)) / AUDIO_RATE
                tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
                af = av.AudioFrame.from_ndarray(tone.reshape(1, -1), format="fltp",
                                                layout="mono")
                af.sample_rate = AUDIO_RATE
                af.pts = samples
                af.time_base = Fraction(1, AUDIO_RATE)
                samples += _AUDIO_FRAME
                for pkt in a.encode(af):
                    out.mux(pkt)
        for pkt in v.encode(None):
            out.mux(pkt)
        for pkt in a.encode(None) if a is not None else ():
            out.mux(pkt)
    finally:
        out.close()
    return Path(path)


def _atomic(target: Path, **kw: Any) -> None:
    """Encode into a temp name and rename, so an interrupted run leaves no half clip."""
    tmp = target.with_name(target.stem + ".tmp" + target.suffix)
    make_clip(tmp, **kw)
    os.replace(tmp, target)


def make_clips(out_dir: str | os.PathLike[str], seconds: int = 20) -> dict[str, Path]:
    """Create (if missing) and return {"h264": path, "h265": path}."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    camera = {"frames": seconds * CAMERA_FPS, "size": CAMERA_SIZE, "fps": CAMERA_FPS,
              "gop": 2 * CAMERA_FPS, "fixed_gop": True, "picture": "scene", "audio": True,
              "fragmented": False}
    paths = {"h264": out / CLIP_H264, "h265": out / CLIP_H265}
    for kind, codec, bitrate in (("h264", "libx264", 2_000_000), ("h265", "libx265", 1_000_000)):
        if not paths[kind].is_file() or paths[kind].stat().st_size == 0:
            _atomic(paths[kind], codec=codec, bitrate=bitrate, **camera)
    return paths


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
