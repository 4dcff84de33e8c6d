"""What the detection tests read back from a real daemon: its SQLite file (read-only, while it
runs or after it stopped) and its detection event count over HTTP."""

from __future__ import annotations

import sqlite3
from typing import Any

from tests.fixtures.daemon import DaemonProcess


def db_rows(d: DaemonProcess, sql: str, *args: object) -> list[sqlite3.Row]:
    """`sql` on the daemon's database, opened read-only; rows by column name or index."""
    conn = sqlite3.connect(f"file:{d.base / 'db' / 'lightnvr.db'}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return list(conn.execute(sql, args))
    finally:
        conn.close()


def detection_events(d: DaemonProcess, stream: str) -> list[dict[str, Any]]:
    """The stream's detection events (GET /api/events), oldest first."""
    body = d.json(f"/api/events?kind=detection&stream={stream}&limit=1000")
    return sorted(body["events"], key=lambda e: e["timestamp"])


def detection_event_count(d: DaemonProcess, stream: str) -> int:
    return int(d.json(f"/api/events?kind=detection&stream={stream}&limit=1000")["count"])
