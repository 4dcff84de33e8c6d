"""Users table: accounts, password hashes, roles, API-key hashes, TOTP state, access rules.

Raw parameterized SQL through the Database manager; this module knows nothing of HTTP or of
how passwords are hashed (lightnvr/web/auth.py does that and hands us the encoded hash).
API keys are stored only as their SHA-256 hex digest, so a stolen database does not hand out
working keys. The access rules (migration 0007) are LightNVR's: `allowed_login_cidrs` is kept
in one normalised form (`normalize_cidrs`), `allowed_tags` as the comma list it was given.
"""

from __future__ import annotations

import ipaddress
import sqlite3
import time
from dataclasses import dataclass

from lightnvr.database.manager import Database

_COLUMNS = ("id, username, password_hash, salt, role, email, api_key, created_at, updated_at, "
            "last_login, is_active, password_change_required, totp_secret, totp_enabled, "
            "password_change_locked, allowed_tags, allowed_login_cidrs")
MAX_CIDRS_TEXT = 1024  # LightNVR's USER_ALLOWED_LOGIN_CIDRS_MAX
MAX_TAGS_TEXT = 255  # LightNVR keeps allowed_tags in a 256-byte buffer


def normalize_cidrs(text: str | None) -> str | None:
    """LightNVR's stored form of an `allowed_login_cidrs` value, or None for "anywhere".

    Entries are separated by commas or newlines; each is an IPv4/IPv6 network or a bare
    address (which becomes /32 or /128). Host bits are cleared (`10.1.2.3/8` is
    `10.0.0.0/8`); entries are joined with newlines. ValueError names the bad entry.
    """
    if text is None:
        return None
    if len(text) >= MAX_CIDRS_TEXT:
        raise ValueError(f"at most {MAX_CIDRS_TEXT - 1} characters")
    out: list[str] = []
    for raw in text.replace(",", "\n").split("\n"):
        entry = raw.strip()
        if not entry:
            continue
        try:
            net = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(f"'{entry}' is not an IPv4/IPv6 address or CIDR network") from None
        out.append(f"{net.network_address}/{net.prefixlen}")
    return "\n".join(out) or None


def normalize_tags(text: str | None) -> str | None:
    """The stored form of `allowed_tags`: trimmed comma list, or None for "every stream"."""
    if text is None:
        return None
    if len(text) > MAX_TAGS_TEXT:
        raise ValueError(f"at most {MAX_TAGS_TEXT} characters")
    tags = [t.strip() for t in text.split(",") if t.strip()]
    return ",".join(tags) or None


def ip_allowed(cidrs: str | None, address: str) -> bool:
    """True when `address` may log in under the normalised `cidrs` (None: from anywhere).

    An address that cannot be parsed never matches a restriction: failing closed is the
    point of having one.
    """
    if not cidrs:
        return True
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # a dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d
    for entry in cidrs.split("\n"):
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except (ValueError, TypeError):
            continue
    return False


class UserExists(Exception):
    """The username is already taken."""


@dataclass(frozen=True, slots=True)
class User:
    """One row of `users`. `api_key_hash` is the SHA-256 hex of the key, or None."""

    id: int
    username: str
    password_hash: str
    salt: str
    role: int
    email: str
    api_key_hash: str | None
    created_at: int
    updated_at: int
    last_login: int | None
    is_active: bool
    password_change_required: bool
    totp_secret: str | None
    totp_enabled: bool
    password_change_locked: bool = False
    allowed_tags: str | None = None  # None: every stream
    allowed_login_cidrs: str | None = None  # None: from anywhere; else normalised, "\n"-joined

    def tag_set(self) -> frozenset[str] | None:
        """The user's stream tags, or None when the user is not restricted by tags."""
        if not self.allowed_tags:
            return None
        return frozenset(t.strip() for t in self.allowed_tags.split(",") if t.strip())


def _row(r: sqlite3.Row) -> User:
    return User(
        id=int(r[0]), username=str(r[1]), password_hash=str(r[2]), salt=str(r[3] or ""),
        role=int(r[4]), email=str(r[5] or ""), api_key_hash=r[6] if r[6] else None,
        created_at=int(r[7] or 0), updated_at=int(r[8] or 0),
        last_login=int(r[9]) if r[9] is not None else None,
        is_active=bool(r[10]), password_change_required=bool(r[11]),
        totp_secret=str(r[12]) if r[12] else None, totp_enabled=bool(r[13]),
        password_change_locked=bool(r[14]), allowed_tags=str(r[15]) if r[15] else None,
        allowed_login_cidrs=str(r[16]) if r[16] else None,
    )


