"""System event rows (``events``): stream up/down, recording errors, storage actions, ..."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from lightnvr.database.manager import Database

MAX_EVENTS_PAGE = 1000


class EventType(IntEnum):
    """The ``events.type`` codes (the C project's event categories)."""

    INFO = 0
    STREAM_STARTED = 1
    STREAM_STOPPED = 2
    STREAM_ERROR = 3
    RECORDING_STARTED = 4
    RECORDING_STOPPED = 5
    DETECTION = 6
    STORAGE = 7
    SYSTEM = 8
    AUTH = 9


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    type: int
    timestamp: float
    stream_name: str
    description: str
    details: str

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "type": self.type, "timestamp": self.timestamp,
                "stream": self.stream_name, "description": self.description,
                "details": self.details}


def _event(r: sqlite3.Row) -> Event:
    return Event(r["id"], r["type"], r["timestamp"], r["stream_name"], r["description"],
                 r["details"])


class EventsRepo:
    """Append-only log of notable events, pruned by age."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, type: int, timestamp: float, description: str, stream_name: str = "",
            details: str = "") -> int:
        with self._db.writer() as c:
            cur = c.execute("INSERT INTO events(type, timestamp, stream_name, description, "
                            "details) VALUES (?, ?, ?, ?, ?)",
                            (int(type), timestamp, stream_name, description, details))
            return int(cur.lastrowid or 0)

    def list(self, start: float | None = None, end: float | None = None,
             stream: str | None = None, type: int | None = None,
             limit: int = 100) -> list[Event]:
        """Newest first."""
        clauses: list[str] = ["1"]
        args: list[Any] = []
        for cond, value in (("timestamp >= ?", start), ("timestamp <= ?", end),
                            ("stream_name = ?", stream), ("type = ?", type)):
            if value is not None:
                clauses.append(cond)
                args.append(value)
        args.append(max(1, min(limit, MAX_EVENTS_PAGE)))
        with self._db.reader() as c:
            rows = c.execute(f"SELECT * FROM events WHERE {' AND '.join(clauses)} "
                             "ORDER BY timestamp DESC, id DESC LIMIT ?", args).fetchall()
        return [_event(r) for r in rows]

    def prune(self, older_than: float) -> int:
        """Remove events before ``older_than``; returns how many."""
        with self._db.writer() as c:
            return c.execute("DELETE FROM events WHERE timestamp < ?", (older_than,)).rowcount
