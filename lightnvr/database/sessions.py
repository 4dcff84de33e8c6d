"""Sessions table: login sessions with absolute and idle expiry.

Only the SHA-256 hex digest of a session token is stored (column `token`), so the database
never holds a cookie that could be replayed. Times are integer epoch seconds.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass

from lightnvr.database.manager import Database

_COLUMNS = ("id, user_id, created_at, expires_at, idle_expires_at, last_activity_at, "
            "ip_address, user_agent")


def token_digest(token: str) -> str:
    """What is stored for `token`: its SHA-256 hex digest."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Session:
    """One row of `sessions` (without the token digest)."""

    id: int
    user_id: int
    created_at: int
    expires_at: int
    idle_expires_at: int
    last_activity_at: int
    ip_address: str
    user_agent: str


def _row(r: sqlite3.Row) -> Session:
    return Session(int(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4]),
                   int(r[5]), str(r[6] or ""), str(r[7] or ""))


class SessionsRepo:
    """CRUD on `sessions`; every method is one short transaction, safe from any thread."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, user_id: int, token: str, now: int, expires_at: int, idle_expires_at: int,
               ip_address: str = "", user_agent: str = "") -> int:
        with self._db.writer() as conn:
            cur = conn.execute(
                "INSERT INTO sessions (user_id, token, created_at, expires_at, idle_expires_at, "
                "last_activity_at, ip_address, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (user_id, token_digest(token), now, expires_at, idle_expires_at, now,
                 ip_address[:64], user_agent[:256]))
            return int(cur.lastrowid or 0)

    def get_by_token(self, token: str) -> Session | None:
        with self._db.reader() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM sessions WHERE token = ?",
                               (token_digest(token),)).fetchone()
        return _row(row) if row else None

    def get(self, session_id: int) -> Session | None:
        with self._db.reader() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM sessions WHERE id = ?",
                               (session_id,)).fetchone()
        return _row(row) if row else None

    def touch(self, session_id: int, now: int, idle_expires_at: int) -> None:
        with self._db.writer() as conn:
            conn.execute("UPDATE sessions SET last_activity_at = ?, idle_expires_at = ? "
                         "WHERE id = ?", (now, idle_expires_at, session_id))

    def list_for_user(self, user_id: int) -> list[Session]:
        with self._db.reader() as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM sessions WHERE user_id = ? "
                                "ORDER BY id", (user_id,)).fetchall()
        return [_row(r) for r in rows]

    def delete(self, session_id: int) -> bool:
        with self._db.writer() as conn:
            return conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,)).rowcount > 0

    def delete_by_token(self, token: str) -> bool:
        with self._db.writer() as conn:
            return conn.execute("DELETE FROM sessions WHERE token = ?",
                                (token_digest(token),)).rowcount > 0

    def delete_for_user(self, user_id: int, except_id: int | None = None) -> int:
        """Remove all sessions of a user (but `except_id`); returns how many went."""
        with self._db.writer() as conn:
            cur = conn.execute("DELETE FROM sessions WHERE user_id = ? AND id != ?",
                               (user_id, except_id if except_id is not None else -1))
            return cur.rowcount

    def purge_expired(self, now: int) -> int:
        with self._db.writer() as conn:
            cur = conn.execute("DELETE FROM sessions WHERE expires_at <= ? "
                               "OR idle_expires_at <= ?", (now, now))
            return cur.rowcount
