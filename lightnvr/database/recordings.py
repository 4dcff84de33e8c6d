"""Recording metadata rows; ``RecordingsRepo`` is also the RecordingsStore recorders write through.

The row protocol (insert incomplete, complete after fsync, mark-then-remove on deletion) is
docs/storage.md "Recording a segment" and "Deleting a recording"; this module only stores rows.
Every statement is parameterized; sort columns come from ``SORT_COLUMNS`` only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from lightnvr.core.recordings_store import SegmentOpened, TriggerType
from lightnvr.database.manager import Database

# API sort name -> SQL expression. Only these strings ever reach an ORDER BY.
_SORT_SQL: dict[str, str] = {
    "id": "r.id",
    "start_time": "r.start_time",
    "end_time": "r.end_time",
    "duration": "(COALESCE(r.end_time, r.start_time) - r.start_time)",
    "size_bytes": "r.size_bytes",
    "size": "r.size_bytes",
    "stream_name": "r.stream_name",
    "stream": "r.stream_name",
    "trigger_type": "r.trigger_type",
    "protected": "r.protected",
}
SORT_COLUMNS: tuple[str, ...] = tuple(_SORT_SQL)
MAX_PAGE_SIZE = 1000
_COLUMNS = ("id, stream_name, file_path, start_time, end_time, size_bytes, width, height, fps, "
            "codec, is_complete, trigger_type, protected, retention_override_days, deleting")


def _human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"  # pragma: no cover


@dataclass(slots=True)
class Recording:
    """One row of ``recordings``."""

    id: int
    stream_name: str
    file_path: str
    start_time: float
    end_time: float | None
    size_bytes: int
    width: int
    height: int
    fps: int
    codec: str
    is_complete: bool
    trigger_type: TriggerType
    protected: bool
    retention_override_days: int | None
    deleting: bool

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Recording:
        return cls(
            id=row["id"], stream_name=row["stream_name"], file_path=row["file_path"],
            start_time=row["start_time"], end_time=row["end_time"],
            size_bytes=row["size_bytes"], width=row["width"], height=row["height"],
            fps=row["fps"], codec=row["codec"], is_complete=bool(row["is_complete"]),
            trigger_type=cast(TriggerType, row["trigger_type"]),
            protected=bool(row["protected"]),
            retention_override_days=row["retention_override_days"],
            deleting=bool(row["deleting"]),
        )

    @property
    def duration(self) -> float:
        return max(0.0, (self.end_time or self.start_time) - self.start_time)

    def to_dict(self) -> dict[str, object]:
        """LightNVR API shape: times as epoch seconds, ``stream`` as well as ``stream_name``."""
        return {
            "id": self.id, "stream": self.stream_name, "stream_name": self.stream_name,
            "file_path": self.file_path, "start_time": self.start_time,
            "end_time": self.end_time, "duration": round(self.duration, 3),
            "size_bytes": self.size_bytes, "size": _human_size(self.size_bytes),
            "width": self.width, "height": self.height, "fps": self.fps, "codec": self.codec,
            "is_complete": self.is_complete, "trigger_type": self.trigger_type,
            "protected": self.protected,
            "retention_override_days": self.retention_override_days,
        }


@dataclass(slots=True)
class RecordingQuery:
    """Filters and paging of ``GET /api/recordings``; validate() before use."""

    stream: str | None = None
    start: float | None = None
    end: float | None = None
    page: int = 1
    limit: int = 20
    sort: str = "start_time"
    order: str = "desc"
    protected: bool | None = None
    trigger_type: str | None = None
    tag: str | None = None
    has_detection: bool | None = None
    detection_label: str | None = None
    include_incomplete: bool = False
    streams: tuple[str, ...] | None = None  # only these streams (a user's camera tags)

    def validate(self) -> RecordingQuery:
        """Self, or ValueError naming the bad field and what is allowed."""
        if self.sort not in _SORT_SQL:
            raise ValueError(f"sort: must be one of {', '.join(SORT_COLUMNS)}")
        if self.order.lower() not in ("asc", "desc"):
            raise ValueError("order: must be 'asc' or 'desc'")
        if self.page < 1:
            raise ValueError("page: must be >= 1")
        if not 1 <= self.limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit: must be 1..{MAX_PAGE_SIZE}")
        if self.trigger_type is not None and self.trigger_type not in (
                "scheduled", "detection", "manual"):
            raise ValueError("trigger_type: must be scheduled, detection or manual")
        return self


_HAS_DETECTION = (
    "(r.trigger_type = 'detection' OR EXISTS (SELECT 1 FROM detections d WHERE "
    "d.recording_id = r.id OR (d.stream_name = r.stream_name AND d.timestamp >= r.start_time "
    "AND d.timestamp <= COALESCE(r.end_time, r.start_time))))")
_HAS_LABEL = (
    "EXISTS (SELECT 1 FROM detections d WHERE d.label = ? AND (d.recording_id = r.id OR "
    "(d.stream_name = r.stream_name AND d.timestamp >= r.start_time "
    "AND d.timestamp <= COALESCE(r.end_time, r.start_time))))")


def _where(q: RecordingQuery) -> tuple[str, list[Any]]:
    clauses = ["r.deleting = 0"]
    args: list[Any] = []
    if not q.include_incomplete:
        clauses.append("r.is_complete = 1")
    if q.stream is not None:
        clauses.append("r.stream_name = ?")
        args.append(q.stream)
    if q.streams is not None:
        clauses.append(f"r.stream_name IN ({', '.join('?' * len(q.streams))})"
                       if q.streams else "0")
        args.extend(q.streams)
    if q.start is not None:  # overlap, not containment: a segment spanning `start` counts
        clauses.append("COALESCE(r.end_time, r.start_time) >= ?")
        args.append(q.start)
    if q.end is not None:
        clauses.append("r.start_time <= ?")
        args.append(q.end)
    if q.protected is not None:
        clauses.append("r.protected = ?")
        args.append(int(q.protected))
    if q.trigger_type is not None:
        clauses.append("r.trigger_type = ?")
        args.append(q.trigger_type)
    if q.tag is not None:
        clauses.append("EXISTS (SELECT 1 FROM recording_tags t WHERE t.recording_id = r.id "
                       "AND t.tag = ?)")
        args.append(q.tag)
    if q.has_detection is not None:
        clauses.append(_HAS_DETECTION if q.has_detection else f"NOT {_HAS_DETECTION}")
    if q.detection_label is not None:
        clauses.append(_HAS_LABEL)
        args.append(q.detection_label)
    return " AND ".join(clauses), args


class RecordingsRepo:
    """Rows of ``recordings`` and ``recording_tags``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- RecordingsStore (docs/storage.md, "Recording a segment") ------------------------------

    def segment_opened(self, segment: SegmentOpened) -> int:
        """Insert the row with is_complete=0 and return its id.

        A row left on the same path (a crash, or reconciliation registering the file a moment
        before) is taken over instead of failing the recorder.
        """
        with self._db.writer() as c:
            row = c.execute(
                "INSERT INTO recordings(stream_name, file_path, start_time, width, height, fps,"
                " codec, trigger_type, is_complete) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0) "
                "ON CONFLICT(file_path) DO UPDATE SET stream_name = excluded.stream_name,"
                " start_time = excluded.start_time, end_time = NULL, size_bytes = 0,"
                " width = excluded.width, height = excluded.height, fps = excluded.fps,"
                " codec = excluded.codec, trigger_type = excluded.trigger_type,"
                " is_complete = 0, deleting = 0 RETURNING id",
                (segment.stream_name, segment.file_path, segment.start_time, segment.width,
                 segment.height, segment.fps, segment.codec, segment.trigger_type),
            ).fetchone()
        return int(row[0])

    def segment_closed(self, recording_id: int, end_time: float, size_bytes: int) -> None:
        self.repair(recording_id, end_time, size_bytes)

    def segment_discarded(self, recording_id: int) -> None:
        self.remove(recording_id)

    # -- queries ---------------------------------------------------------------------------------

    def _select(self, where: str, args: Sequence[Any], tail: str = "") -> list[Recording]:
        with self._db.reader() as c:
            rows = c.execute(f"SELECT {_COLUMNS} FROM recordings r WHERE {where} {tail}",
                             tuple(args)).fetchall()
        return [Recording.from_row(r) for r in rows]

    def get(self, recording_id: int) -> Recording | None:
        found = self._select("r.id = ?", (recording_id,))
        return found[0] if found else None

    def get_by_path(self, file_path: str) -> Recording | None:
        found = self._select("r.file_path = ?", (file_path,))
        return found[0] if found else None

    def query(self, q: RecordingQuery) -> tuple[list[Recording], int]:
        """(one page, total matching) — both from the same snapshot. ValueError on bad input."""
        q.validate()
        where, args = _where(q)
        order = "ASC" if q.order.lower() == "asc" else "DESC"
        tail = f"ORDER BY {_SORT_SQL[q.sort]} {order}, r.id {order} LIMIT ? OFFSET ?"
        with self._db.reader() as c:
            total = c.execute(f"SELECT COUNT(*) FROM recordings r WHERE {where}",
                              tuple(args)).fetchone()[0]
            rows = c.execute(f"SELECT {_COLUMNS} FROM recordings r WHERE {where} {tail}",
                             (*args, q.limit, (q.page - 1) * q.limit)).fetchall()
        return [Recording.from_row(r) for r in rows], int(total)

    def in_range(self, stream: str, start: float, end: float) -> list[Recording]:
        """Rows of ``stream`` overlapping [start, end] (in-progress ones too), by start time."""
        return self._select(
            "r.stream_name = ? AND r.deleting = 0 AND r.start_time <= ? "
            "AND COALESCE(r.end_time, r.start_time) >= ?", (stream, end, start),
            "ORDER BY r.start_time, r.id")

    def incomplete(self) -> list[Recording]:
        return self._select("r.is_complete = 0 AND r.deleting = 0", (), "ORDER BY r.id")

    def all(self) -> list[Recording]:
        """Every row (reconciliation, check)."""
        return self._select("1", (), "ORDER BY r.id")

    def all_paths(self) -> set[str]:
        with self._db.reader() as c:
            return {r[0] for r in c.execute("SELECT file_path FROM recordings")}

    def total_size(self, stream: str | None = None) -> int:
        with self._db.reader() as c:
            if stream is None:
                row = c.execute("SELECT COALESCE(SUM(size_bytes), 0) FROM recordings").fetchone()
            else:
                row = c.execute("SELECT COALESCE(SUM(size_bytes), 0) FROM recordings "
                                "WHERE stream_name = ?", (stream,)).fetchone()
        return int(row[0])

    def count(self, stream: str | None = None) -> int:
        with self._db.reader() as c:
            if stream is None:
                return int(c.execute("SELECT COUNT(*) FROM recordings").fetchone()[0])
            return int(c.execute("SELECT COUNT(*) FROM recordings WHERE stream_name = ?",
                                 (stream,)).fetchone()[0])

    def stream_names(self) -> list[str]:
        """Every stream that has rows (including streams no longer configured)."""
        with self._db.reader() as c:
            return [r[0] for r in c.execute(
                "SELECT DISTINCT stream_name FROM recordings ORDER BY stream_name")]

    def removable(self, stream: str | None = None, triggers: Sequence[str] | None = None,
                  started_before: float | None = None, overridden: bool | None = False,
                  limit: int = 500) -> list[Recording]:
        """Complete, unprotected, not-deleting rows, oldest first: what retention may remove.

        ``overridden``: False = rows without a per-recording override, True = only rows with
        one, None = both (the retention policy decides what an override means).
        """
        clauses = ["r.is_complete = 1", "r.protected = 0", "r.deleting = 0"]
        args: list[Any] = []
        if overridden is not None:
            clauses.append("r.retention_override_days IS " + ("NOT NULL" if overridden
                                                              else "NULL"))
        if stream is not None:
            clauses.append("r.stream_name = ?")
            args.append(stream)
        if triggers:
            clauses.append(f"r.trigger_type IN ({', '.join('?' * len(triggers))})")
            args.extend(triggers)
        if started_before is not None:
            clauses.append("r.start_time < ?")
            args.append(started_before)
        args.append(limit)
        return self._select(" AND ".join(clauses), args,
                            "ORDER BY r.start_time, r.id LIMIT ?")

    def protected_ids(self, ids: Sequence[int]) -> set[int]:
        """Which of ``ids`` are protected rows: what a batch delete must skip unless an admin
        asks for protected ones explicitly (issue #10 item 13)."""
        found: set[int] = set()
        for i in range(0, len(ids), 500):  # below SQLite's bound-parameter limit
            part = [int(x) for x in ids[i:i + 500]]
            with self._db.reader() as c:
                found.update(r[0] for r in c.execute(
                    f"SELECT id FROM recordings WHERE protected = 1 "
                    f"AND id IN ({', '.join('?' * len(part))})", part))
        return found

    # -- changes ---------------------------------------------------------------------------------

    def set_protected(self, ids: Sequence[int], protected: bool) -> int:
        """Set ``protected`` on the given rows; returns how many exist."""
        if not ids:
            return 0
        with self._db.writer() as c:
            cur = c.executemany("UPDATE recordings SET protected = ? WHERE id = ?",
                                [(int(protected), int(i)) for i in ids])
            return cur.rowcount

    def set_retention_override(self, recording_id: int, days: int | None) -> bool:
        """Keep this recording ``days`` from its start (0 = forever, None = clear)."""
        if days is not None and days < 0:
            raise ValueError("retention_override_days: must be >= 0 (0 = keep forever) or null")
        with self._db.writer() as c:
            cur = c.execute("UPDATE recordings SET retention_override_days = ? WHERE id = ?",
                            (days, recording_id))
            return cur.rowcount > 0

    def register(self, segment: SegmentOpened, end_time: float, size_bytes: int) -> int:
        """Insert a complete row for an existing file (reconciliation); returns its id."""
        with self._db.writer() as c:
            row = c.execute(
                "INSERT INTO recordings(stream_name, file_path, start_time, end_time, "
                "size_bytes, width, height, fps, codec, trigger_type, is_complete) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1) "
                "ON CONFLICT(file_path) DO UPDATE SET end_time = excluded.end_time, "
                "size_bytes = excluded.size_bytes, is_complete = 1 RETURNING id",
                (segment.stream_name, segment.file_path, segment.start_time, end_time,
                 size_bytes, segment.width, segment.height, segment.fps, segment.codec,
                 segment.trigger_type),
            ).fetchone()
        return int(row[0])

    def repair(self, recording_id: int, end_time: float, size_bytes: int) -> None:
        """Complete a row: end time, size, is_complete=1."""
        with self._db.writer() as c:
            c.execute("UPDATE recordings SET end_time = ?, size_bytes = ?, is_complete = 1 "
                      "WHERE id = ?", (end_time, size_bytes, recording_id))

    def update_media(self, recording_id: int, width: int, height: int, fps: int,
                     codec: str) -> None:
        """Fill stream parameters learned by probing the file."""
        with self._db.writer() as c:
            c.execute("UPDATE recordings SET width = ?, height = ?, fps = ?, codec = ? "
                      "WHERE id = ?", (width, height, fps, codec, recording_id))

    def set_file_path(self, recording_id: int, file_path: str) -> int:
        """Point the row at ``file_path`` (its canonical form; docs/storage.md, Start-up
        reconciliation step 0) and return the id that now holds it.

        When another row already holds ``file_path`` both describe one file: they are merged
        into the older row (lower id), which keeps protection if either had it, its own
        retention override (else the other's), the union of the tags and every detection
        link, so repairing paths never loses what a user decided.
        """
        with self._db.writer() as c:
            other = c.execute("SELECT id FROM recordings WHERE file_path = ? AND id != ?",
                              (file_path, recording_id)).fetchone()
            if other is None:
                c.execute("UPDATE recordings SET file_path = ? WHERE id = ?",
                          (file_path, recording_id))
                return recording_id
            keep, drop = sorted((recording_id, int(other[0])))
            c.execute(
                "UPDATE recordings SET protected = MAX(protected, (SELECT protected FROM "
                "recordings WHERE id = ?)), retention_override_days = COALESCE("
                "retention_override_days, (SELECT retention_override_days FROM recordings "
                "WHERE id = ?)) WHERE id = ?", (drop, drop, keep))
            c.execute("INSERT OR IGNORE INTO recording_tags(recording_id, tag) "
                      "SELECT ?, tag FROM recording_tags WHERE recording_id = ?", (keep, drop))
            c.execute("UPDATE detections SET recording_id = ? WHERE recording_id = ?",
                      (keep, drop))
            c.execute("DELETE FROM recordings WHERE id = ?", (drop,))
            c.execute("UPDATE recordings SET file_path = ? WHERE id = ?", (file_path, keep))
            return keep

    def mark_deleting(self, recording_id: int) -> bool:
        """docs/storage.md, Deletion step 1. False when the row does not exist or another
        deletion already marked it (so exactly one deleter goes on)."""
        with self._db.writer() as c:
            cur = c.execute("UPDATE recordings SET deleting = 1 WHERE id = ? AND deleting = 0",
                            (recording_id,))
            return cur.rowcount > 0

    def remove(self, recording_id: int) -> None:
        """Delete the row (tags cascade, detections keep their data with recording_id NULL)."""
        with self._db.writer() as c:
            c.execute("DELETE FROM recordings WHERE id = ?", (recording_id,))

    def pending_deletions(self) -> list[Recording]:
        return self._select("r.deleting = 1", (), "ORDER BY r.id")

    # -- tags --------------------------------------------------------------------------------------

    def tags(self, recording_id: int) -> list[str]:
        with self._db.reader() as c:
            return [r[0] for r in c.execute(
                "SELECT tag FROM recording_tags WHERE recording_id = ? ORDER BY tag",
                (recording_id,))]

    def set_tags(self, recording_id: int, tags: Sequence[str]) -> None:
        """Replace the recording's tags (blank ones dropped, duplicates merged)."""
        clean = sorted({t.strip() for t in tags if t.strip()})
        with self._db.writer() as c:
            c.execute("DELETE FROM recording_tags WHERE recording_id = ?", (recording_id,))
            c.executemany("INSERT INTO recording_tags(recording_id, tag) VALUES (?, ?)",
                          [(recording_id, t) for t in clean])

    def all_tags(self, streams: Sequence[str] | None = None) -> list[str]:
        """Every tag in use, sorted; with `streams`, only tags of those streams' recordings."""
        with self._db.reader() as c:
            if streams is None:
                return [r[0] for r in c.execute(
                    "SELECT DISTINCT tag FROM recording_tags ORDER BY tag")]
            marks = ",".join("?" * len(streams))
            return [r[0] for r in c.execute(
                "SELECT DISTINCT t.tag FROM recording_tags t JOIN recordings r"
                f" ON r.id = t.recording_id WHERE r.stream_name IN ({marks}) ORDER BY t.tag",
                tuple(streams))]
