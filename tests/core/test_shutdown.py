"""ShutdownCoordinator: priority order, per-component deadline, global deadline, failures."""

from __future__ import annotations

import functools
import threading

import pytest

from lightnvr.core import shutdown as sd
from lightnvr.core.shutdown import ShutdownCoordinator


def test_documented_order() -> None:
    order = [sd.PRIORITY_WEB, sd.PRIORITY_DETECTION, sd.PRIORITY_READERS, sd.PRIORITY_LIVE,
             sd.PRIORITY_RECORDERS, sd.PRIORITY_STORAGE, sd.PRIORITY_GOVERNOR,
             sd.PRIORITY_DATABASE]
    assert order == sorted(order, reverse=True)


def test_stops_highest_priority_first() -> None:
    c = ShutdownCoordinator(global_deadline=5)
    stopped: list[str] = []
    for name, prio in [("db", sd.PRIORITY_DATABASE), ("web", sd.PRIORITY_WEB),
                       ("rec", sd.PRIORITY_RECORDERS), ("reader:a", sd.PRIORITY_READERS),
                       ("reader:b", sd.PRIORITY_READERS)]:
        c.register(name, prio, functools.partial(lambda n, allowed: stopped.append(n), name),
                   deadline=1)
    assert c.registered() == ["web", "reader:b", "reader:a", "rec", "db"]
    assert not c.stopping
    report = c.shutdown()
    assert stopped == ["web", "reader:b", "reader:a", "rec", "db"]
    assert report.ok and report.overran == [] and report.failed == []
    assert c.stopping
    assert c.shutdown() is report  # idempotent
    assert stopped == ["web", "reader:b", "reader:a", "rec", "db"]


def test_stop_receives_its_deadline() -> None:
    c = ShutdownCoordinator(global_deadline=10)
    got: list[float] = []
    c.register("x", 1, got.append, deadline=2.5)
    c.shutdown()
    assert got == [2.5]


def test_duplicate_and_unregister() -> None:
    c = ShutdownCoordinator()
    c.register("a", 1, lambda t: None)
    with pytest.raises(ValueError):
        c.register("a", 2, lambda t: None)
    c.unregister("a")
    c.unregister("never")
    assert c.registered() == []


def test_component_overrun_is_reported_and_others_still_stop() -> None:
    release = threading.Event()
    c = ShutdownCoordinator(global_deadline=5)
    stopped: list[str] = []
    c.register("hang", 90, lambda t: release.wait(10), deadline=0.2)
    c.register("fails", 80, lambda t: (_ for _ in ()).throw(RuntimeError("boom")), deadline=1)
    c.register("db", 40, lambda t: stopped.append("db"), deadline=1)
    report = c.shutdown()
    release.set()
    assert not report.ok
    assert report.overran == ["hang"] and report.failed == ["fails"]
    assert stopped == ["db"]
    assert 0.2 <= report.elapsed < 2


def test_global_deadline_skips_the_rest() -> None:
    release = threading.Event()
    c = ShutdownCoordinator(global_deadline=0.3)
    stopped: list[str] = []
    c.register("slow", 90, lambda t: release.wait(10), deadline=5)
    c.register("db", 40, lambda t: stopped.append("db"), deadline=5)
    report = c.shutdown()
    release.set()
    assert report.overran == ["slow", "db"] and stopped == []
    assert report.elapsed < 1.5


def test_concurrent_shutdown_calls_share_one_report() -> None:
    c = ShutdownCoordinator()
    gate = threading.Event()
    c.register("a", 1, lambda t: gate.wait(2))
    reports: list[object] = []
    t = threading.Thread(target=lambda: reports.append(c.shutdown()), name="test-shutdown")
    t.start()
    threading.Event().wait(0.05)
    assert c.stopping
    with pytest.raises(RuntimeError):
        c.register("late", 1, lambda t: None)
    second = threading.Thread(target=lambda: reports.append(c.shutdown()), name="test-2")
    second.start()
    gate.set()
    t.join(3)
    second.join(3)
    assert len(reports) == 2 and reports[0] is reports[1]
