"""The built-in demo camera (`demo://NAME`): a test pattern encoded in-process, paced in real time.

So `make run` shows live video and writes recordings on a machine with no camera, through the
very same reader -> recorder / live writer path as a real camera.

A short loop (default 10 s of FFmpeg's `testsrc2` at 640x360, 10 fps, H.264, 2 s GOP) is
encoded once per process with libx264 into memory and cached; each `DemoSource` demuxes that
loop again and again, shifting timestamps by the loop length, and waits (on the reader's stop
event, so stopping is immediate) until each packet's media time is due. Encoding once keeps
the demo's CPU cost near zero however long it runs.

URL options: `demo://testsrc?size=640x360&fps=10&seconds=10` (all optional).
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from fractions import Fraction
from typing import Any
from urllib.parse import parse_qs, urlsplit

from lightnvr.video.packet import StreamInfo
from lightnvr.video.source import PermanentSourceError

_cache: dict[tuple[str, int, int], bytes] = {}
_cache_lock = threading.Lock()
_PATTERNS = {"testsrc": "testsrc", "testsrc2": "testsrc2", "smptebars": "smptebars",
             "": "testsrc2"}


def _parse(url: str) -> tuple[str, str, int, int]:
    parts = urlsplit(url)
    pattern = _PATTERNS.get(parts.netloc.lower())
    if pattern is None:
        raise PermanentSourceError(
            f"unknown demo pattern {parts.netloc!r}: use demo://testsrc, demo://testsrc2 or "
            "demo://smptebars", retry=False)
    q = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    try:
        size = q.get("size", "640x360")
        w, h = (int(x) for x in size.split("x"))
        fps = int(q.get("fps", "10"))
        seconds = int(q.get("seconds", "10"))
    except ValueError as exc:
        raise PermanentSourceError(f"bad demo URL options in {url!r}: {exc}",
                                   retry=False) from exc
    if not (16 <= w <= 1920 and 16 <= h <= 1080 and 1 <= fps <= 30 and 2 <= seconds <= 60):
        raise PermanentSourceError(f"demo URL options out of range in {url!r}", retry=False)
    return pattern, f"{w}x{h}", fps, seconds


def encode_loop(pattern: str, size: str, fps: int, seconds: int) -> bytes:
    """An MP4 of `seconds` of the lavfi pattern, H.264 with a GOP of 2 s (cached)."""
    key = (f"{pattern}:{size}", fps, seconds)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            return cached
        import av

        src = av.open(f"{pattern}=size={size}:rate={fps}", format="lavfi")
        out_buf = io.BytesIO()
        out = av.open(out_buf, "w", format="mp4")
        w, h = (int(x) for x in size.split("x"))
        stream = out.add_stream("libx264", rate=fps, options={
            "preset": "ultrafast", "tune": "zerolatency", "crf": "30",
            "x264-params": f"keyint={2 * fps}:min-keyint={2 * fps}:scenecut=0:bframes=0"})
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.codec_context.gop_size = 2 * fps
        for i, frame in enumerate(src.decode(video=0)):
            if i >= fps * seconds:
                break
            frame = frame.reformat(format="yuv420p")
            frame.pts = None
            frame.pict_type = 0  # lavfi marks every frame I: libx264 would obey and skip P frames
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
        out.close()
        src.close()
        data = out_buf.getvalue()
        _cache[key] = data
        return data


class DemoSource:
    """A paced, endless replay of the encoded loop (see module doc)."""

    def __init__(self, url: str, stop: threading.Event | None = None) -> None:
        import av

        pattern, size, fps, seconds = _parse(url)
        self._data = encode_loop(pattern, size, fps, seconds)
        self._stop = stop or threading.Event()
        self._container = av.open(io.BytesIO(self._data), "r", format="mp4")
        video = self._container.streams.video[0]
        self.info = StreamInfo(video, None)
        self.video_index = video.index
        self.audio_index = -1
        self._time_base: Fraction = video.time_base or Fraction(1, 90000)
        self._loop_ticks = int(seconds / self._time_base)

    def packets(self) -> Iterator[Any]:
        """Packets paced to real time; ends only when the stop event is set."""
        t0 = time.monotonic()
        offset = 0
        first: int | None = None
        while not self._stop.is_set():
            self._container.seek(0)
            for pkt in self._container.demux(video=0):
                if pkt.dts is None or pkt.pts is None:
                    continue
                if first is None:
                    first = pkt.dts
                due = t0 + float((pkt.dts - first + offset) * self._time_base)
                delay = due - time.monotonic()
                if delay > 0 and self._stop.wait(delay):
                    return
                pkt.pts += offset
                pkt.dts += offset
                yield pkt
            offset += self._loop_ticks

    def close(self) -> None:
        self._container.close()
