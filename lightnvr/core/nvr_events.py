"""NVR events (detections, recordings, stream and storage state) and the hub that fans them out.

Design: one thread, `events` (EventHub). Producers — the web thread handling a motion
trigger, the stream manager, the MQTT thread handing over a command — call `emit()`, which
only appends to a bounded deque (oldest dropped and counted when full) and never blocks, so a
reader, recorder or detector is never slowed by a slow sink. The hub thread delivers each
event to every sink in order (the `events` table, the MQTT service) and, once a second, polls
the injected `watch` callables and turns state changes into events (a stream going online or
offline, recording starting or stopping, a stream added or removed, the storage pressure
level changing) — state that lives in threads we do not own is compared, not hooked.
`run_soon()` runs a callable on the hub thread (MQTT commands: starting a recorder must not
stall the MQTT network loop). Stopped by the ShutdownCoordinator at PRIORITY_DETECTION + 1,
before the MQTT client, so what it hands over is still flushed.

This module imports no other subsystem: events are plain frozen dataclasses; the daemon
(lightnvr/app.py) wires the sources and the sinks. docs/mqtt.md lists every event kind.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lightnvr.core.clock import SYSTEM_CLOCK, Clock
from lightnvr.core.heartbeat import Heartbeat

log = logging.getLogger(__name__)

DEFAULT_CAPACITY = 1000
WATCH_PERIOD_SECONDS = 1.0
STARTUP_DETAIL = "known at start-up"   # detail of the first poll's STREAM_ADDED events


class EventKind(enum.Enum):
    """What happened; the value is the name used in the events table and on MQTT."""

    DETECTION = "detection"            # objects seen (or motion) on a stream
    DETECTION_END = "detection_end"    # an external trigger said the event is over
    RECORDING_STARTED = "recording_started"
    RECORDING_STOPPED = "recording_stopped"
    STREAM_ONLINE = "stream_online"
    STREAM_OFFLINE = "stream_offline"
    STREAM_ADDED = "stream_added"
    STREAM_REMOVED = "stream_removed"
    STORAGE_PRESSURE = "storage_pressure"


@dataclass(frozen=True, slots=True)
class DetectedObject:
    """One detected object; the box is normalised to 0..1 (a whole-frame trigger: 0,0,1,1)."""

    label: str
    confidence: float
    x: float = 0.0
    y: float = 0.0
    width: float = 1.0
    height: float = 1.0
    zone_id: str = ""


@dataclass(frozen=True, slots=True)
class NvrEvent:
    """One event. `stream` is empty for node-wide events (storage pressure)."""

    kind: EventKind
    stream: str
    timestamp: float
    objects: tuple[DetectedObject, ...] = ()
    detail: str = ""      # free text: the stream's error, the recording's reason, the level
    snapshot: str = ""    # a detection's JPEG, /api/snapshots/... ("" when none was saved)


@dataclass(frozen=True, slots=True)
class StreamState:
    """What the watcher compares between polls, per stream."""

    name: str
    online: bool
    recording: bool
    error: str = ""


@dataclass
class _Watched:
    """What the previous poll saw (None: no poll yet)."""

    streams: dict[str, StreamState] | None = None
    storage_level: str | None = None


class EventHub:
    """See the module doc. `emit` and `run_soon` are safe from any thread."""

    dropped: int
    delivered: int

    def __init__(self, capacity: int = DEFAULT_CAPACITY, clock: Clock | None = None,
                 heartbeat: Heartbeat | None = None) -> None:
        self._capacity = capacity
        self._clock = clock or SYSTEM_CLOCK
        self._heartbeat = heartbeat
        self._cond = threading.Condition()
        self._queue: deque[NvrEvent | Callable[[], None]] = deque()
        self._closed = False
        self._sinks: list[Callable[[NvrEvent], object]] = []
        self._streams_source: Callable[[], Sequence[StreamState]] | None = None
        self._storage_source: Callable[[], str] | None = None
        self._watched = _Watched()
        self._periodic: list[Callable[[], None]] = []
        self._thread: threading.Thread | None = None
        self.dropped = 0
        self.delivered = 0

    # -- wiring (before start) -------------------------------------------------------------
    def add_sink(self, sink: Callable[[NvrEvent], object]) -> None:
        """`sink(event)` runs on the hub thread for every event, in emission order."""
        self._sinks.append(sink)

    def watch_streams(self, source: Callable[[], Sequence[StreamState]]) -> None:
        """Poll `source` for stream state changes (online/offline, recording, added/removed)."""
        self._streams_source = source

    def watch_storage(self, source: Callable[[], str]) -> None:
        """Poll `source` for the storage pressure level name (normal, warning, ...)."""
        self._storage_source = source

    def add_periodic(self, fn: Callable[[], None]) -> None:
        """Run `fn` on the hub thread at every watch tick (it keeps its own schedule)."""
        self._periodic.append(fn)

    # -- producers -------------------------------------------------------------------------
    def emit(self, event: NvrEvent) -> None:
        """Queue `event`; never blocks. When full the oldest queued item is dropped (counted)."""
        self._put(event)

    def run_soon(self, fn: Callable[[], None]) -> None:
        """Run `fn` on the hub thread after what is queued before it."""
        self._put(fn)

    def _put(self, item: NvrEvent | Callable[[], None]) -> None:
        with self._cond:
            if self._closed:
                return
            if len(self._queue) >= self._capacity:
                self._queue.popleft()
                self.dropped += 1
                if self.dropped in (1, 10, 100) or self.dropped % 1000 == 0:
                    log.warning("event hub full: %d events dropped so far", self.dropped)
            self._queue.append(item)
            self._cond.notify()

    # -- thread ----------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="events", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        log.info("event hub started")
        next_watch = self._clock.monotonic()
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    wait = next_watch - self._clock.monotonic()
                    if wait <= 0:
                        break
                    self._cond.wait(wait)
                if self._closed and not self._queue:
                    break
                item = self._queue.popleft() if self._queue else None
            if item is not None:
                self._deliver(item)
            if self._clock.monotonic() >= next_watch:
                next_watch = self._clock.monotonic() + WATCH_PERIOD_SECONDS
                self._watch()
            if self._heartbeat is not None:
                self._heartbeat.beat()
        log.info("event hub exited (%d delivered, %d dropped)", self.delivered, self.dropped)

    def _deliver(self, item: NvrEvent | Callable[[], None]) -> None:
        if not isinstance(item, NvrEvent):
            try:
                item()
            except Exception:
                log.error("event hub task failed", exc_info=True)
            return
        for sink in self._sinks:
            try:
                sink(item)
            except Exception:
                log.error("event sink %r failed on %s", sink, item.kind.value, exc_info=True)
        self.delivered += 1

    def _watch(self) -> None:
        for fn in self._periodic:
            try:
                fn()
            except Exception:
                log.error("periodic event task failed", exc_info=True)
        try:
            for event in self._changes():
                self._deliver(event)
        except Exception:
            log.error("event watcher failed", exc_info=True)

    def _changes(self) -> list[NvrEvent]:
        """Events for what changed since the previous poll (none for the first poll)."""
        now = self._clock.wall()
        out: list[NvrEvent] = []
        if self._streams_source is not None:
            current = {s.name: s for s in self._streams_source()}
            before = self._watched.streams
            self._watched.streams = current
            # The first poll compares with nothing, so sinks learn every stream and its state;
            # its "added" events say so (STARTUP_DETAIL) and are not history.
            changes = stream_changes(before or {}, current, now)
            if before is None:
                changes = [NvrEvent(e.kind, e.stream, e.timestamp, e.objects, STARTUP_DETAIL)
                           if e.kind is EventKind.STREAM_ADDED else e for e in changes]
            out += changes
        if self._storage_source is not None:
            level = self._storage_source()
            if self._watched.storage_level is not None and level != self._watched.storage_level:
                out.append(NvrEvent(EventKind.STORAGE_PRESSURE, "", now, detail=level))
            self._watched.storage_level = level
        return out

    def streams(self) -> list[StreamState]:
        """The stream states of the last poll (hub thread or any thread; a snapshot)."""
        return sorted((self._watched.streams or {}).values(), key=lambda s: s.name)

    def storage_level(self) -> str:
        return self._watched.storage_level or "normal"

    def stop(self, timeout: float) -> None:
        """Deliver what is queued (within `timeout`), then end the thread."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        t = self._thread
        if t is not None:
            t.join(timeout)
            if t.is_alive():
                log.warning("event hub did not stop within %.1f s", timeout)


