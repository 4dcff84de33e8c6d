"""Thread liveness: each critical thread stamps a heartbeat; WATCHDOG=1 needs all of them fresh."""

from __future__ import annotations

import threading

from lightnvr.core.clock import SYSTEM_CLOCK, Clock


class Heartbeat:
    """One thread's last sign of life, stamped with the monotonic clock."""

    name: str
    max_age: float
    critical: bool

    def __init__(self, name: str, max_age: float, critical: bool, clock: Clock) -> None:
        self.name = name
        self.max_age = max_age
        self.critical = critical
        self._clock = clock
        # A float store is atomic under the GIL, so beat() takes no lock (it is on hot paths).
        self._last = clock.monotonic()

    def beat(self) -> None:
        """Record that the owning thread is making progress."""
        self._last = self._clock.monotonic()

    def age(self) -> float:
        """Seconds since the last beat (or since registration)."""
        return max(0.0, self._clock.monotonic() - self._last)


def watchdog_max_age(wanted: float, watchdog_interval: float | None) -> float:
    """`max_age` for a heartbeat whose thread, once hung, must stop the pings within half of
    systemd's WatchdogSec: at most 0.8 x the ping interval (= 0.4 x WatchdogSec), since the
    last ping goes out no later than `max_age` after the last beat. Without a watchdog, or
    when `wanted` is shorter already, `wanted`."""
    if watchdog_interval is None:
        return wanted
    return max(0.1, min(wanted, 0.8 * watchdog_interval))


class HeartbeatRegistry:
    """Named heartbeats; `stale()` lists critical ones older than their `max_age`."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SYSTEM_CLOCK
        self._lock = threading.Lock()
        self._beats: dict[str, Heartbeat] = {}

    def register(self, name: str, max_age: float, critical: bool = True) -> Heartbeat:
        """Add (or replace) the heartbeat `name`; it counts as fresh from now."""
        if max_age <= 0:
            raise ValueError(f"heartbeat {name}: max_age must be > 0, got {max_age}")
        hb = Heartbeat(name, max_age, critical, self._clock)
        with self._lock:
            self._beats[name] = hb
        return hb

    def unregister(self, name: str, beat: Heartbeat | None = None) -> None:
        """Forget `name` (a thread that stopped on purpose); unknown names are ignored.

        With `beat`, only if `name` is still that heartbeat: a thread that stops late must
        not remove the heartbeat of its successor registered under the same name.
        """
        with self._lock:
            if beat is None or self._beats.get(name) is beat:
                self._beats.pop(name, None)

    def stale(self) -> list[str]:
        """Names of critical heartbeats older than their max_age, sorted."""
        with self._lock:
            beats = list(self._beats.values())
        return sorted(hb.name for hb in beats if hb.critical and hb.age() > hb.max_age)

    def ages(self) -> dict[str, float]:
        """Age in seconds of every registered heartbeat."""
        with self._lock:
            beats = list(self._beats.values())
        return {hb.name: hb.age() for hb in beats}

    def critical(self) -> dict[str, bool]:
        """Whether each registered heartbeat is critical (stops the watchdog pings)."""
        with self._lock:
            return {name: hb.critical for name, hb in self._beats.items()}
