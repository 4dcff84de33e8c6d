"""The security audit trail: who did what to which account or setting, from where.

Entries are `events` rows of type `EventType.AUDIT`: `description` is the kind (see `KINDS`),
`details` a JSON object {"actor", "target", "ip", "details"}. Handlers write one with
`audit(ctx, kind, req, target, **details)`; the login limiter reports failed logins and
lockouts through `AuditLog.login_event`. Admins read them through GET /api/system/audit.

Never a secret: detail keys that name one (password, token, secret, code, key) are dropped
whatever their value, values are short single-line scalars (or lists of them), and callers
pass names of changed things, not their values. A failed login for a username that does not
exist is recorded without that name: people type passwords into the username field.
Writing an entry never fails the request that caused it (a full disk logs one error instead).
The table is kept to the newest `MAX_ROWS` entries so a login flood cannot fill the disk.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import orjson

from lightnvr.database.events import EventsRepo, EventType
from lightnvr.database.users import User
from lightnvr.web.client import client_address
from lightnvr.web.http import Request

if TYPE_CHECKING:
    from lightnvr.web.context import WebContext

log = logging.getLogger(__name__)

KINDS = frozenset({
    "login_failed", "login_lockout", "lockout_cleared",
    "user_created", "user_deleted", "user_updated", "role_changed",
    "password_changed", "totp_enabled", "totp_disabled", "api_key_changed",
    "settings_changed",
})
MAX_ROWS = 50_000
TRIM_EVERY = 256  # writes between two trims
_SECRET_WORDS = ("password", "secret", "token", "code", "key", "credential")
_MAX_TEXT = 200
_MAX_LIST = 100
Scalar = str | int | float | bool | None


def _text(value: object) -> str:
    """One printable line of at most _MAX_TEXT characters."""
    s = "".join(c if c.isprintable() else " " for c in str(value))
    return s[:_MAX_TEXT]


def _scalar(value: object) -> Scalar:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return _text(value)


def clean_details(details: Mapping[str, object]) -> dict[str, Any]:
    """`details` without anything that could be a secret (see the module doc)."""
    out: dict[str, Any] = {}
    for key, value in details.items():
        name = _text(key)
        if any(word in name.lower() for word in _SECRET_WORDS):
            continue
        if isinstance(value, (list, tuple, set, frozenset)):
            out[name] = [_scalar(v) for v in list(value)[:_MAX_LIST]]
        else:
            out[name] = _scalar(value)
    return out


class AuditLog:
    """Writes and reads audit entries; one per daemon (see `audit_log`), safe from any thread."""

    def __init__(self, events: EventsRepo, wall: Callable[[], float] = time.time) -> None:
        self._events = events
        self._wall = wall
        self._lock = threading.Lock()
        self._writes = 0

    def record(self, kind: str, actor: str, target: str = "",
               details: Mapping[str, object] | None = None, ip: str = "") -> None:
        """Append one entry; never raises (a failed write is logged once per call)."""
        assert kind in KINDS, kind
        payload = {"actor": _text(actor), "target": _text(target), "ip": _text(ip),
                   "details": clean_details(details or {})}
        try:
            self._events.add(EventType.AUDIT, self._wall(), kind,
                             details=orjson.dumps(payload).decode())
            with self._lock:
                self._writes += 1
                trim = self._writes % TRIM_EVERY == 0
            if trim:
                self._events.trim(EventType.AUDIT, MAX_ROWS)
        except sqlite3.Error:
            log.error("cannot write the audit entry %s for %r", kind, _text(actor),
                      exc_info=True)

    def login_event(self, kind: str, username: str, address: str,
                    details: Mapping[str, object]) -> None:
        """The login limiter's hook (`LoginRateLimiter.audit`)."""
        self.record(kind, username, username, details, address)

    def page(self, before_id: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Entries newest first as JSON objects: id, time, kind, actor, target, ip, details."""
        out: list[dict[str, Any]] = []
        for e in self._events.page(EventType.AUDIT, before_id, limit):
            try:
                payload = orjson.loads(e.details) if e.details else {}
            except orjson.JSONDecodeError:
                payload = {}
            if not isinstance(payload, dict):
                payload = {}
            out.append({"id": e.id, "time": e.timestamp, "kind": e.description,
                        "actor": payload.get("actor", ""), "target": payload.get("target", ""),
                        "ip": payload.get("ip", ""), "details": payload.get("details", {})})
        return out


def audit_log(ctx: WebContext) -> AuditLog:
    """The context's AuditLog, created on first use (kept in `ctx.extra["audit"]`)."""
    existing = ctx.extra.get("audit")
    if isinstance(existing, AuditLog):
        return existing
    created = AuditLog(EventsRepo(ctx.db))
    found = ctx.extra.setdefault("audit", created)  # atomic: two racing callers share one
    return found if isinstance(found, AuditLog) else created


def audit(ctx: WebContext, kind: str, req: Request, target: str = "",
          **details: object) -> None:
    """Record `kind` done by the caller of `req` (its user and client address) to `target`."""
    actor = req.principal.username if req.principal is not None else ""
    ip = client_address(req, ctx.config.web.trusted_proxy_cidrs)
    audit_log(ctx).record(kind, actor, target, details, ip)


def audit_user_update(ctx: WebContext, req: Request, before: User, after: User,
                      password_set: bool) -> None:
    """The entries for one PUT /api/auth/users/{id}: role, other fields, password."""
    if before.role != after.role:
        audit(ctx, "role_changed", req, after.username, old_role=before.role,
              new_role=after.role)
    fields = [name for name, old, new in (
        ("username", before.username, after.username), ("email", before.email, after.email),
        ("is_active", before.is_active, after.is_active)) if old != new]
    if fields:
        audit(ctx, "user_updated", req, after.username, fields=fields,
              **({"old_username": before.username} if "username" in fields else {}))
    if password_set:
        audit(ctx, "password_changed", req, after.username)