def stream_changes(before: dict[str, StreamState], after: dict[str, StreamState],
                   now: float) -> list[NvrEvent]:
    """The events that turn the `before` stream states into `after`."""
    out: list[NvrEvent] = []
    for name in sorted(before.keys() - after.keys()):
        if before[name].recording:
            out.append(NvrEvent(EventKind.RECORDING_STOPPED, name, now, detail="stream removed"))
        out.append(NvrEvent(EventKind.STREAM_REMOVED, name, now))
    for name in sorted(after):
        new, old = after[name], before.get(name)
        if old is None:
            out.append(NvrEvent(EventKind.STREAM_ADDED, name, now))
            old = StreamState(name, False, False)
        if new.online != old.online:
            kind = EventKind.STREAM_ONLINE if new.online else EventKind.STREAM_OFFLINE
            out.append(NvrEvent(kind, name, now, detail=new.error))
        if new.recording != old.recording:
            kind = EventKind.RECORDING_STARTED if new.recording else EventKind.RECORDING_STOPPED
            out.append(NvrEvent(kind, name, now))
    return out


def is_startup_announcement(event: NvrEvent) -> bool:
    """True for the first poll's "stream added" events: sinks that keep history skip them."""
    return event.kind is EventKind.STREAM_ADDED and event.detail == STARTUP_DETAIL
