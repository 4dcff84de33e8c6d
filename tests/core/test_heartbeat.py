"""Heartbeats with an injected clock."""

from __future__ import annotations

import pytest

from lightnvr.core.heartbeat import HeartbeatRegistry


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return 1_700_000_000.0 + self.now


def test_stale_only_for_critical_beats_past_max_age() -> None:
    clock = FakeClock()
    reg = HeartbeatRegistry(clock)
    reader = reg.register("reader:a", max_age=5)
    reg.register("web", max_age=2, critical=False)
    assert reg.stale() == []
    clock.now += 3
    assert reg.stale() == []            # web is stale but not critical
    clock.now += 3
    assert reg.stale() == ["reader:a"]
    reader.beat()
    assert reg.stale() == [] and reader.age() == 0.0
    assert reg.ages() == {"reader:a": 0.0, "web": 6.0}
    reg.unregister("reader:a")
    clock.now += 100
    assert reg.stale() == []


def test_register_validates_and_replaces() -> None:
    clock = FakeClock()
    reg = HeartbeatRegistry(clock)
    with pytest.raises(ValueError):
        reg.register("x", 0)
    reg.register("x", 1)
    clock.now += 5
    assert reg.stale() == ["x"]
    reg.register("x", 1)                # a restarted thread starts fresh
    assert reg.stale() == []
