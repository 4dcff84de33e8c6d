"""Dynamic settings rows (``system_settings``: key -> text value), as in the C project."""

from __future__ import annotations

import time
from collections.abc import Mapping

from lightnvr.database.manager import Database


class SettingsRepo:
    """String key/value settings; callers convert types."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, key: str, default: str | None = None) -> str | None:
        with self._db.reader() as c:
            row = c.execute("SELECT value FROM system_settings WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else default

    def all(self) -> dict[str, str]:
        with self._db.reader() as c:
            return {r[0]: r[1] for r in c.execute(
                "SELECT key, value FROM system_settings ORDER BY key")}

    def set(self, key: str, value: str) -> None:
        self.set_many({key: value})

    def set_many(self, values: Mapping[str, str]) -> None:
        """Upsert every pair in one transaction (all or nothing)."""
        now = int(time.time())
        with self._db.writer() as c:
            c.executemany(
                "INSERT INTO system_settings(key, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value, "
                "updated_at = excluded.updated_at",
                [(k, str(v), now) for k, v in values.items()])

    def delete(self, key: str) -> bool:
        with self._db.writer() as c:
            return c.execute("DELETE FROM system_settings WHERE key = ?", (key,)).rowcount > 0
