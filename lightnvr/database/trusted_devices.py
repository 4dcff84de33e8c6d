"""Trusted devices table: browsers a user let skip the TOTP step for `trusted_device_days`.

As for sessions, only the SHA-256 hex digest of a device token is stored (column `token`), so
the database never holds a cookie that could be replayed. Times are integer epoch seconds.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from lightnvr.database.manager import Database
from lightnvr.database.sessions import token_digest

_COLUMNS = "id, user_id, created_at, last_used_at, expires_at, ip_address, user_agent"


@dataclass(frozen=True, slots=True)
class TrustedDevice:
    """One row of `trusted_devices` (without the token digest)."""

    id: int
    user_id: int
    created_at: int
    last_used_at: int
    expires_at: int
    ip_address: str
    user_agent: str


def _row(r: sqlite3.Row) -> TrustedDevice:
    return TrustedDevice(int(r[0]), int(r[1]), int(r[2]), int(r[3] or 0), int(r[4]),
                         str(r[5] or ""), str(r[6] or ""))


class TrustedDevicesRepo:
    """CRUD on `trusted_devices`; every method is one short transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, user_id: int, token: str, now: int, expires_at: int,
               ip_address: str = "", user_agent: str = "") -> int:
        with self._db.writer() as conn:
            conn.execute("DELETE FROM trusted_devices WHERE expires_at <= ?", (now,))
            cur = conn.execute(
                "INSERT INTO trusted_devices (user_id, token, ip_address, user_agent, "
                "created_at, last_used_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (user_id, token_digest(token), ip_address[:64], user_agent[:512], now, now,
                 expires_at))
            return int(cur.lastrowid or 0)

    def find(self, user_id: int, token: str, now: int) -> TrustedDevice | None:
        """The unexpired device of `user_id` whose token is `token`, or None."""
        with self._db.reader() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM trusted_devices WHERE user_id = ? AND token = ? "
                "AND expires_at > ?", (user_id, token_digest(token), now)).fetchone()
        return _row(row) if row else None

    def touch(self, device_id: int, now: int) -> None:
        with self._db.writer() as conn:
            conn.execute("UPDATE trusted_devices SET last_used_at = ? WHERE id = ?",
                         (now, device_id))

    def list_for_user(self, user_id: int, now: int) -> list[TrustedDevice]:
        with self._db.reader() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM trusted_devices WHERE user_id = ? AND expires_at > ? "
                "ORDER BY COALESCE(last_used_at, created_at) DESC", (user_id, now)).fetchall()
        return [_row(r) for r in rows]

    def delete(self, user_id: int, device_id: int) -> bool:
        """Forget one of `user_id`'s devices; False when it is not theirs or not there."""
        with self._db.writer() as conn:
            cur = conn.execute("DELETE FROM trusted_devices WHERE id = ? AND user_id = ?",
                               (device_id, user_id))
            return cur.rowcount > 0

    def delete_for_user(self, user_id: int) -> int:
        """Forget all of a user's devices (their TOTP or password changed)."""
        with self._db.writer() as conn:
            return conn.execute("DELETE FROM trusted_devices WHERE user_id = ?",
                                (user_id,)).rowcount
