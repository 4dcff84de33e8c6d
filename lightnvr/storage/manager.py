"""Storage manager: disk heartbeat, retention, disk pressure, crash-safe deletion, FS<->DB sync.

Design: one thread, "storage", owned by ``StorageManager`` (a core.worker_thread.WorkerThread:
started by ``start()``, stopped by ``stop(timeout)`` at shutdown priority PRIORITY_STORAGE).
Its loop waits on one wake event with a timeout to the next due job:

- every ``heartbeat_interval_seconds``: ``statvfs`` of the storage path -> free bytes/percent
  and a level (NORMAL/WARNING/CRITICAL/EMERGENCY from ``pressure_*_pct``); under EMERGENCY or
  below ``min_free_pct`` the pressure steps of the retention procedure run at once;
- every ``retention_interval_minutes`` and whenever ``request_retention()`` sets the wake
  event: a full retention pass (docs/storage.md, "Retention").

When EMERGENCY persists after a pass (nothing left to remove), ``pause_recording(reason)`` is
called once; when free space is back ``RESUME_MARGIN_PCT`` over the emergency line,
``pause_recording(None)`` resumes recording. The API's cleanup and sync (``cleanup_now``,
``sync_now``) are jobs queued to the thread (storage/jobs.py), run between its own steps: a
web worker waits for one as long as it chooses, never for a pass it did not ask for (on the
caller's thread only while the thread does not run). ``run_retention``, ``reconcile`` and
``delete_recording`` run on the caller's thread.

Locks: ``_pass_lock`` serializes passes (thread, start-up reconciliation, direct callers);
``_state_lock`` guards the health snapshot and the config swap of ``reconfigure`` - it is held
for assignments only, never across SQL, statvfs or a pass, so status requests and
``POST /api/settings`` answer at once. A pass reads ``self.config`` once, when it starts, and
keeps that config to its end. Order: ``_pass_lock`` before ``_state_lock``.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import TYPE_CHECKING, Any, TypeVar

from lightnvr.core.clock import SYSTEM_CLOCK, Clock
from lightnvr.core.event_snapshots import prune_event_snapshots
from lightnvr.core.worker_thread import WorkerThread
from lightnvr.database.detections import DetectionsRepo
from lightnvr.database.manager import Database
from lightnvr.database.recordings import RecordingsRepo
from lightnvr.database.streams import StreamsRepo
from lightnvr.storage.deletion import delete_recording as _delete
from lightnvr.storage.jobs import JobQueue
from lightnvr.storage.probe import ProbeResult, probe_segment
from lightnvr.storage.retention import RetentionPass, effective_days
from lightnvr.storage.sync import Reconciler, SyncResult

if TYPE_CHECKING:
    from lightnvr.core.config import StorageConfig
    from lightnvr.core.heartbeat import HeartbeatRegistry

__all__ = ["RetentionResult", "StorageHealth", "StorageLevel", "StorageManager", "SyncResult"]

log = logging.getLogger(__name__)

RESUME_MARGIN_PCT = 1.0  # hysteresis: resume only this far above the emergency line
_T = TypeVar("_T")


class StorageLevel(IntEnum):
    NORMAL = 0
    WARNING = 1
    CRITICAL = 2
    EMERGENCY = 3


def level_for(free_pct: float, config: StorageConfig) -> StorageLevel:
    """The pressure level of ``free_pct`` percent free (strictly under a line = that level)."""
    if free_pct < config.pressure_emergency_pct:
        return StorageLevel.EMERGENCY
    if free_pct < config.pressure_critical_pct:
        return StorageLevel.CRITICAL
    if free_pct < config.pressure_warning_pct:
        return StorageLevel.WARNING
    return StorageLevel.NORMAL


@dataclass(frozen=True)
class StorageHealth:
    path: str
    total_bytes: int
    free_bytes: int
    free_pct: float
    recordings_bytes: int
    recordings_count: int
    level: StorageLevel
    recording_paused: bool
    last_retention_at: float | None
    last_retention_deleted: int

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "total_bytes": self.total_bytes,
                "free_bytes": self.free_bytes, "used_bytes": self.total_bytes - self.free_bytes,
                "free_pct": round(self.free_pct, 2), "recordings_bytes": self.recordings_bytes,
                "recordings_count": self.recordings_count, "level": self.level.name.lower(),
                "recording_paused": self.recording_paused,
                "last_retention_at": self.last_retention_at,
                "last_retention_deleted": self.last_retention_deleted}


@dataclass(frozen=True)
class RetentionResult:
    deleted: int
    freed_bytes: int
    errors: int


class StorageManager(WorkerThread):
    """Keeps the storage path within its rules; see the module docstring for the thread."""

    def __init__(self, config: StorageConfig, db: Database,
                 pause_recording: Callable[[str | None], None] | None = None,
                 heartbeats: HeartbeatRegistry | None = None,
                 clock: Clock | None = None,
                 probe: Callable[[str], ProbeResult | None] | None = None,
                 statvfs: Callable[[str], Any] | None = None) -> None:
        super().__init__("storage")
        self.config = config
        self.root = os.path.abspath(config.path)
        self._db = db
        self._recordings = RecordingsRepo(db)
        self._streams = StreamsRepo(db)
        self._detections = DetectionsRepo(db)
        self._pause_cb = pause_recording
        self._heartbeats = heartbeats
        self._clock = clock or SYSTEM_CLOCK
        self._probe = probe or probe_segment
        self._statvfs = statvfs or os.statvfs
        self._pass_lock = threading.RLock()
        self._state_lock = threading.Lock()
        self._wake = threading.Event()
        self._retention_wanted = threading.Event()
        self._jobs = JobQueue()
        self._paused = False
        self._pause_reason: str | None = None
        self._last_retention_at: float | None = None
        self._last_retention_deleted = 0
        self._health: StorageHealth | None = None
        self._started_once = False

    def reconfigure(self, config: StorageConfig) -> None:
        """Apply new retention and pressure settings from the next pass on.

        The storage path itself cannot change while recorders write under it: a different
        `path` raises ValueError (it needs a restart).
        """
        if os.path.abspath(config.path) != self.root:
            raise ValueError("[storage] path changes need a restart")
        # a running pass keeps the config it started with: no need to wait for it
        with self._state_lock:
            self.config = config

    # -- thread ---------------------------------------------------------------------------------

    def start(self) -> bool:
        """Start thread "storage" (idempotent: False when it runs already)."""
        if self.is_alive():
            return False
        os.makedirs(self.root, exist_ok=True)
        self._started_once = True
        if self._heartbeats is not None:
            self.watch(self._heartbeats, 3 * self.config.heartbeat_interval_seconds + 60)
        return super().start()

    def _wake_up(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        log.info("thread storage started (%s)", self.root)
        hb_period = float(self.config.heartbeat_interval_seconds)
        ret_period = float(self.config.retention_interval_minutes) * 60.0
        next_hb = next_ret = self._clock.monotonic()
        try:
            while not self._stop.is_set():
                now = self._clock.monotonic()
                if now >= next_hb:
                    self._guarded("heartbeat", self.heartbeat)
                    next_hb = now + hb_period
                if self._retention_wanted.is_set() or now >= next_ret:
                    self._retention_wanted.clear()
                    self._guarded("retention pass", self.run_retention)
                    next_ret = self._clock.monotonic() + ret_period
                self._jobs.run_pending()
                self._beat()
                self._wake.wait(max(0.0, min(next_hb, next_ret) - self._clock.monotonic()))
                self._wake.clear()  # before the next look at the jobs: no request is missed
        finally:
            self._jobs.cancel_all()  # their callers run them themselves (_thread_job)
            log.info("thread storage exiting")

    def _thread_job(self, kind: str, fn: Callable[[], _T], wait: float) -> _T | None:
        """`fn()` run by the storage thread, waiting up to `wait` seconds for it; None when it
        has not finished by then (it still runs). Without a running thread, run here."""
        if self.is_alive() and not self._stop.is_set() and not self.on_thread():
            done = self._jobs.submit(kind, fn)
            self._wake.set()
            if self._stop.is_set():  # stop() came meanwhile: the thread may be past its cancel
                self._jobs.cancel_all()
            try:
                result: _T = done.result(timeout=wait)
                return result
            except TimeoutError:
                return None
            except CancelledError:
                pass  # the thread stopped before it got to the job
        return fn()

    def cleanup_now(self, wait: float) -> RetentionResult | None:
        """A retention pass asked for by a user (POST /api/storage/cleanup), run by the storage
        thread after what it is doing; its result, or None when it has not finished within
        `wait` seconds (it runs anyway). Requests while one is queued join that one."""
        return self._thread_job("retention pass", self.run_retention, wait)

    def sync_now(self, wait: float) -> SyncResult | None:
        """``reconcile()`` for POST /api/recordings/sync, run by the storage thread like
        ``cleanup_now``; None when it has not finished within `wait` seconds."""
        return self._thread_job("sync", self.reconcile, wait)

    def _guarded(self, what: str, fn: Callable[[], object]) -> None:
        try:
            fn()
        except Exception:
            log.error("storage: %s failed", what, exc_info=True)

    # -- measurements ---------------------------------------------------------------------------

    def _free(self) -> tuple[int, int, float]:
        st = self._statvfs(self.root)
        total = int(st.f_blocks * st.f_frsize)
        free = int(st.f_bavail * st.f_frsize)
        return total, free, (100.0 * free / total if total else 100.0)

    def _free_pct(self) -> float:
        return self._free()[2]

    def _measure(self) -> StorageHealth:
        total, free, pct = self._free()
        size, count = self._recordings.total_size(), self._recordings.count()  # not under a lock
        with self._state_lock:
            h = StorageHealth(
                path=self.root, total_bytes=total, free_bytes=free, free_pct=pct,
                recordings_bytes=size, recordings_count=count, level=level_for(pct, self.config),
                recording_paused=self._paused, last_retention_at=self._last_retention_at,
                last_retention_deleted=self._last_retention_deleted)
            old, self._health = self._health, h
        if old is None or old.level != h.level:
            log_fn = log.warning if h.level >= StorageLevel.CRITICAL else log.info
            log_fn("storage %s: %.1f%% free, level %s", self.root, pct, h.level.name)
        return h

    def health(self) -> StorageHealth:
        """The latest heartbeat's figures (measured now if there was none yet)."""
        with self._state_lock:
            h = self._health
        return h if h is not None else self._measure()

    def heartbeat(self) -> StorageHealth:
        """One statvfs check; runs the pressure steps at once when free space is short."""
        h = self._measure()
        cfg = self.config
        short_min_free = cfg.auto_delete_oldest and h.free_pct < cfg.min_free_pct
        if h.level == StorageLevel.EMERGENCY or short_min_free or self._paused:
            with self._pass_lock:
                p = self._new_pass(cfg)
                p.min_free()
                if level_for(self._free_pct(), cfg) == StorageLevel.EMERGENCY:
                    p.emergency(RESUME_MARGIN_PCT)
                self._settle_pause(cfg)
            if p.stats.deleted:
                log.warning("disk pressure: removed %d recordings (%d bytes) on %s",
                            p.stats.deleted, p.stats.freed_bytes, self.root)
            h = self._measure()
        return h

    # -- retention ------------------------------------------------------------------------------

    def _new_pass(self, cfg: StorageConfig) -> RetentionPass:
        # only the storage thread's own passes end early at shutdown; a direct caller's pass
        # (or one run after stop()) always completes
        return RetentionPass(self._recordings, self._streams.list_with_deleted(), cfg,
                             self._clock.wall(), self._delete_row, self._free_pct,
                             beat=self._beat, stop=self._stop if self.on_thread() else None)

    def _delete_row(self, rec: Any) -> int:
        return _delete(self._recordings, self.root, rec)

    def run_retention(self) -> RetentionResult:
        """A full retention pass (docs/storage.md, Retention steps 1-6), synchronously."""
        with self._pass_lock:
            cfg = self.config  # this pass's rules, whatever reconfigure() does meanwhile
            p = self._new_pass(cfg)
            p.age_rules()
            p.overrides()
            p.stream_quotas()
            p.global_quota()
            p.min_free()
            if level_for(self._free_pct(), cfg) == StorageLevel.EMERGENCY:
                p.emergency(RESUME_MARGIN_PCT)
            self._settle_pause(cfg)
            with self._state_lock:
                self._last_retention_at = self._clock.wall()
                self._last_retention_deleted = p.stats.deleted
        pruned = self._prune_detections(cfg)
        if pruned:
            log.info("retention pass: %d detections past retention removed", pruned)
        if p.stats.deleted or p.stats.errors:
            log.info("retention pass: %d recordings removed (%s), %d bytes freed, %d errors",
                     p.stats.deleted, p.stats.by_step, p.stats.freed_bytes, p.stats.errors)
        self._measure()
        return RetentionResult(p.stats.deleted, p.stats.freed_bytes, p.stats.errors)

    def _prune_detections(self, cfg: StorageConfig) -> int:
        """Retention step 7: detections past their stream's retention with no recording left,
        and the event snapshots (JPEGs) of that age."""
        streams = {s.name: s for s in self._streams.list_with_deleted()}
        g = cfg.retention_days
        removed = 0
        for name in sorted(set(self._detections.stream_names()) | set(streams)):
            s = streams.get(name)
            days = [effective_days(s.retention_days if s else -1, g),
                    effective_days(s.detection_retention_days if s else -1, g)]
            if 0 in days:  # unlimited for either kind: keep every detection
                continue
            cutoff = self._clock.wall() - max(days) * 86400
            removed += self._detections.prune_unattached(name, cutoff)
            jpegs = prune_event_snapshots(os.path.join(self.root, "snapshots"), name, cutoff)
            if jpegs:
                log.info("retention pass: %d event snapshots of %s removed", jpegs, name)
        return removed

    def request_retention(self) -> None:
        """Ask the storage thread for a retention pass soon."""
        self._retention_wanted.set()
        self._wake.set()

    def _settle_pause(self, cfg: StorageConfig) -> None:
        """Pause recording when EMERGENCY outlived a pass; resume once space is back."""
        pct = self._free_pct()
        line = cfg.pressure_emergency_pct
        reason: str | None
        if pct < line and not self._paused:
            reason = (f"disk full: {pct:.1f}% free on {self.root} (emergency line {line}%) "
                      "and no unprotected recording left to remove")
            log.critical("storage: pausing recording: %s", reason)
        elif self._paused and pct >= line + RESUME_MARGIN_PCT:
            reason = None
            log.warning("storage: %.1f%% free on %s again, resuming recording", pct, self.root)
        else:
            return
        self._paused = reason is not None
        self._pause_reason = reason
        with self._state_lock:
            if self._health is not None:
                self._health = replace(self._health, recording_paused=self._paused)
        if self._pause_cb is not None:
            try:
                self._pause_cb(reason)
            except Exception:
                log.error("storage: pause_recording(%r) failed", reason, exc_info=True)

    @property
    def pause_reason(self) -> str | None:
        """Why recording is paused (None when it is not)."""
        return self._pause_reason

    # -- deletion and reconciliation ----------------------------------------------------------

    def delete_recording(self, recording_id: int) -> bool:
        """Crash-safe deletion (docs/storage.md, Deletion); False if the id is unknown.

        A user's delete ignores ``protected`` (that flag guards automatic removal only).
        """
        rec = self._recordings.get(recording_id)
        if rec is None:
            return False
        _delete(self._recordings, self.root, rec)
        return True

    def reconcile(self, startup: bool | None = None) -> SyncResult:
        """Bring rows and files in line (docs/storage.md, Start-up reconciliation).

        ``startup=True`` (no recorder running yet) treats every incomplete row as interrupted;
        ``False`` leaves alone files written in the last ``LIVE_GRACE_SECONDS`` (a running
        recorder's), for ``POST /api/recordings/sync``. ``None`` (default) picks: start-up
        mode until ``start()`` has been called, live mode after.
        """
        if startup is None:
            startup = not self._started_once
        with self._pass_lock:
            hls = self.config.path_hls
            excludes = (os.path.abspath(hls),) if hls else ()
            result = Reconciler(self._recordings, self.root, self._probe, self._clock.wall(),
                                startup, excludes).run()
        self._measure()
        return result
