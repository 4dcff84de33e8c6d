"""Detections of the built-in detector: stored from its events, linked to the clips that hold them.

A detector runs in the video subsystem, which knows nothing of the database: its events reach
the event hub (core/nvr_events.py), and the daemon (app.py) hands them to `store()` on the
hub thread. The clip a detection starts is opened by the recorder a moment later (its row
appears at the recorder's next packet), so a detection cannot always name its recording when
it is stored; `link_recent()`, run by the hub once a second, gives every recent detection
without a recording the recording of its stream that covers its time (open or finished).
External triggers' rows (POST /api/motion/trigger) are linked the same way.
"""

from __future__ import annotations

from collections.abc import Iterable

from lightnvr.core.nvr_events import NvrEvent
from lightnvr.database.detections import DetectionsRepo, NewDetection
from lightnvr.database.manager import Database

LINK_WINDOW_SECONDS = 900.0  # a recording row is there long before this (segments close)

_COVERING = (
    "SELECT r.id FROM recordings r WHERE r.stream_name = d.stream_name"
    " AND r.deleting = 0 AND r.start_time <= d.timestamp"
    " AND (r.end_time IS NULL OR r.end_time >= d.timestamp)"
    " ORDER BY r.start_time DESC LIMIT 1"
)
_UNLINKED = "d.stream_name = ? AND d.timestamp >= ? AND d.recording_id IS NULL"
# Read first: the hub asks every second, and a write transaction would make recorders wait.
_LINKABLE = f"SELECT 1 FROM detections d WHERE {_UNLINKED} AND EXISTS ({_COVERING}) LIMIT 1"
_LINK = (f"UPDATE detections AS d SET recording_id = ({_COVERING})"
         f" WHERE {_UNLINKED} AND EXISTS ({_COVERING})")


class DetectionLinks:
    """See the module doc."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._repo = DetectionsRepo(db)

    def store(self, event: NvrEvent) -> int:
        """Store the objects of a detector's event as detection rows; how many were stored."""
        rows = [NewDetection(event.stream, event.timestamp, o.label, o.confidence, o.x, o.y,
                             o.width, o.height, zone_id=o.zone_id or None)
                for o in event.objects]
        n = self._repo.add_many(rows)
        if n:
            self.link_recent([event.stream], event.timestamp - 1.0)
        return n

    def link_recent(self, streams: Iterable[str], since: float) -> int:
        """Give detections of `streams` newer than `since` without a recording the recording
        that covers their time; returns how many rows changed (some may stay unlinked)."""
        with self._db.reader() as conn:
            todo = [n for n in streams
                    if conn.execute(_LINKABLE, (n, since)).fetchone() is not None]
        changed = 0
        if todo:
            with self._db.writer() as conn:
                for name in todo:
                    changed += int(conn.execute(_LINK, (name, since)).rowcount)
        return changed
