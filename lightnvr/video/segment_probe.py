"""Measure a recorded segment, even one cut off by a crash: playable duration, size, codec.

Used at start-up to repair incomplete rows (docs/storage.md, "Start-up recovery"): the
daemon hands `probe_segment` to the storage reconciliation, which knows nothing of media.
Demux only (no decode), so scanning a 15-minute segment costs milliseconds. A file torn by
SIGKILL or power loss ends in a partial fragment: FFmpeg either stops early or raises
InvalidDataError there; packets that do not lie wholly inside the file are not counted.
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass

log = logging.getLogger(__name__)

_NAME_TIME = re.compile(r"_(\d{8})_(\d{6})(?:_\d+)?\.mp4$")


@dataclass(frozen=True, slots=True)
class SegmentProbe:
    """What a segment file holds. `duration` covers the whole video frames it contains.

    Field names match lightnvr.storage.probe.ProbeResult, so either probe can be handed to
    the storage reconciliation. `start_time` comes from the file name (the recorder's naming),
    else from the file's mtime minus its duration.
    """

    path: str
    start_time: float
    duration: float       # seconds of playable video
    size_bytes: int
    width: int
    height: int
    fps: int
    codec: str
    video_packets: int
    keyframes: int
    has_audio: bool

    @property
    def end_time(self) -> float:
        return self.start_time + self.duration

    @property
    def video_frames(self) -> int:
        return self.video_packets


def start_time_from_name(path: str) -> float | None:
    """The start time encoded in a segment's file name (local time), or None."""
    m = _NAME_TIME.search(os.path.basename(path))
    if m is None:
        return None
    try:
        return time.mktime(time.strptime(m.group(1) + m.group(2), "%Y%m%d%H%M%S"))
    except ValueError:
        return None


def probe_segment(path: str) -> SegmentProbe | None:
    """Measure `path`; None when it holds no playable video frame (or is not media at all)."""
    import av

    try:
        size = os.path.getsize(path)
        container = av.open(path, "r")
    except (OSError, av.error.FFmpegError) as exc:
        log.info("segment %s unreadable: %s", path, exc)
        return None
    try:
        if not container.streams.video:
            return None
        video = container.streams.video[0]
        ctx = video.codec_context
        tb = video.time_base
        first: int | None = None
        prev: int | None = None
        end: int | None = None
        step = 0
        frames = 0
        keyframes = 0
        try:
            for pkt in container.demux(video):
                if pkt.dts is None or pkt.size == 0:
                    continue
                if pkt.pos is not None and pkt.pos >= 0 and pkt.pos + pkt.size > size:
                    break  # torn tail: this sample is not wholly on disk
                if first is None:
                    first = pkt.dts
                if prev is not None and pkt.dts > prev:
                    step = pkt.dts - prev
                prev = pkt.dts
                end = pkt.dts + (pkt.duration or step)
                frames += 1
                keyframes += bool(pkt.is_keyframe)
        except (av.error.InvalidDataError, av.error.EOFError, av.error.FFmpegError) as exc:
            log.info("segment %s is cut off after %d frames (%s)", path, frames, exc)
        if first is None or end is None or tb is None or frames == 0:
            return None
        rate = video.average_rate or video.guessed_rate
        duration = float((end - first) * tb)
        start = start_time_from_name(path)
        if start is None:
            start = os.path.getmtime(path) - duration
        return SegmentProbe(path, start, duration, size, int(ctx.width or 0),
                            int(ctx.height or 0), round(float(rate)) if rate else 0,
                            ctx.name, frames, keyframes, bool(container.streams.audio))
    finally:
        container.close()
