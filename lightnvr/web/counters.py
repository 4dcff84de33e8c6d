"""Per-status HTTP request counters, shared by the WSGI app (writer) and /api/metrics (reader)."""

from __future__ import annotations

import threading


class StatusCounters:
    """Requests answered, by HTTP status code; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[int, int] = {}

    def add(self, status: int) -> None:
        with self._lock:
            self._counts[status] = self._counts.get(status, 0) + 1

    def snapshot(self) -> dict[int, int]:
        with self._lock:
            return dict(self._counts)

    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())
