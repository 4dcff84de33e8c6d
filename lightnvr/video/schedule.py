"""Recording schedules: 168 hourly '0'/'1' slots, Sunday 00:00 first, in local time.

`recording_schedule` is LightNVR's format: slot = weekday (Sunday 0) * 24 + hour, evaluated in
the machine's local time zone (so DST shifts follow the wall clock, as users expect). An empty
schedule means "always". `ScheduleGate` caches the answer until the next hour boundary, so a
recorder can ask for every packet without a `localtime()` call per packet.
"""

from __future__ import annotations

import math
import time

from lightnvr.core.stream_config import SCHEDULE_SLOTS

SCHEDULE_PAUSED_REASON = "outside recording schedule"


def schedule_slot(wall: float) -> int:
    """The slot index (0..167) of wall-clock time `wall` in local time, Sunday 00:00 = 0."""
    lt = time.localtime(wall)
    return ((lt.tm_wday + 1) % 7) * 24 + lt.tm_hour  # tm_wday: Monday 0 ... Sunday 6


def schedule_allows(schedule: str, wall: float) -> bool:
    """True when `schedule` ('' = always; malformed = always, never lose footage) records now."""
    if len(schedule) != SCHEDULE_SLOTS:
        return True
    return schedule[schedule_slot(wall)] != "0"


def next_hour_boundary(wall: float) -> float:
    """The first local full hour strictly after `wall` (local zones differ by whole or half
    hours from UTC, so the local minute/second fields give the distance)."""
    lt = time.localtime(wall)
    into_hour = lt.tm_min * 60 + lt.tm_sec + (wall - math.floor(wall))
    return wall - into_hour + 3600.0


class ScheduleGate:
    """`allows(wall)` for one stream's schedule, recomputed only when the hour changes."""

    __slots__ = ("_allowed", "_from", "_until", "enabled", "schedule")

    def __init__(self, enabled: bool, schedule: str) -> None:
        self.enabled = enabled
        self.schedule = schedule
        self._from = math.inf
        self._until = -math.inf
        self._allowed = True

    def allows(self, wall: float) -> bool:
        if not self.enabled:
            return True
        if not self._from <= wall < self._until:  # also handles a clock that went backwards
            self._allowed = schedule_allows(self.schedule, wall)
            self._from, self._until = wall, next_hour_boundary(wall)
        return self._allowed
