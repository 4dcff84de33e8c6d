"""Priority shutdown coordinator: stops components highest priority first, each within a deadline.

Design: `shutdown()` runs in the caller's thread (the main thread). Each component's stop
callable runs in its own short-lived thread `shutdown:<name>` so that a component that
overruns its deadline can be abandoned and reported while the rest still get stopped; those
threads are daemon threads so an overrunning one cannot keep the process alive. The whole
sequence is bounded by `global_deadline`: once it is spent, remaining components are not
started and are reported as overran, and the caller exits non-zero (see core/daemon.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from lightnvr.core.clock import SYSTEM_CLOCK, Clock

log = logging.getLogger(__name__)

# Order from docs/ARCHITECTURE "Shutdown order": higher stops first.
PRIORITY_WEB = 100
PRIORITY_DETECTION = 90
PRIORITY_READERS = 80
PRIORITY_LIVE = 70
PRIORITY_RECORDERS = 60
PRIORITY_STORAGE = 50
PRIORITY_GOVERNOR = 45
PRIORITY_DATABASE = 40


@dataclass(slots=True)
class ShutdownReport:
    """What happened during shutdown; `ok` is False when anything overran or failed."""

    ok: bool = True
    overran: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    elapsed: float = 0.0


@dataclass(frozen=True, slots=True)
class _Component:
    name: str
    priority: int
    stop: Callable[[float], object]
    deadline: float
    order: int


class ShutdownCoordinator:
    """Registry of stoppable components and the one orderly shutdown of them.

    Components with equal priority stop in reverse registration order (last started,
    first stopped), like a stack of resources.
    """

    def __init__(self, global_deadline: float = 30.0, clock: Clock | None = None) -> None:
        self._global_deadline = global_deadline
        self._clock = clock or SYSTEM_CLOCK
        self._lock = threading.Lock()
        self._components: dict[str, _Component] = {}
        self._counter = 0
        self._started = False
        self._done = threading.Event()
        self._report: ShutdownReport | None = None
        self._current: str | None = None

    @property
    def global_deadline(self) -> float:
        return self._global_deadline

    def register(self, name: str, priority: int, stop: Callable[[float], object],
                 deadline: float = 5.0) -> None:
        """Add a component; `stop(seconds_allowed)` must return within that time."""
        with self._lock:
            if name in self._components:
                raise ValueError(f"shutdown component {name!r} is already registered")
            if self._started:
                raise RuntimeError(f"cannot register {name!r}: shutdown already started")
            self._counter += 1
            self._components[name] = _Component(name, priority, stop, deadline, self._counter)

    def unregister(self, name: str) -> None:
        """Remove a component that stopped on its own; unknown names are ignored."""
        with self._lock:
            self._components.pop(name, None)

    def registered(self) -> list[str]:
        """Component names in the order shutdown will stop them."""
        with self._lock:
            comps = list(self._components.values())
        comps.sort(key=lambda c: (-c.priority, -c.order))
        return [c.name for c in comps]

    @property
    def stopping(self) -> bool:
        return self._started

    @property
    def current(self) -> str | None:
        """The component being stopped right now (for the hard watchdog's log line)."""
        return self._current

    def shutdown(self) -> ShutdownReport:
        """Stop everything once; later (or concurrent) calls get the first call's report."""
        with self._lock:
            first = not self._started
            self._started = True
            comps = sorted(self._components.values(), key=lambda c: (-c.priority, -c.order))
        if not first:
            self._done.wait()
            assert self._report is not None
            return self._report
        report = ShutdownReport()
        start = self._clock.monotonic()
        log.info("shutdown: stopping %d component(s): %s", len(comps),
                 ", ".join(c.name for c in comps) or "none")
        for i, comp in enumerate(comps):
            remaining = self._global_deadline - (self._clock.monotonic() - start)
            if remaining <= 0:
                left = [c.name for c in comps[i:]]
                log.error("shutdown: global deadline %.1fs exceeded; not stopped: %s",
                          self._global_deadline, ", ".join(left))
                report.overran.extend(left)
                break
            self._stop_one(comp, min(comp.deadline, remaining), report)
        self._current = None
        report.elapsed = self._clock.monotonic() - start
        report.ok = not report.overran and not report.failed
        log.info("shutdown: done in %.2fs (%s)", report.elapsed,
                 "ok" if report.ok else f"overran={report.overran} failed={report.failed}")
        self._report = report
        self._done.set()
        return report

    def _stop_one(self, comp: _Component, allowed: float, report: ShutdownReport) -> None:
        errors: list[BaseException] = []

        def target() -> None:
            try:
                comp.stop(allowed)
            except BaseException as e:  # a stop() that raises must not end the shutdown
                errors.append(e)

        self._current = comp.name
        log.debug("shutdown: stopping %s (priority %d, %.1fs)", comp.name, comp.priority,
                  allowed)
        t = threading.Thread(target=target, name=f"shutdown:{comp.name}", daemon=True)
        began = self._clock.monotonic()
        t.start()
        t.join(allowed)
        if t.is_alive():
            log.error("shutdown: %s overran its deadline of %.1fs; abandoning it",
                      comp.name, allowed)
            report.overran.append(comp.name)
        elif errors:
            log.error("shutdown: stopping %s failed", comp.name, exc_info=errors[0])
            report.failed.append(comp.name)
        else:
            log.info("shutdown: %s stopped in %.2fs", comp.name,
                     self._clock.monotonic() - began)