class UsersRepo:
    """CRUD on `users`; every method is one short transaction, safe from any thread."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @property
    def database(self) -> Database:
        """The database these users live in (for repositories of user-owned rows)."""
        return self._db

    def _one(self, where: str, arg: object) -> User | None:
        with self._db.reader() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM users WHERE {where}", (arg,)).fetchone()
        return _row(row) if row else None

    def list(self) -> list[User]:
        with self._db.reader() as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM users ORDER BY id").fetchall()
        return [_row(r) for r in rows]

    def get(self, user_id: int) -> User | None:
        return self._one("id = ?", user_id)

    def get_by_username(self, username: str) -> User | None:
        return self._one("username = ?", username)

    def get_by_api_key_hash(self, key_hash: str) -> User | None:
        return self._one("api_key = ?", key_hash)

    def count(self) -> int:
        with self._db.reader() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM users").fetchone()[0])

    def count_admins(self, active_only: bool = True) -> int:
        sql = "SELECT COUNT(*) FROM users WHERE role = 0"
        if active_only:
            sql += " AND is_active = 1"
        with self._db.reader() as conn:
            return int(conn.execute(sql).fetchone()[0])

    def create(self, username: str, password_hash: str, salt: str, role: int, email: str = "",
               is_active: bool = True, password_change_required: bool = False) -> int:
        """Insert a user and return its id; UserExists when the name is taken."""
        now = int(time.time())
        try:
            with self._db.writer() as conn:
                cur = conn.execute(
                    "INSERT INTO users (username, password_hash, salt, role, email, is_active, "
                    "password_change_required, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (username, password_hash, salt, role, email, int(is_active),
                     int(password_change_required), now, now))
                return int(cur.lastrowid or 0)
        except sqlite3.IntegrityError as e:
            raise UserExists(username) from e

    def update(self, user_id: int, username: str | None = None, email: str | None = None,
               role: int | None = None, is_active: bool | None = None) -> bool:
        """Change the given fields; False when the user does not exist."""
        sets: list[str] = []
        args: list[object] = []
        for col, val in (("username", username), ("email", email), ("role", role),
                         ("is_active", None if is_active is None else int(is_active))):
            if val is not None:
                sets.append(f"{col} = ?")
                args.append(val)
        sets.append("updated_at = ?")
        args.extend([int(time.time()), user_id])
        try:
            with self._db.writer() as conn:
                cur = conn.execute(f"UPDATE users SET {', '.join(sets)} WHERE id = ?", args)
                return cur.rowcount > 0
        except sqlite3.IntegrityError as e:
            raise UserExists(username or "") from e

    def set_password(self, user_id: int, password_hash: str, salt: str,
                     change_required: bool = False) -> bool:
        with self._db.writer() as conn:
            cur = conn.execute(
                "UPDATE users SET password_hash = ?, salt = ?, password_change_required = ?, "
                "updated_at = ? WHERE id = ?",
                (password_hash, salt, int(change_required), int(time.time()), user_id))
            return cur.rowcount > 0

    def set_api_key_hash(self, user_id: int, key_hash: str | None) -> bool:
        with self._db.writer() as conn:
            cur = conn.execute("UPDATE users SET api_key = ?, updated_at = ? WHERE id = ?",
                               (key_hash, int(time.time()), user_id))
            return cur.rowcount > 0

    def set_totp(self, user_id: int, secret: str | None, enabled: bool) -> bool:
        with self._db.writer() as conn:
            cur = conn.execute(
                "UPDATE users SET totp_secret = ?, totp_enabled = ?, updated_at = ? WHERE id = ?",
                (secret, int(enabled), int(time.time()), user_id))
            return cur.rowcount > 0

    def set_password_lock(self, user_id: int, locked: bool) -> bool:
        with self._db.writer() as conn:
            cur = conn.execute(
                "UPDATE users SET password_change_locked = ?, updated_at = ? WHERE id = ?",
                (int(locked), int(time.time()), user_id))
            return cur.rowcount > 0

    def set_access_rules(self, user_id: int, allowed_tags: str | None,
                         allowed_login_cidrs: str | None) -> bool:
        """Store both rules as given (callers pass `normalize_tags`/`normalize_cidrs` output)."""
        with self._db.writer() as conn:
            cur = conn.execute(
                "UPDATE users SET allowed_tags = ?, allowed_login_cidrs = ?, updated_at = ? "
                "WHERE id = ?", (allowed_tags, allowed_login_cidrs, int(time.time()), user_id))
            return cur.rowcount > 0

    def record_login(self, user_id: int, when: int) -> None:
        with self._db.writer() as conn:
            conn.execute("UPDATE users SET last_login = ? WHERE id = ?", (when, user_id))

    def delete(self, user_id: int) -> bool:
        """Remove the user (its sessions go with it: ON DELETE CASCADE, and explicitly)."""
        with self._db.writer() as conn:
            conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))
            cur = conn.execute("DELETE FROM users WHERE id = ?", (user_id,))
            return cur.rowcount > 0
