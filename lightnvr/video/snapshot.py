"""Snapshots: the reader's latest keyframe decoded to a JPEG on demand, cached about a second.

Nothing is decoded unless someone asks. Decoding runs in the caller's thread (a web worker)
with `thread_count=1`: FFmpeg's default threaded decoders cost ~25 threads and hundreds of MiB
across a few streams. The JPEG comes from FFmpeg's mjpeg encoder (no imaging library).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from lightnvr.video.avcompat import set_fixed_quantizer
from lightnvr.video.packet import MediaPacket

log = logging.getLogger(__name__)


def keyframe_to_jpeg(item: MediaPacket, quality: int = 5) -> bytes | None:
    """Decode one keyframe and encode it as JPEG (`quality`: mjpeg qscale 2 best .. 31)."""
    import av

    info = item.info
    dec: Any = av.CodecContext.create(info.video_codec, "r")
    dec.thread_count = 1
    dec.thread_type = "SLICE"
    if info.video_extradata:
        dec.extradata = info.video_extradata
    pkt = av.Packet(bytes(item.buffer.view()))  # av.Packet references, never copies
    pkt.pts, pkt.dts, pkt.time_base = item.pts, item.dts, info.video_time_base
    frames = list(dec.decode(pkt)) + list(dec.decode(None))
    if not frames:
        return None
    frame = frames[0].reformat(format="yuvj420p")
    enc = av.CodecContext.create("mjpeg", "w")
    enc.width, enc.height = frame.width, frame.height
    enc.pix_fmt = "yuvj420p"
    enc.time_base = Fraction(1, 25)
    enc.thread_count = 1
    # Fixed quantizer instead of the default 200 kbit/s rate target (blurry stills).
    set_fixed_quantizer(enc, quality)
    packets = list(enc.encode(frame)) + list(enc.encode(None))
    return b"".join(bytes(p) for p in packets) or None


class SnapshotCache:
    """Per-stream JPEG cache; `get(name, fetch)` decodes at most once per `max_age` s."""

    def __init__(self, max_age: float = 1.0) -> None:
        self.max_age = max_age
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, bytes]] = {}

    def get(self, name: str, fetch: Callable[[], MediaPacket | None]) -> bytes | None:
        """The cached JPEG, or one of `fetch()`'s keyframe (whose reference is released)."""
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(name)
            if hit is not None and now - hit[0] < self.max_age:
                return hit[1]
        latest = fetch()
        if latest is None:
            return None
        try:
            try:
                jpeg = keyframe_to_jpeg(latest)
            except Exception:
                log.warning("snapshot of %s failed", name, exc_info=True)
                return None
            if jpeg is not None:
                with self._lock:
                    self._cache[name] = (now, jpeg)
            return jpeg
        finally:
            latest.release()

    def forget(self, name: str) -> None:
        with self._lock:
            self._cache.pop(name, None)
