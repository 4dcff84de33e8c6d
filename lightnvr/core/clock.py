"""Injectable time source, so tests can drive time-dependent code with a fake clock."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """What time-dependent code may ask of a clock."""

    def monotonic(self) -> float: ...

    def wall(self) -> float: ...


class SystemClock:
    """The real clock: `time.monotonic` and `time.time`."""

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()


SYSTEM_CLOCK = SystemClock()
