"""Shared helpers of the video tests: the real SQLite recordings store, a manager factory.

`wait_until` lives in tests/fixtures/wait.py; it is re-exported here for older imports.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from lightnvr.core.heartbeat import HeartbeatRegistry
from lightnvr.core.memory.governor import MemoryGovernor
from lightnvr.core.memory.pool import BufferPool
from lightnvr.core.recordings_store import RecordingsStore, SegmentOpened
from lightnvr.database.manager import Database
from lightnvr.database.recordings import Recording, RecordingsRepo
from lightnvr.storage.store import CanonicalPathStore
from lightnvr.video.stream_manager import StreamManager, VideoSettings
from tests.fixtures.wait import wait_until

__all__ = ["SqliteStore", "StoredSegment", "make_manager", "media_seconds", "video_threads",
           "wait_until"]


@dataclass(frozen=True)
class StoredSegment:
    """A recordings row as the video tests read it: file path absolute, end 0.0 while open."""

    id: int
    stream_name: str
    file_path: str
    start_time: float
    end_time: float
    size_bytes: int
    width: int
    height: int
    codec: str
    trigger_type: str
    is_complete: bool

    @classmethod
    def of(cls, rec: Recording, root: str) -> StoredSegment:
        return cls(rec.id, rec.stream_name, os.path.join(root, rec.file_path), rec.start_time,
                   rec.end_time or 0.0, rec.size_bytes, rec.width, rec.height, rec.codec,
                   rec.trigger_type, rec.is_complete)


class SqliteStore:
    """The recordings store the daemon hands its recorders, on a real SQLite file: the
    RecordingsRepo behind the CanonicalPathStore (as lightnvr/app.py wires them). Tests read
    back what the database really holds; `file_path` is made absolute again for opening."""

    def __init__(self, tmp: Path, storage_path: str) -> None:
        self.db = Database(str(tmp / "db" / "lightnvr.db"))
        self.db.open()
        self.repo = RecordingsRepo(self.db)
        self.storage_path = storage_path
        self._store = CanonicalPathStore(self.repo, storage_path)

    def segment_opened(self, segment: SegmentOpened) -> int:
        return self._store.segment_opened(segment)

    def segment_closed(self, recording_id: int, end_time: float, size_bytes: int) -> None:
        self._store.segment_closed(recording_id, end_time, size_bytes)

    def segment_discarded(self, recording_id: int) -> None:
        self._store.segment_discarded(recording_id)

    def all(self) -> list[StoredSegment]:
        """Every row, oldest first."""
        rows = sorted(self.repo.all(), key=lambda r: (r.start_time, r.id))
        return [StoredSegment.of(r, self.storage_path) for r in rows]

    def of(self, stream: str) -> list[StoredSegment]:
        return [r for r in self.all() if r.stream_name == stream]

    def close(self) -> None:
        self.db.close()


def make_manager(tmp: Path, store: RecordingsStore | None = None,
                 governor: MemoryGovernor | None = None,
                 heartbeats: HeartbeatRegistry | None = None, **overrides: object
                 ) -> tuple[StreamManager, SqliteStore, BufferPool]:
    """A StreamManager recording under `tmp` into a real SQLite store (`store` replaces the
    store the recorders are handed, e.g. one that stalls; the returned SqliteStore is then
    still a fresh, unused one); `overrides` are VideoSettings fields."""
    sqlite_store = SqliteStore(tmp, str(tmp / "rec"))
    settings = VideoSettings(storage_path=str(tmp / "rec"), hls_path=str(tmp / "hls"),
                             stagger_seconds=0.0, fsync_interval_seconds=2.0)
    for k, v in overrides.items():
        setattr(settings, k, v)
    pool = BufferPool.from_budget(32 * 1024 * 1024)
    return (StreamManager(settings, pool, store or sqlite_store, governor=governor,
                          heartbeats=heartbeats), sqlite_store, pool)


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
