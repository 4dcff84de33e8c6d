"""Filesystem <-> database reconciliation (docs/storage.md, "Start-up reconciliation")."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import cast

from lightnvr.core.recordings_store import SegmentOpened, TriggerType
from lightnvr.database.recordings import Recording, RecordingsRepo
from lightnvr.storage.deletion import delete_recording, unlink_segment
from lightnvr.storage.lightnvr_layout import lightnvr_file
from lightnvr.storage.paths import (
    empty_date_dirs,
    orphan_thumbnails,
    prune_empty_parents,
    recording_file,
    repaired_path,
    segment_files,
    stored_path,
    stream_of,
)
from lightnvr.storage.probe import ProbeResult, wall_start

log = logging.getLogger(__name__)

# Outside start-up, a file written to within this many seconds belongs to a running recorder
# (fragments are appended every GOP) and is left alone.
LIVE_GRACE_SECONDS = 120.0

Probe = Callable[[str], ProbeResult | None]


@dataclass
class SyncResult:
    rows_removed: int = 0
    files_registered: int = 0
    rows_repaired: int = 0
    paths_repaired: int = 0
    deletions_finished: int = 0
    files_removed: int = 0
    thumbnails_removed: int = 0
    dirs_removed: int = 0
    errors: int = 0
    skipped_live: int = 0


class Reconciler:
    """One reconciliation run over ``root``; ``startup`` means no recorder is running yet."""

    def __init__(self, repo: RecordingsRepo, root: str, probe: Probe, now: float,
                 startup: bool, excludes: tuple[str, ...] = ()) -> None:
        self.repo = repo
        self.root = os.path.abspath(root)
        self.probe = probe
        self.now = now
        self.startup = startup
        self.excludes = excludes
        self.result = SyncResult()
        self._streams: list[str] | None = None  # names of recorded streams, read once

    def run(self) -> SyncResult:
        for step in (self.canonical_paths, self.finish_deletions, self.incomplete_rows,
                     self.missing_files, self.unknown_files, self.stray_thumbnails,
                     self.empty_dirs):
            try:
                step()
            except Exception:
                self.result.errors += 1
                log.error("reconciliation step %s failed", step.__name__, exc_info=True)
        r = self.result
        log.info("reconciliation of %s: %d paths repaired, %d deletions finished, %d rows "
                 "repaired, %d rows removed, %d files registered, %d files removed, %d errors",
                 self.root, r.paths_repaired, r.deletions_finished, r.rows_repaired,
                 r.rows_removed, r.files_registered, r.files_removed, r.errors)
        return r

    def _live(self, path: str) -> bool:
        if self.startup:
            return False
        try:
            return os.path.getmtime(path) > self.now - LIVE_GRACE_SECONDS
        except OSError:
            return False

    def _guard(self, what: str, rec_or_path: object, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception:
            self.result.errors += 1
            log.error("reconciliation: %s %s failed", what, rec_or_path, exc_info=True)

    def canonical_paths(self) -> None:
        """Step 0: rows written before paths were canonical get the canonical form.

        Runs on every reconciliation (it only touches rows that need it, so it is idempotent)
        and before the other steps, which would otherwise miss those rows' files: drop the
        rows as "file gone", register the files as new rows and lose ids, protection and tags.
        """
        for rec in self.repo.all():
            fixed = repaired_path(self.root, rec.file_path)
            if fixed is None or fixed == rec.file_path:
                continue

            def move(rec: Recording = rec, fixed: str = fixed) -> None:
                kept = self.repo.set_file_path(rec.id, fixed)
                self.result.paths_repaired += 1
                log.info("recording %d: stored path %s is now %s%s", rec.id, rec.file_path,
                         fixed, "" if kept == rec.id else f" (merged into recording {kept})")
            self._guard("repairing the path of", rec.file_path, move)

    def finish_deletions(self) -> None:
        """Step 1: finish deletions a crash interrupted (rows marked ``deleting``)."""
        for rec in self.repo.pending_deletions():
            def finish(rec: Recording = rec) -> None:
                delete_recording(self.repo, self.root, rec)
                self.result.deletions_finished += 1
            self._guard("finishing deletion of", rec.file_path, finish)

    def incomplete_rows(self) -> None:
        """Step 2: repair incomplete rows from their files, or drop unplayable ones."""
        for rec in self.repo.incomplete():
            path = recording_file(self.root, rec.file_path)
            if self._live(path):
                self.result.skipped_live += 1
                continue
            self._guard("repairing", path, partial(self._repair, rec, path))

    def _repair(self, rec: Recording, path: str) -> None:
        info = self.probe(path) if os.path.exists(path) else None
        if info is None:
            # no playable frame (or no file): nothing to keep
            self.result.files_removed += int(os.path.exists(path))
            unlink_segment(self.root, path)
            self.repo.remove(rec.id)
            prune_empty_parents(self.root, path)
            self.result.rows_removed += 1
            log.warning("recording %d (%s) held no playable frame: removed", rec.id, path)
            return
        self.repo.repair(rec.id, rec.start_time + info.duration, os.path.getsize(path))
        if rec.width == 0 or not rec.codec:
            self.repo.update_media(rec.id, info.width, info.height, info.fps, info.codec)
        self.result.rows_repaired += 1
        log.info("recording %d (%s) repaired from its file: %.1f s", rec.id, path,
                 info.duration)

    def missing_files(self) -> None:
        """Step 3: rows whose files are gone are removed."""
        for rec in self.repo.all():
            if rec.deleting or not rec.is_complete:
                continue
            path = recording_file(self.root, rec.file_path)
            if not os.path.exists(path):
                def drop(rec: Recording = rec, path: str = path) -> None:
                    unlink_segment(self.root, path)  # stray thumbnails
                    self.repo.remove(rec.id)
                    self.result.rows_removed += 1
                    log.warning("recording %d: file %s is gone, row removed", rec.id, path)
                self._guard("removing row of", path, drop)

    def unknown_files(self) -> None:
        """Step 4: files with no row are registered (probed), or removed if unplayable."""
        known = {recording_file(self.root, p) for p in self.repo.all_paths()}
        for path in segment_files(self.root, self.excludes):
            if os.path.normpath(path) in known or self._live(path):
                continue
            self._guard("registering", path, partial(self._register, path))

    def _register(self, path: str) -> None:
        info = self.probe(path)
        if info is None:
            unlink_segment(self.root, path)
            prune_empty_parents(self.root, path)
            self.result.files_removed += 1
            log.warning("file %s has no row and no playable frame: removed", path)
            return
        # an injected probe may not know wall-clock times: fall back to name / mtime
        start = getattr(info, "start_time", None)
        if start is None:
            start = wall_start(path, {}, info.duration)
        stream, trigger = stream_of(self.root, path), cast(TriggerType, "scheduled")
        # LightNVR's layout (mp4/<sanitized stream>/..., docs/migrate.md): the stream is the
        # directory below mp4/, and its detection_*.mp4 files are detection recordings
        adopted = lightnvr_file(self.root, path, self._stream_names())
        if adopted is not None:
            stream, trigger = adopted.stream_name, adopted.trigger_type
        seg = SegmentOpened(stream_name=stream, file_path=stored_path(self.root, path),
                            start_time=start, width=info.width, height=info.height,
                            fps=info.fps, codec=info.codec,
                            trigger_type=trigger)
        self.repo.register(seg, start + info.duration, os.path.getsize(path))
        self.result.files_registered += 1
        log.info("file %s had no row: registered for stream %s", path, seg.stream_name)

    def _stream_names(self) -> list[str]:
        if self._streams is None:
            self._streams = self.repo.stream_names()
        return self._streams

    def stray_thumbnails(self) -> None:
        """Step 5: thumbnails whose segment is gone are removed."""
        for thumb in orphan_thumbnails(self.root, self.excludes):
            try:
                os.unlink(thumb)
                self.result.thumbnails_removed += 1
            except FileNotFoundError:
                pass

    def empty_dirs(self) -> None:
        """Step 6: empty date directories are removed."""
        for d in empty_date_dirs(self.root, self.excludes):
            try:
                os.rmdir(d)
                self.result.dirs_removed += 1 + prune_empty_parents(self.root, d)
            except OSError:
                pass
