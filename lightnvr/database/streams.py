"""Stream configuration rows: ``streams`` columns map 1:1 onto StreamConfig fields."""

from __future__ import annotations

import builtins
import dataclasses
import sqlite3
import time
from typing import Any

from lightnvr.core.stream_config import STREAM_FIELDS, StreamConfig
from lightnvr.database.manager import Database

_BOOL_FIELDS = frozenset(f.name for f in dataclasses.fields(StreamConfig) if f.type in
                         ("bool", bool))
_COLS = ", ".join(STREAM_FIELDS)
_PLACEHOLDERS = ", ".join("?" * len(STREAM_FIELDS))
_ASSIGN = ", ".join(f"{f} = ?" for f in STREAM_FIELDS if f != "name")


class StreamExists(Exception):
    """A stream with this name already exists."""


class StreamNotFound(Exception):
    """No (live) stream with this name."""


def _to_config(row: sqlite3.Row) -> StreamConfig:
    values: dict[str, Any] = {f: row[f] for f in STREAM_FIELDS}
    for f in _BOOL_FIELDS:
        values[f] = bool(values[f])
    return StreamConfig(**values)


def _to_values(config: StreamConfig) -> list[Any]:
    return [int(v) if isinstance(v, bool) else v
            for v in (getattr(config, f) for f in STREAM_FIELDS)]


class StreamsRepo:
    """Streams live in the database (as in the C project); the daemon loads them at start-up."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def list(self, include_disabled: bool = True) -> list[StreamConfig]:
        """Streams by name; never soft-deleted ones."""
        where = "is_deleted = 0" + ("" if include_disabled else " AND enabled = 1")
        with self._db.reader() as c:
            rows = c.execute(f"SELECT {_COLS} FROM streams WHERE {where} ORDER BY name")
            return [_to_config(r) for r in rows]

    def list_with_deleted(self) -> builtins.list[StreamConfig]:
        """Every stream row, soft-deleted ones too (their retention rules still apply)."""
        with self._db.reader() as c:
            return [_to_config(r) for r in c.execute(f"SELECT {_COLS} FROM streams")]

    def get(self, name: str) -> StreamConfig | None:
        with self._db.reader() as c:
            row = c.execute(f"SELECT {_COLS} FROM streams WHERE name = ? AND is_deleted = 0",
                            (name,)).fetchone()
        return _to_config(row) if row else None

    def create(self, config: StreamConfig) -> None:
        """Insert; a soft-deleted stream of the same name is revived with the new settings."""
        with self._db.writer() as c:
            row = c.execute("SELECT is_deleted FROM streams WHERE name = ?",
                            (config.name,)).fetchone()
            if row is not None and not row[0]:
                raise StreamExists(f"stream {config.name!r} already exists")
            if row is not None:
                c.execute(f"UPDATE streams SET {_ASSIGN}, is_deleted = 0, updated_at = ? "
                          "WHERE name = ?",
                          (*_to_values(config)[1:], int(time.time()), config.name))
            else:
                c.execute(f"INSERT INTO streams({_COLS}) VALUES ({_PLACEHOLDERS})",
                          _to_values(config))

    def update(self, config: StreamConfig) -> None:
        with self._db.writer() as c:
            cur = c.execute(f"UPDATE streams SET {_ASSIGN}, updated_at = ? "
                            "WHERE name = ? AND is_deleted = 0",
                            (*_to_values(config)[1:], int(time.time()), config.name))
            if cur.rowcount == 0:
                raise StreamNotFound(f"stream {config.name!r} not found")

    def soft_delete(self, name: str) -> None:
        """Disable and hide the stream; its row and recordings stay (C: DELETE w/o permanent)."""
        with self._db.writer() as c:
            cur = c.execute("UPDATE streams SET is_deleted = 1, enabled = 0, updated_at = ? "
                            "WHERE name = ? AND is_deleted = 0", (int(time.time()), name))
            if cur.rowcount == 0:
                raise StreamNotFound(f"stream {name!r} not found")

    def delete(self, name: str) -> None:
        """Remove the row for good (recordings stay until retention removes them)."""
        with self._db.writer() as c:
            cur = c.execute("DELETE FROM streams WHERE name = ?", (name,))
            if cur.rowcount == 0:
                raise StreamNotFound(f"stream {name!r} not found")

    def count(self) -> int:
        with self._db.reader() as c:
            return int(c.execute("SELECT COUNT(*) FROM streams WHERE is_deleted = 0")
                       .fetchone()[0])
