"""Detection results: what detectors and external triggers saw, per stream and time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lightnvr.database.manager import Database

_COLUMNS = ("id, stream_name, timestamp, label, confidence, x, y, width, height, recording_id,"
            " zone_id")


@dataclass(frozen=True, slots=True)
class Detection:
    """One stored detection (box coordinates normalized 0..1)."""

    id: int
    stream_name: str
    timestamp: float
    label: str
    confidence: float
    x: float
    y: float
    width: float
    height: float
    recording_id: int | None
    zone_id: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "stream_name": self.stream_name, "timestamp": self.timestamp,
            "label": self.label, "confidence": self.confidence, "x": self.x, "y": self.y,
            "width": self.width, "height": self.height, "recording_id": self.recording_id,
            "zone_id": self.zone_id,
        }


@dataclass(frozen=True, slots=True)
class NewDetection:
    """A detection to store."""

    stream_name: str
    timestamp: float
    label: str
    confidence: float = 1.0
    x: float = 0.0
    y: float = 0.0
    width: float = 1.0
    height: float = 1.0
    recording_id: int | None = None
    zone_id: str | None = None


def _row(r: Sequence[Any]) -> Detection:
    return Detection(int(r[0]), str(r[1]), float(r[2]), str(r[3]), float(r[4]), float(r[5]),
                     float(r[6]), float(r[7]), float(r[8]),
                     None if r[9] is None else int(r[9]), None if r[10] is None else str(r[10]))


class DetectionsRepo:
    """Rows of `detections` (indexed by stream and time)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add_many(self, detections: Sequence[NewDetection]) -> int:
        """Store `detections` in one transaction; returns how many were stored."""
        if not detections:
            return 0
        with self._db.writer() as conn:
            conn.executemany(
                "INSERT INTO detections (stream_name, timestamp, label, confidence, x, y, width,"
                " height, recording_id, zone_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(d.stream_name, d.timestamp, d.label, d.confidence, d.x, d.y, d.width,
                  d.height, d.recording_id, d.zone_id) for d in detections])
        return len(detections)

    def in_range(self, stream_name: str, start: float, end: float,
                 limit: int = 1000) -> list[Detection]:
        """Detections of `stream_name` with start <= timestamp <= end, newest first."""
        with self._db.reader() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM detections WHERE stream_name = ? AND timestamp >= ?"
                " AND timestamp <= ? ORDER BY timestamp DESC, id DESC LIMIT ?",
                (stream_name, start, end, max(0, limit))).fetchall()
        return [_row(r) for r in rows]

    def timestamps(self, stream_name: str, start: float, end: float) -> list[float]:
        """Ascending timestamps of the stream's detections in [start, end] (timeline marks)."""
        with self._db.reader() as conn:
            rows = conn.execute(
                "SELECT timestamp FROM detections WHERE stream_name = ? AND timestamp >= ?"
                " AND timestamp <= ? ORDER BY timestamp", (stream_name, start, end)).fetchall()
        return [float(r[0]) for r in rows]

    def labels_summary(self, stream_name: str, start: float,
                       end: float) -> list[tuple[str, int]]:
        """(label, count) of the stream's detections in [start, end], most frequent first."""
        with self._db.reader() as conn:
            rows = conn.execute(
                "SELECT label, COUNT(*) AS n FROM detections WHERE stream_name = ?"
                " AND timestamp >= ? AND timestamp <= ? GROUP BY label ORDER BY n DESC, label",
                (stream_name, start, end)).fetchall()
        return [(str(r[0]), int(r[1])) for r in rows]

    def labels(self, streams: Sequence[str] | None = None) -> list[str]:
        """Every label detections carry, sorted; with `streams`, only those streams' labels."""
        with self._db.reader() as conn:
            if streams is None:
                rows = conn.execute(
                    "SELECT DISTINCT label FROM detections ORDER BY label").fetchall()
            else:
                marks = ",".join("?" * len(streams))
                rows = conn.execute(
                    f"SELECT DISTINCT label FROM detections WHERE stream_name IN ({marks})"
                    " ORDER BY label", tuple(streams)).fetchall()
        return [str(r[0]) for r in rows]

    def prune_unattached(self, stream: str, before: float) -> int:
        """Remove `stream`'s detections older than `before` whose recording is gone.

        Detections still attached to a recording (e.g. a protected one) stay with it; the
        foreign key sets `recording_id` to NULL when a recording row is removed.
        """
        with self._db.writer() as conn:
            cur = conn.execute("DELETE FROM detections WHERE stream_name = ? AND timestamp < ? "
                               "AND recording_id IS NULL", (stream, before))
            return int(cur.rowcount)

    def stream_names(self) -> list[str]:
        with self._db.reader() as conn:
            return [str(r[0]) for r in
                    conn.execute("SELECT DISTINCT stream_name FROM detections ORDER BY 1")]

    def prune_before(self, timestamp: float) -> int:
        with self._db.writer() as conn:
            cur = conn.execute("DELETE FROM detections WHERE timestamp < ?", (timestamp,))
            return int(cur.rowcount)
