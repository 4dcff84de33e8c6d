"""Detection-triggered recording: the pre-event GOP buffer and the event window arithmetic.

`GopBuffer` keeps the last N seconds of a stream in memory as whole GOPs (a clip must start
on a keyframe), holding one pooled-buffer reference per packet; GOPs that age out, a codec
change and `clear()` give their buffers back to the pool. It is bounded twice: by time (only
the GOPs needed to reach N seconds back) and by bytes (a camera with a huge GOP must not eat
the pool the readers need). Used only from the recorder thread.

`EventWindow` turns start/stop/pulse triggers into "record until" wall-clock times with the
post-event buffer and LightNVR's grace period (events closer than it merge into one clip).
"""

from __future__ import annotations

import math
import threading
from collections import deque

from lightnvr.core.stream_config import StreamConfig
from lightnvr.video.detection.detector import wants_motion_detector
from lightnvr.video.detection.objects import wants_object_detector
from lightnvr.video.packet import MediaPacket

# 5 s at ~12 Mbit/s. Slabs held here are outside the handoff queues; past the pool's budget
# the reader falls back to transient heap buffers (a pressure signal, never a failure).
DEFAULT_MAX_BYTES = 8 * 1024 * 1024


def pre_event_seconds(config: StreamConfig) -> float:
    """How much a detection clip keeps from before its trigger (0: no pre-event buffer).

    `pre_detection_buffer` seconds, plus two `detection_interval`s when a detector of ours
    triggers (the built-in motion detector, a model or the detection API). One because it
    looks at one frame per interval, so what it reports may have appeared up to an interval
    earlier, and the clip must still start `pre_detection_buffer` seconds before that. One
    because the buffer is measured back from the recorder's newest packet when the event
    reaches it, not from the frame the detector saw: that frame trails the newest packet by
    the detector's queue and decode, which on a loaded machine is most of another interval
    (loaded test runs saw motion clips start short of their pre-buffer).
    """
    if not config.detection_based_recording:
        return 0.0
    sampled = wants_motion_detector(config) or wants_object_detector(config)
    extra = 2 * config.detection_interval if sampled else 0
    return float(config.pre_detection_buffer + extra)


class GopBuffer:
    """The last `seconds` of packets as whole GOPs (recorder thread only)."""

    def __init__(self, seconds: float, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes
        self._gops: deque[list[MediaPacket]] = deque()
        self._bytes = 0

    def __len__(self) -> int:
        return sum(len(g) for g in self._gops)

    @property
    def bytes(self) -> int:
        return self._bytes

    def add(self, item: MediaPacket) -> bool:
        """Keep `item` (taking over the caller's reference): True if kept, else the caller
        still owns it. Packets before the first keyframe have no GOP to belong to."""
        if self.seconds <= 0:
            return False
        if self._gops and self._gops[-1][0].info is not item.info:
            self.clear()  # new connection: old GOPs cannot be muxed with the new templates
        if item.is_video and item.is_keyframe:
            self._gops.append([item])
        elif self._gops:
            self._gops[-1].append(item)
        else:
            return False
        self._trim(item.wall)
        self._bytes += item.buffer.size
        while self._bytes > self.max_bytes and len(self._gops) > 1:
            self._drop_oldest()
        return True

    def _trim(self, now: float) -> None:
        # Keep the newest GOP that starts at or before now - seconds, and everything after it.
        while len(self._gops) > 1 and self._gops[1][0].wall <= now - self.seconds:
            self._drop_oldest()

    def _drop_oldest(self) -> None:
        for p in self._gops.popleft():
            self._bytes -= p.buffer.size
            p.release()

    def take(self) -> list[MediaPacket]:
        """Everything buffered, oldest first; the caller now owns those references."""
        out = [p for g in self._gops for p in g]
        self._gops.clear()
        self._bytes = 0
        return out

    def clear(self) -> None:
        while self._gops:
            self._drop_oldest()
        self._bytes = 0


class EventWindow:
    """Until when an event keeps a stream recording (thread-safe; wall-clock seconds)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = False
        self._until = -math.inf  # end of the post buffer of the last finished event

    def trigger(self, active: bool, now: float, duration: float | None, post: float,
                grace: float) -> None:
        """start (active, no duration), stop (not active), pulse (active with duration).

        After a stop or a pulse the stream keeps recording for `post` seconds, and at least
        `grace` seconds so that a new event within the grace period continues the same clip.
        """
        tail = max(post, grace)
        with self._lock:
            if not active:
                if self._active:
                    self._active = False
                    self._until = max(self._until, now + tail)
            elif duration is None:
                self._active = True
            else:
                self._until = max(self._until, now + duration + tail)

    def until(self) -> float:
        """Wall time until which the event records (inf while a start is not stopped)."""
        with self._lock:
            return math.inf if self._active else self._until

    def active(self, now: float) -> bool:
        return now < self.until()
