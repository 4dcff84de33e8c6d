"""Frame sampling for detectors: pick at most one packet per interval, decode it small.

Motion wants it gray at SAMPLE_WIDTH (`sample_frame` + `frame_gray`); an object model wants it
in colour at its input size, letterboxed (`sample_frame` + `model_input`), the HTTP API a
colour picture (`frame_rgb`): in every case FFmpeg scales and converts. Python sees a full
frame only for an event's JPEG (`frame_jpeg`, with `[detection] event_snapshots`, once per
event).

Decoding is the expensive part of detection, so it is done as little as possible: by default
only keyframes are decoded (the decoder is told `skip_frame = NONKEY`, and other packets are
never handed to it), single-threaded (`thread_count = 1`: one core per camera would be
wasteful on a small board), and at most one frame per interval. The picture is scaled and
turned to 8-bit gray inside FFmpeg's swscale (`reformat`, area averaging, which also averages
away pixel noise), so Python only ever sees a ~160 x 90 array.

In keyframe mode the decoder is closed after each sample and opened again for the next one: a
keyframe needs no earlier frame, and an open H.264/H.265 decoder keeps its frame pool (a few
full-size pictures, ~5-7 MiB at 720p) for as long as it lives, between samples seconds apart.
Opening one costs far less than the keyframe's decode.

`every_frame` mode (cameras with GOPs longer than the interval; the stream's
`detection_every_frame`) decodes every packet, since a P-frame needs its references, but still
converts only one frame per interval. Its decoder starts at a keyframe (a P-frame without its
references decodes to garbage a detector would take for motion), and switching the mode
(`set_every_frame`) drops the decoder, so the next keyframe starts the new one.

Used by one detector thread; PyAV is imported only here.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import numpy.typing as npt

from lightnvr.video.detection.api_engine import encode_jpeg
from lightnvr.video.detection.engine import Letterbox
from lightnvr.video.detection.outputs import letterbox
from lightnvr.video.packet import MediaPacket, StreamInfo

log = logging.getLogger(__name__)

SAMPLE_WIDTH = 160
# Keyframes arrive at GOP spacing: one that comes a little early for the interval is still
# taken, or a 2 s interval on a 2 s GOP camera would sample only every 4 s.
INTERVAL_SLACK = 0.8


def sample_size(width: int, height: int) -> tuple[int, int]:
    """(w, h) of the sampled picture: SAMPLE_WIDTH wide, aspect kept, even height."""
    if width <= 0 or height <= 0:
        return SAMPLE_WIDTH, SAMPLE_WIDTH * 9 // 16
    h = max(2, round(SAMPLE_WIDTH * height / width / 2) * 2)
    return SAMPLE_WIDTH, h


class FrameSampler:
    """Turns a stream's packets into small gray frames, at most one per `interval` seconds."""

    def __init__(self, interval: float, every_frame: bool = False) -> None:
        self.interval = interval
        self.every_frame = every_frame
        self._info: StreamInfo | None = None
        self._ctx: Any = None
        self._last_sample = -float("inf")
        self.decoded = 0
        self.errors = 0

    def set_every_frame(self, every_frame: bool) -> None:
        """Switch mode from the next packet on (called by the detector's own thread)."""
        if every_frame != self.every_frame:
            self.every_frame = every_frame
            self._ctx = None  # opened with the other skip_frame setting

    def restart(self) -> None:
        """Drop the decoder: the next keyframe starts a new one (after lost packets)."""
        self._ctx = None

    def due(self, wall: float, interval: float | None = None) -> bool:
        """True when a frame received at `wall` should be analysed."""
        step = self.interval if interval is None else interval
        return wall - self._last_sample >= step * INTERVAL_SLACK

    def sample_frame(self, item: MediaPacket, interval: float | None = None) -> Any:
        """The decoded picture (an av.VideoFrame) of `item` if it is due and decodes."""
        if not item.is_video:
            return None
        if item.info is not self._info:
            self.close()
            self._info = item.info
        if not item.is_keyframe and (not self.every_frame or self._ctx is None):
            return None  # (every_frame: a decoder starts at a keyframe, see the module doc)
        due = self.due(item.wall, interval)
        if not due and not self.every_frame:
            return None  # a keyframe decoder needs nothing it skips
        if self._ctx is None:
            self._open(item.info)
        frame = self._decode(item)
        if not self.every_frame:
            self._ctx = None  # see the module doc: its frame pool goes with it
        if frame is None or not due:
            return None
        self._last_sample = item.wall
        return frame

    def _open(self, info: StreamInfo) -> None:
        import av

        ctx = av.CodecContext.create(info.video_codec, "r")
        if info.video_extradata:
            ctx.extradata = info.video_extradata
        ctx.thread_count = 1
        if not self.every_frame:
            ctx.skip_frame = "NONKEY"
        self._ctx = ctx

    def _decode(self, item: MediaPacket) -> Any:
        import av

        try:
            # bytes(): the packet's slab goes back to the pool when the caller releases it
            frames = self._ctx.decode(av.Packet(bytes(item.buffer.view())))
            if not frames and not self.every_frame:
                # a decoder that reorders (B-frames, H.265) holds the picture back: drain
                # it (this decoder is dropped after this keyframe anyway)
                frames = self._ctx.decode(None)
        except Exception:
            self.errors += 1
            if self.errors <= 3 or self.errors % 100 == 0:
                log.warning("frame not decoded (error %d)", self.errors, exc_info=True)
            return None
        if not frames:
            return None
        self.decoded += len(frames)
        return frames[-1]

    def close(self) -> None:
        self._ctx = None
        self._info = None


def model_input(frame: Any, box: Letterbox) -> npt.NDArray[np.uint8]:
    """`frame` as an object model's RGB input: scaled into `box` inside FFmpeg (aspect
    kept, area averaging), then padded to the input size (outputs.letterbox)."""
    w, h = box.inner
    rgb: npt.NDArray[np.uint8] = frame.reformat(width=w, height=h, format="rgb24",
                                                interpolation="AREA").to_ndarray()
    return letterbox(rgb, box)


def frame_gray(frame: Any) -> npt.NDArray[np.uint8]:
    """The motion detector's picture of a decoded frame: grey, at most `sample_size`."""
    w, h = sample_size(frame.width, frame.height)
    gray = frame.reformat(width=w, height=h, format="gray", interpolation="AREA")
    out: npt.NDArray[np.uint8] = gray.to_ndarray()
    return out


def frame_jpeg(frame: Any) -> bytes:
    """The whole decoded frame (a PyAV VideoFrame) as a JPEG, at its own size: an event's
    picture is the frame the detector analysed."""
    return encode_jpeg(frame_rgb(frame, frame.width))


def frame_rgb(frame: Any, max_width: int) -> npt.NDArray[np.uint8]:
    """`frame` as RGB, at most `max_width` wide (aspect kept, even height): what an engine
    that takes any size (the HTTP API) is sent."""
    w, h = frame.width, frame.height
    if w > max_width:
        w, h = max_width, max(2, round(max_width * h / w / 2) * 2)
    out: npt.NDArray[np.uint8] = frame.reformat(width=w, height=h, format="rgb24",
                                                interpolation="AREA").to_ndarray()
    return out
