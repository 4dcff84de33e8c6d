"""System event rows (``events``): stream up/down, recording errors, storage actions, ..."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import orjson

from lightnvr.core.nvr_events import EventKind, NvrEvent
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
    AUDIT = 10  # (ours) security audit trail: logins, accounts, credentials, settings


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


# The events-table type of each NVR event (core/nvr_events.py); docs/mqtt.md lists them.
NVR_EVENT_TYPES: dict[EventKind, EventType] = {
    EventKind.DETECTION: EventType.DETECTION,
    EventKind.DETECTION_END: EventType.DETECTION,
    EventKind.RECORDING_STARTED: EventType.RECORDING_STARTED,
    EventKind.RECORDING_STOPPED: EventType.RECORDING_STOPPED,
    EventKind.STREAM_ONLINE: EventType.STREAM_STARTED,
    EventKind.STREAM_OFFLINE: EventType.STREAM_STOPPED,
    EventKind.STREAM_ADDED: EventType.INFO,
    EventKind.STREAM_REMOVED: EventType.INFO,
    EventKind.STORAGE_PRESSURE: EventType.STORAGE,
}


# History kept per NVR event type (INFO rows are rare and shared): the newest ones, trimmed
# every NVR_TRIM_EVERY records. Audit rows (other types) are never touched here.
NVR_EVENTS_KEPT_PER_TYPE = 20_000
NVR_TRIM_EVERY = 500


def describe_nvr_event(event: NvrEvent) -> str:
    """One line for the events table's description column."""
    k, s = event.kind, event.stream
    if k is EventKind.DETECTION:
        labels = ", ".join(f"{o.label} {o.confidence:.0%}" for o in event.objects) or "motion"
        return f"detection on {s}: {labels}"
    text = {EventKind.DETECTION_END: f"detection on {s} ended",
            EventKind.RECORDING_STARTED: f"recording of {s} started",
            EventKind.RECORDING_STOPPED: f"recording of {s} stopped",
            EventKind.STREAM_ONLINE: f"stream {s} online",
            EventKind.STREAM_OFFLINE: f"stream {s} offline",
            EventKind.STREAM_ADDED: f"stream {s} added",
            EventKind.STREAM_REMOVED: f"stream {s} removed",
            EventKind.STORAGE_PRESSURE: f"storage pressure {event.detail}"}[k]
    if event.detail and k is not EventKind.STORAGE_PRESSURE:
        text += f" ({event.detail})"
    return text


def _event(r: sqlite3.Row) -> Event:
    return Event(r["id"], r["type"], r["timestamp"], r["stream_name"], r["description"],
                 r["details"])


class EventsRepo:
    """Append-only log of notable events, pruned by age."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._recorded = 0  # record() calls, to trim the NVR event types now and then

    def add(self, type: int, timestamp: float, description: str, stream_name: str = "",
            details: str = "") -> int:
        with self._db.writer() as c:
            cur = c.execute("INSERT INTO events(type, timestamp, stream_name, description, "
                            "details) VALUES (?, ?, ?, ?, ?)",
                            (int(type), timestamp, stream_name, description, details))
            return int(cur.lastrowid or 0)

    def page(self, type: int, before_id: int | None = None, limit: int = 100) -> list[Event]:
        """Events of one type, newest (highest id) first, only ids below `before_id` if given.

        Paging by id, not time: ids only grow, so a page boundary never repeats or skips a row
        even when two events share a timestamp or the wall clock stepped back.
        """
        args: list[Any] = [int(type)]
        where = "type = ?"
        if before_id is not None:
            where += " AND id < ?"
            args.append(before_id)
        args.append(max(1, min(limit, MAX_EVENTS_PAGE)))
        with self._db.reader() as c:
            rows = c.execute(f"SELECT * FROM events WHERE {where} ORDER BY id DESC LIMIT ?",
                             args).fetchall()
        return [_event(r) for r in rows]

    def trim(self, type: int, keep: int) -> int:
        """Keep only the newest `keep` events of one type; returns how many were removed."""
        with self._db.writer() as c:
            row = c.execute("SELECT id FROM events WHERE type = ? ORDER BY id DESC "
                            "LIMIT 1 OFFSET ?", (int(type), max(0, keep))).fetchone()
            if row is None:
                return 0
            return c.execute("DELETE FROM events WHERE type = ? AND id <= ?",
                             (int(type), row["id"])).rowcount

    def record(self, event: NvrEvent) -> int:
        """Store an NVR event (the EventHub sink): type, description, and JSON details with
        the event kind and its objects."""
        details = orjson.dumps({"kind": event.kind.value, "detail": event.detail,
                                "objects": [{"label": o.label, "confidence": o.confidence,
                                             "x": o.x, "y": o.y, "width": o.width,
                                             "height": o.height, "zone_id": o.zone_id}
                                            for o in event.objects],
                                **({"snapshot_url": event.snapshot} if event.snapshot
                                   else {})}).decode()
        row = self.add(NVR_EVENT_TYPES[event.kind], event.timestamp,
                       describe_nvr_event(event), event.stream, details)
        self._recorded += 1
        if self._recorded % NVR_TRIM_EVERY == 0:  # a busy camera must not grow it forever
            for t in sorted(set(NVR_EVENT_TYPES.values()) - {EventType.INFO}):
                self.trim(t, NVR_EVENTS_KEPT_PER_TYPE)
        return row

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
