"""Probe a segment file with PyAV: is it playable, and its times, size and stream parameters.

The one probe of the project: reconciliation, ``lightnvr check``, tools/rebuild_recordings.py
and the recorder's crash recovery all use ``probe_segment``. It demuxes (no decoding), so a
15-minute segment costs one sequential read.
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass
from datetime import datetime

log = logging.getLogger(__name__)

_NAME_TIME = re.compile(r"(\d{8})[_-]?(\d{6})")


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What a segment file holds. ``start_time`` is wall-clock epoch seconds."""

    path: str
    start_time: float
    duration: float
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


def wall_start(path: str, metadata: dict[str, str], duration: float) -> float:
    """Metadata ``creation_time``, else a YYYYMMDD_HHMMSS in the name (local), else mtime-dur."""
    created = metadata.get("creation_time")
    if created:
        try:
            return datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    m = _NAME_TIME.search(os.path.basename(path))
    if m:
        try:
            return time.mktime(time.strptime(m.group(1) + m.group(2), "%Y%m%d%H%M%S"))
        except ValueError:
            pass
    return os.path.getmtime(path) - duration


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
        tb = float(vs.time_base) if vs.time_base else 0.0
        first: int | None = None
        last_end = 0
        packets = keyframes = 0
        try:
            for pkt in container.demux(vs):
                if pkt.size == 0 or pkt.pts is None:
                    continue
                if pkt.pos is not None and pkt.pos >= 0 and pkt.pos + pkt.size > size:
                    break  # torn tail: this sample is not wholly on disk
                packets += 1
                keyframes += bool(pkt.is_keyframe)
                first = pkt.pts if first is None else min(first, pkt.pts)
                last_end = max(last_end, pkt.pts + (pkt.duration or 0))
        except (av.FFmpegError, OSError) as e:
            log.debug("probe %s: demux stopped early: %s", path, e)  # truncated tail: fine
        if keyframes == 0 or first is None:
            return None
        duration = max(0.0, (last_end - first) * tb)
        rate = vs.average_rate or vs.guessed_rate
        fps = round(float(rate)) if rate else 0
        metadata = {str(k): str(v) for k, v in (container.metadata or {}).items()}
        return ProbeResult(
            path=path, start_time=wall_start(path, metadata, duration), duration=duration,
            size_bytes=size, width=vs.codec_context.width or 0,
            height=vs.codec_context.height or 0, fps=fps, codec=vs.codec_context.name or "",
            video_packets=packets, keyframes=keyframes,
            has_audio=bool(container.streams.audio))
    finally:
        container.close()
