"""The built-in demo camera (`demo://NAME`): a test pattern encoded in-process, paced in real time.

So `make run` shows live video and writes recordings on a machine with no camera, through the
very same reader -> recorder / live writer path as a real camera.

A short loop (default 10 s of FFmpeg's `testsrc2` at 640x360, 10 fps, H.264, 2 s GOP) is
encoded once per process with libx264 into memory and cached; each `DemoSource` demuxes that
loop again and again, shifting timestamps by the loop length, and waits (on the reader's stop
event, so stopping is immediate) until each packet's media time is due. Encoding once keeps
the demo's CPU cost near zero however long it runs.

URL options: `demo://testsrc?size=640x360&fps=10&seconds=10` (all optional), within
`MAX_WIDTH`x`MAX_HEIGHT`, `MAX_FPS`, `MIN_SECONDS`..`MAX_SECONDS` and at most
`MAX_PIXEL_FRAMES` pixels x frames per clip, so no URL can ask for minutes of encoding.
The cache keeps the `CACHE_CLIPS` most recently used loops (LRU): distinct URLs cannot make the
daemon's memory grow. Encodes run one at a time (bounded CPU); cache hits never wait for them.
The web layer accepts `demo://` only with `[general] demo_mode` on.
"""

from __future__ import annotations

import collections
import io
import threading
import time
from collections.abc import Iterator
from fractions import Fraction
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

from lightnvr.core.redact import redact_url
from lightnvr.video.packet import StreamInfo
from lightnvr.video.source import PermanentSourceError

MAX_WIDTH, MAX_HEIGHT = 1920, 1080
MAX_FPS = 30
MIN_SECONDS, MAX_SECONDS = 2, 30
MAX_PIXEL_FRAMES = 1920 * 1080 * 100  # ~100 frames of 1080p: a few seconds of libx264
CACHE_CLIPS = 4

_Key = tuple[str, str, int, int]
_cache: collections.OrderedDict[_Key, bytes] = collections.OrderedDict()  # LRU, oldest first
_cache_lock = threading.Lock()  # guards _cache only; never held while encoding
_encode_lock = threading.Lock()  # one encode at a time


class CacheInfo(NamedTuple):
    clips: int
    bytes: int


def cache_info() -> CacheInfo:
    """How many encoded loops are cached and their total size (bounded by CACHE_CLIPS)."""
    with _cache_lock:
        return CacheInfo(len(_cache), sum(len(v) for v in _cache.values()))
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
        raise PermanentSourceError(f"bad demo URL options in {redact_url(url)!r}: {exc}",
                                   retry=False) from exc
    if not (16 <= w <= MAX_WIDTH and 16 <= h <= MAX_HEIGHT and 1 <= fps <= MAX_FPS
            and MIN_SECONDS <= seconds <= MAX_SECONDS
            and w * h * fps * seconds <= MAX_PIXEL_FRAMES):
        raise PermanentSourceError(
            f"demo URL options out of range in {redact_url(url)!r}: size up to "
            f"{MAX_WIDTH}x{MAX_HEIGHT}, fps 1..{MAX_FPS}, seconds {MIN_SECONDS}..{MAX_SECONDS}, "
            f"width x height x fps x seconds at most {MAX_PIXEL_FRAMES}", retry=False)
    return pattern, f"{w}x{h}", fps, seconds


def _cached(key: _Key) -> bytes | None:
    with _cache_lock:
        data = _cache.get(key)
        if data is not None:
            _cache.move_to_end(key)
        return data


def _remember(key: _Key, data: bytes) -> None:
    with _cache_lock:
        _cache[key] = data
        _cache.move_to_end(key)
        while len(_cache) > CACHE_CLIPS:
            _cache.popitem(last=False)


def encode_loop(pattern: str, size: str, fps: int, seconds: int) -> bytes:
    """An MP4 of `seconds` of the lavfi pattern, H.264 with a GOP of 2 s (LRU-cached)."""
    key = (pattern, size, fps, seconds)
    data = _cached(key)
    if data is not None:
        return data
    with _encode_lock:
        data = _cached(key)  # another thread may have encoded it while we waited
        if data is None:
            data = _encode(pattern, size, fps, seconds)
            _remember(key, data)
    return data


def _encode(pattern: str, size: str, fps: int, seconds: int) -> bytes:
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
    return out_buf.getvalue()


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
