"""Shared helpers of the video tests: an in-memory RecordingsStore, a manager factory.

`wait_until` lives in tests/fixtures/wait.py; it is re-exported here for older imports.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from lightnvr.core.memory.governor import MemoryGovernor
from lightnvr.core.memory.pool import BufferPool
from lightnvr.core.recordings_store import SegmentOpened
from lightnvr.video.stream_manager import StreamManager, VideoSettings
from tests.fixtures.wait import wait_until

__all__ = ["MemoryStore", "Row", "make_manager", "media_seconds", "video_threads", "wait_until"]


@dataclass
class Row:
    segment: SegmentOpened
    end_time: float = 0.0  # set by segment_closed
    size_bytes: int = 0
    is_complete: bool = False


@dataclass
class MemoryStore:
    """RecordingsStore in memory; `calls` records the protocol's order of calls."""

    rows: dict[int, Row] = field(default_factory=dict)
    calls: list[tuple[str, int]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def segment_opened(self, segment: SegmentOpened) -> int:
        with self._lock:
            rid = len(self.calls) + 1
            self.rows[rid] = Row(segment)
            self.calls.append(("opened", rid))
            return rid

    def segment_closed(self, recording_id: int, end_time: float, size_bytes: int) -> None:
        with self._lock:
            row = self.rows[recording_id]
            row.end_time, row.size_bytes, row.is_complete = end_time, size_bytes, True
            self.calls.append(("closed", recording_id))

    def segment_discarded(self, recording_id: int) -> None:
        with self._lock:
            del self.rows[recording_id]
            self.calls.append(("discarded", recording_id))

    def of(self, stream: str) -> list[Row]:
        with self._lock:
            rows = [r for r in self.rows.values() if r.segment.stream_name == stream]
        return sorted(rows, key=lambda r: r.segment.start_time)


def make_manager(tmp: Path, store: MemoryStore | None = None,
                 governor: MemoryGovernor | None = None, **overrides: object
                 ) -> tuple[StreamManager, MemoryStore, BufferPool]:
    store = store or MemoryStore()
    settings = VideoSettings(storage_path=str(tmp / "rec"), hls_path=str(tmp / "hls"),
                             stagger_seconds=0.0, fsync_interval_seconds=2.0)
    for k, v in overrides.items():
        setattr(settings, k, v)
    pool = BufferPool.from_budget(32 * 1024 * 1024)
    return StreamManager(settings, pool, store, governor=governor), store, pool


VIDEO_THREAD_PREFIXES = ("reader:", "recorder:", "live:", "stagger")


def video_threads() -> list[str]:
    return sorted(t.name for t in threading.enumerate()
                  if t.name.startswith(VIDEO_THREAD_PREFIXES))


def media_seconds(path: str) -> float:
    """Seconds of video in `path` measured from its packets (it opens and demuxes)."""
    import av

    with av.open(path) as c:
        s = c.streams.video[0]
        pts = sorted(p.pts for p in c.demux(s) if p.pts is not None)
    step = pts[1] - pts[0] if len(pts) > 1 else 0
    assert s.time_base is not None
    return float((pts[-1] - pts[0] + step) * s.time_base)
