"""The stoppable-thread base: named thread, one thread per start, deadline join, overrun logged,
heartbeat registered, beaten and dropped."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from lightnvr.core.heartbeat import HeartbeatRegistry
from lightnvr.core.worker_thread import WorkerThread
from tests.core.test_heartbeat import FakeClock
from tests.fixtures.wait import wait_until


class _Ticker(WorkerThread):
    """Counts ticks every 10 ms until stopped; beats its heartbeat on each."""

    def __init__(self, name: str = "ticker") -> None:
        super().__init__(name)
        self.ticks = 0

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.ticks += 1
            self._beat()


class _Stuck(WorkerThread):
    """Blocks on its own event, which only `release` (not stop) sets: it overruns a stop."""

    def __init__(self) -> None:
        super().__init__("stuck")
        self.release = threading.Event()

    def _run(self) -> None:
        self.release.wait(30)


class _Queued(WorkerThread):
    """Blocks on a second event that `_wake_up` sets: stop() must call the hook."""

    def __init__(self) -> None:
        super().__init__("queued")
        self.item = threading.Event()

    def _run(self) -> None:
        self.item.wait(30)

    def _wake_up(self) -> None:
        self.item.set()


def _named(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == name]


def test_runs_named_and_stops_within_its_deadline() -> None:
    before = threading.active_count()
    w = _Ticker()
    assert w.start()
    assert wait_until(lambda: w.ticks >= 2, 10)
    assert len(_named("ticker")) == 1 and w.is_alive()
    t0 = time.monotonic()
    assert w.stop(5.0) is True
    assert time.monotonic() - t0 < 2.0  # an Event.wait loop ends at once, not at the deadline
    assert not w.is_alive() and threading.active_count() == before


def test_start_twice_is_one_thread_and_it_restarts_after_stop() -> None:
    w = _Ticker("twice")
    try:
        assert w.start() is True
        assert w.start() is False
        assert len(_named("twice")) == 1
        w.stop(5.0)
        assert w.start() is True  # the stop event is cleared: the new thread runs
        ticks = w.ticks
        assert wait_until(lambda: w.ticks > ticks, 10)
        assert len(_named("twice")) == 1
    finally:
        w.stop(5.0)


def test_stop_calls_the_wake_up_hook() -> None:
    w = _Queued()
    w.start()
    assert w.stop(5.0) is True and w.item.is_set() and not w.is_alive()


def test_overrun_is_logged_once_and_reported(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="lightnvr.core.worker_thread")
    w = _Stuck()
    w.start()
    try:
        assert w.stop(0.05) is False
        lines = [r.getMessage() for r in caplog.records]
        assert lines == ["stuck did not stop within 0.1 s"]
        assert w.is_alive()
    finally:
        w.release.set()
        assert w.join(10.0) is True
    assert not w.is_alive()


def test_stop_before_start_and_from_its_own_thread() -> None:
    assert _Ticker("never").stop(1.0) is True

    class _SelfStopping(WorkerThread):
        result: bool | None = None

        def _run(self) -> None:
            self.result = self.stop(1.0)  # must not join itself (RuntimeError)

    w = _SelfStopping("self-stop")
    w.start()
    assert w.join(10.0) and w.result is True


def test_heartbeat_registered_beaten_and_dropped_on_exit() -> None:
    clock = FakeClock()
    registry = HeartbeatRegistry(clock)
    w = _Ticker("beating")
    w.watch(registry, max_age=5.0, critical=True)
    assert "beating" not in registry.ages()  # registered by start(), not by watch()
    w.start()
    try:
        assert registry.critical() == {"beating": True}
        clock.now += 60.0  # the fake clock jumps: the beat is stale until the thread beats again
        assert wait_until(lambda: registry.ages()["beating"] < 1.0, 10)
        assert registry.stale() == []
    finally:
        w.stop(5.0)
    assert "beating" not in registry.ages()


def test_a_thread_that_dies_keeps_its_heartbeat_so_it_goes_stale() -> None:
    registry = HeartbeatRegistry()

    class _Dying(WorkerThread):
        def _run(self) -> None:
            raise RuntimeError("boom")

    w = _Dying("dying")
    w.watch(registry, max_age=0.01)
    hook, threading.excepthook = threading.excepthook, lambda args: None
    try:
        w.start()
        assert w.join(10.0)
    finally:
        threading.excepthook = hook
    assert wait_until(lambda: registry.stale() == ["dying"], 10)
