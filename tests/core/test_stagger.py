"""Staggered start: one at a time, delay between, interruptible, failures isolated."""

from __future__ import annotations

import functools
import itertools
import threading
import time

from lightnvr.core.stagger import StaggeredStarter


def test_starts_in_order_with_delay_and_isolates_failures() -> None:
    times: list[tuple[str, float]] = []
    s = StaggeredStarter(0.05)
    for name in ("a", "b", "c"):
        s.add(name, functools.partial(lambda n: times.append((n, time.monotonic())), name))

    def broken() -> None:
        raise RuntimeError("camera said no")

    s.add("bad", broken)
    s.add("d", lambda: times.append(("d", time.monotonic())))
    assert s.run() == ["a", "b", "c", "d"]
    assert s.failed() == ["bad"] and s.pending() == []
    gaps = [b[1] - a[1] for a, b in itertools.pairwise(times)]
    assert all(g >= 0.045 for g in gaps), gaps


def test_stop_interrupts_the_delay_in_the_background_thread() -> None:
    before = threading.active_count()
    started: list[str] = []
    s = StaggeredStarter(30.0)
    for name in ("a", "b", "c"):
        s.add(name, functools.partial(started.append, name))
    s.start()
    for _ in range(100):
        if started:
            break
        threading.Event().wait(0.01)
    t0 = time.monotonic()
    s.stop(2.0)
    assert time.monotonic() - t0 < 1.0
    assert started == ["a"] and s.pending() == ["b", "c"]
    assert threading.active_count() == before


def test_external_stop_event_is_honoured_but_not_set() -> None:
    stop = threading.Event()
    s = StaggeredStarter(30.0, stop_event=stop)
    s.add("a", lambda: None)
    s.add("b", lambda: None)
    s.start()
    threading.Event().wait(0.05)
    stop.set()
    t0 = time.monotonic()
    s.stop(2.0)
    assert time.monotonic() - t0 < 1.0 and s.started() == ["a"]
    fresh = threading.Event()
    s2 = StaggeredStarter(0.0, stop_event=fresh)
    s2.add("x", lambda: None)
    s2.start()
    s2.stop(2.0)
    assert not fresh.is_set()
