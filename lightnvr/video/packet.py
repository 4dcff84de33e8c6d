"""What a reader hands its consumers: one connection's codec parameters and small packet items.

`StreamInfo` is created once per connection (a reconnect makes a new one, so consumers notice
codec changes by identity). It keeps codec *templates*: streams of a never-written output
container that copied the camera's codec parameters, so recorders and live writers can create
their output streams (`avcompat.add_stream_copy`) long after the camera's input container
was closed (an input container's streams die with it).

`MediaPacket` is the queue item: immutable by convention, `__slots__`, shared by every consumer
of a fan-out; each consumer owns one reference to its pooled bytes and calls `release()` once.
"""

from __future__ import annotations

import io
import itertools
from fractions import Fraction
from typing import Any

from lightnvr.core.memory.pool import PooledBuffer
from lightnvr.video.avcompat import add_stream_copy

_generation = itertools.count(1)


class StreamInfo:
    """Codec parameters of one connection (immutable after construction)."""

    __slots__ = ("_keeper", "audio_codec", "audio_template", "audio_time_base", "bitrate_bps",
                 "fps", "generation", "height", "video_codec", "video_extradata",
                 "video_template", "video_time_base", "width")

    def __init__(self, video: Any, audio: Any | None) -> None:
        """`video`/`audio`: PyAV input streams (audio None when absent or not wanted)."""
        self.generation = next(_generation)
        # Never started, never written: only holds the copied codec parameters (see module doc).
        self._keeper = _template_container()
        self.video_template = add_stream_copy(self._keeper, video)
        self.audio_template = (add_stream_copy(self._keeper, audio)
                               if audio is not None else None)
        ctx = video.codec_context
        self.video_codec: str = ctx.name
        self.width: int = int(ctx.width or 0)
        self.height: int = int(ctx.height or 0)
        rate = video.average_rate or video.guessed_rate or video.base_rate
        self.fps: float = float(rate) if rate else 0.0
        self.video_time_base: Fraction = video.time_base or Fraction(1, 90000)
        self.video_extradata: bytes | None = ctx.extradata
        self.bitrate_bps: int = int(ctx.bit_rate or 0)
        self.audio_codec: str = audio.codec_context.name if audio is not None else ""
        self.audio_time_base: Fraction | None = (audio.time_base or Fraction(1, 48000)
                                                 if audio is not None else None)

    def time_base(self, is_video: bool) -> Fraction:
        tb = self.video_time_base if is_video else self.audio_time_base
        return tb if tb is not None else self.video_time_base

    def describe(self) -> str:
        audio = f" + {self.audio_codec}" if self.audio_codec else ""
        return f"{self.video_codec} {self.width}x{self.height}@{self.fps:.3g}{audio}"


def _template_container() -> Any:
    import av  # media is touched only where needed

    return av.open(io.BytesIO(), "w", format="matroska")


class MediaPacket:
    """One demuxed access unit (video) or audio frame, bytes in a pooled slab.

    Timestamps are in the stream's time base (`info.time_base(is_video)`), already repaired
    by the reader: dts strictly increasing per kind, pts >= dts. `wall` is the wall-clock time
    the reader received it. Shared between consumers: never mutate; call `release()` once per
    reference you were given.
    """

    __slots__ = ("buffer", "dts", "duration", "info", "is_keyframe", "is_video", "pts", "wall")

    def __init__(self, info: StreamInfo, is_video: bool, is_keyframe: bool, pts: int, dts: int,
                 duration: int, buffer: PooledBuffer, wall: float) -> None:
        self.info = info
        self.is_video = is_video
        self.is_keyframe = is_keyframe
        self.pts = pts
        self.dts = dts
        self.duration = duration
        self.buffer = buffer
        self.wall = wall

    def release(self) -> None:
        """Give back this consumer's reference to the bytes (the queue calls it on drops)."""
        self.buffer.release()

    def __repr__(self) -> str:
        kind = "video" if self.is_video else "audio"
        key = " key" if self.is_keyframe else ""
        return f"<MediaPacket {kind}{key} dts={self.dts} pts={self.pts} size={self.buffer.size}>"
