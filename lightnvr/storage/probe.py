"""Probe a segment file with PyAV: is it playable, and its times, size and stream parameters.

The one probe of the project: start-up reconciliation, ``lightnvr check``,
tools/rebuild_recordings.py and the video tests all use ``probe_segment``. It lives in storage
because storage is what asks "what is on disk"; it imports nothing but PyAV, so video code
(or its tests) may use it without storage importing video. It demuxes (no decoding), so a
15-minute segment costs one sequential read. A file torn by SIGKILL or power loss ends in a
partial fragment: FFmpeg either stops early or raises there, and packets that do not lie
wholly inside the file are not counted.
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

log = logging.getLogger(__name__)

# The recorder names segments <stream>_<YYYYMMDD>_<HHMMSS>[_n].mp4; other tools use - or none.
_NAME_TIME = re.compile(r"(\d{8})[_-]?(\d{6})")


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What a segment file holds. ``start_time`` is wall-clock epoch seconds."""

    path: str
    start_time: float
    duration: float       # seconds of playable video (a torn tail excluded)
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
    """The last YYYYMMDD_HHMMSS in the file name (local time), or None.

    The last one, so a stream name that itself holds digits does not win over the time.
    """
    for day, clock in reversed(_NAME_TIME.findall(os.path.basename(path))):
        try:
            return time.mktime(time.strptime(day + clock, "%Y%m%d%H%M%S"))
        except ValueError:
            continue
    return None


def wall_start(path: str, metadata: dict[str, str], duration: float) -> float:
    """Metadata ``creation_time``, else a YYYYMMDD_HHMMSS in the name (local), else mtime-dur."""
    created = metadata.get("creation_time")
    if created:
        try:
            return datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    named = start_time_from_name(path)
    if named is not None:
        return named
    return os.path.getmtime(path) - duration


@dataclass(slots=True)
class _Span:
    """Running totals of the video packets wholly inside the file."""

    first: int | None = None
    end: int = 0
    prev_dts: int | None = None
    step: int = 0  # the last dts increment: the duration of a packet that carries none
    packets: int = 0
    keyframes: int = 0

    def add(self, pkt: Any) -> None:
        ts = pkt.pts if pkt.pts is not None else pkt.dts
        if pkt.dts is not None:
            if self.prev_dts is not None and pkt.dts > self.prev_dts:
                self.step = pkt.dts - self.prev_dts
            self.prev_dts = pkt.dts
        self.packets += 1
        self.keyframes += bool(pkt.is_keyframe)
        # min/max of pts: with B-frames presentation order differs from file order.
        self.first = ts if self.first is None else min(self.first, ts)
        self.end = max(self.end, ts + (pkt.duration or self.step))


def _scan(container: Any, stream: Any, path: str, size: int) -> _Span:
    import av

    span = _Span()
    try:
        for pkt in container.demux(stream):
            if pkt.size == 0 or (pkt.pts is None and pkt.dts is None):
                continue
            if pkt.pos is not None and pkt.pos >= 0 and pkt.pos + pkt.size > size:
                break  # torn tail: this sample is not wholly on disk
            span.add(pkt)
    except (av.FFmpegError, OSError) as e:
        log.info("segment %s is cut off after %d frames (%s)", path, span.packets, e)
    return span


def probe_segment(path: str) -> ProbeResult | None:
    """The file's contents, or None when it cannot be opened or holds no playable frame.

    "Playable" means at least one video keyframe packet with data: a fragmented MP4 cut off
    by a crash plays up to its last complete fragment, and this counts exactly those packets.
    """
    import av  # only where media is really touched

    try:
        size = os.path.getsize(path)
        container = av.open(path, mode="r")
    except (OSError, av.FFmpegError, ValueError) as e:
        log.debug("probe %s: cannot open: %s", path, e)
        return None
    try:
        if not container.streams.video:
            return None
        vs = container.streams.video[0]
        span = _scan(container, vs, path, size)
        if span.keyframes == 0 or span.first is None or not vs.time_base:
            return None
        duration = max(0.0, float((span.end - span.first) * vs.time_base))
        rate = vs.average_rate or vs.guessed_rate
        fps = round(float(rate)) if rate else 0
        metadata = {str(k): str(v) for k, v in (container.metadata or {}).items()}
        ctx = vs.codec_context
        return ProbeResult(
            path=path, start_time=wall_start(path, metadata, duration), duration=duration,
            size_bytes=size, width=ctx.width or 0, height=ctx.height or 0, fps=fps,
            codec=ctx.name or "", video_packets=span.packets, keyframes=span.keyframes,
            has_audio=bool(container.streams.audio))
    finally:
        container.close()
