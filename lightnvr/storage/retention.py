"""Retention rules: which recordings go, in which order (docs/storage.md, "Retention").

A pass is a sequence of numbered steps; each picks removable rows oldest first from the
database and hands them to the crash-safe deleter. Protected rows are never picked; rows with
a per-recording override are judged by their override only (steps 1-5), and only the
emergency step (6) may take them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol

from lightnvr.core.stream_config import StreamConfig
from lightnvr.database.recordings import Recording, RecordingsRepo

log = logging.getLogger(__name__)

DAY = 86400.0
CONTINUOUS: tuple[str, ...] = ("scheduled", "manual")
DETECTION: tuple[str, ...] = ("detection",)
_BATCH = 200


class RetentionSettings(Protocol):
    """The StorageConfig fields retention reads."""

    @property
    def retention_days(self) -> int: ...
    @property
    def max_size(self) -> int: ...
    @property
    def min_free_pct(self) -> int: ...
    @property
    def auto_delete_oldest(self) -> bool: ...
    @property
    def pressure_emergency_pct(self) -> float: ...   # percent, decimals allowed (LightNVR)


def effective_days(stream_days: int, global_days: int) -> int:
    """Tri-state: -1 inherits the global ``[storage] retention_days``; 0 means unlimited."""
    return global_days if stream_days < 0 else stream_days


def override_expired(rec: Recording, now: float) -> bool:
    """An override of N days keeps the recording N days from its start; 0 keeps it forever."""
    days = rec.retention_override_days
    return days is not None and days > 0 and rec.start_time + days * DAY < now


_STUCK_REPEAT_SECONDS = 600.0
_last_stuck: dict[str, float] = {}


def _warn_stuck(key: str, msg: str, *args: object) -> None:
    """Warn that a rule cannot be met; repeated at most every 10 minutes (heartbeats retry
    the pressure steps every few seconds, and one warning per retry would flood the log)."""
    now = time.monotonic()
    if now - _last_stuck.get(key, -_STUCK_REPEAT_SECONDS) >= _STUCK_REPEAT_SECONDS:
        _last_stuck[key] = now
        log.warning(msg, *args)


def _within(used: list[int], limit: int) -> bool:
    return used[0] <= limit


@dataclass
class PassStats:
    deleted: int = 0
    freed_bytes: int = 0
    errors: int = 0
    by_step: dict[str, int] = field(default_factory=dict)


class RetentionPass:
    """One retention pass; ``delete`` is the crash-safe deleter, ``free_pct`` re-reads statvfs."""

    def __init__(self, repo: RecordingsRepo, streams: Sequence[StreamConfig],
                 settings: RetentionSettings, now: float, delete: Callable[[Recording], int],
                 free_pct: Callable[[], float], beat: Callable[[], None] = lambda: None,
                 stop: threading.Event | None = None) -> None:
        self.repo = repo
        self.streams = {s.name: s for s in streams}
        self.settings = settings
        self.now = now
        self._delete = delete
        self._free_pct = free_pct
        self._beat = beat
        self._stop = stop or threading.Event()
        self.stats = PassStats()

    # -- machinery ------------------------------------------------------------------------------

    def _remove(self, rec: Recording, step: str) -> bool:
        try:
            self.stats.freed_bytes += self._delete(rec)
        except Exception:
            self.stats.errors += 1
            log.error("retention (%s): could not delete recording %d (%s)", step, rec.id,
                      rec.file_path, exc_info=True)
            return False
        finally:
            self._beat()
        self.stats.deleted += 1
        self.stats.by_step[step] = self.stats.by_step.get(step, 0) + 1
        return True

    def _drain(self, step: str, fetch: Callable[[], list[Recording]],
               done: Callable[[], bool] = lambda: False,
               keep: Callable[[Recording], bool] = lambda r: False,
               used: list[int] | None = None) -> bool:
        """Delete fetched rows oldest first until ``done()``; False when rows ran out first.

        ``used`` (a one-item list) is the byte count a quota step watches: each deleted row's
        size leaves it, so the step needs no SUM query per deletion.
        """
        seen: set[int] = set()
        while not self._stop.is_set():
            if done():
                return True
            batch = [r for r in fetch() if r.id not in seen]
            if not batch:
                return done()
            for rec in batch:
                seen.add(rec.id)
                if keep(rec):
                    continue
                if done():
                    return True
                if self._remove(rec, step) and used is not None:
                    used[0] -= rec.size_bytes
        return done()

    def _stream_names(self) -> list[str]:
        return sorted(set(self.streams) | set(self.repo.stream_names()))

    def _rule(self, name: str) -> StreamConfig | None:
        return self.streams.get(name)

    # -- steps (docs/storage.md, Retention) ------------------------------------------------------

    def age_rules(self) -> None:
        """Retention step 1: per stream, continuous and detection recordings past their days."""
        g = self.settings.retention_days
        for name in self._stream_names():
            s = self._rule(name)
            for triggers, days in (
                    (CONTINUOUS, effective_days(s.retention_days if s else -1, g)),
                    (DETECTION, effective_days(s.detection_retention_days if s else -1, g))):
                if days <= 0:
                    continue
                cutoff = self.now - days * DAY
                self._drain("age", partial(self.repo.removable, stream=name, triggers=triggers,
                                           started_before=cutoff, limit=_BATCH))

    def overrides(self) -> None:
        """Retention step 2: recordings whose per-recording override has run out."""
        self._drain("override",
                    lambda: self.repo.removable(overridden=True, started_before=self.now,
                                                limit=_BATCH),
                    keep=lambda r: not override_expired(r, self.now))

    def stream_quotas(self) -> None:
        """Retention step 3: per-stream ``max_storage_mb``, oldest first."""
        for name in self._stream_names():
            s = self._rule(name)
            if s is None or s.max_storage_mb <= 0:
                continue
            quota = s.max_storage_mb * 1024 * 1024
            used = [self.repo.total_size(name)]
            if not self._drain("stream_quota",
                               partial(self.repo.removable, stream=name, limit=_BATCH),
                               done=partial(_within, used, quota), used=used):
                _warn_stuck(f"quota:{name}",
                            "stream %s uses %d bytes, over its max_storage_mb %d, but only "
                            "protected or kept recordings remain", name, used[0],
                            s.max_storage_mb)

    def global_quota(self) -> None:
        """Retention step 4: ``[storage] max_size`` over all streams, oldest first."""
        limit = self.settings.max_size
        if limit <= 0:
            return
        used = [self.repo.total_size()]
        if not self._drain("max_size", lambda: self.repo.removable(limit=_BATCH),
                           done=lambda: used[0] <= limit, used=used):
            _warn_stuck("max_size",
                        "recordings use %d bytes, over max_size %d, but only protected or "
                        "kept recordings remain", used[0], limit)

    def min_free(self) -> None:
        """Retention step 5: keep ``min_free_pct`` free (when ``auto_delete_oldest``)."""
        target = self.settings.min_free_pct
        if not self.settings.auto_delete_oldest or target <= 0:
            return
        if not self._drain("min_free", lambda: self.repo.removable(limit=_BATCH),
                           done=lambda: self._free_pct() >= target):
            _warn_stuck("min_free",
                        "free space %.1f%% is under min_free_pct %d%%, but only protected or "
                        "kept recordings remain", self._free_pct(), target)

    def emergency(self, margin_pct: float = 0.0) -> bool:
        """Retention step 6: under EMERGENCY remove the oldest unprotected regardless of age
        (overridden ones too) until free space is ``margin_pct`` over the emergency line, so
        the next segment does not cross it straight away.

        False when the disk is still under the emergency line (nothing removable was left).
        """
        line = self.settings.pressure_emergency_pct
        if self.settings.auto_delete_oldest:
            self._drain("emergency",
                        lambda: self.repo.removable(overridden=None, limit=_BATCH),
                        done=lambda: self._free_pct() >= line + margin_pct)
        return self._free_pct() >= line
