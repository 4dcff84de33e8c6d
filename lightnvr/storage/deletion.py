"""Crash-safe removal of one recording: docs/storage.md, "Deleting a recording"."""

from __future__ import annotations

import logging
import os

from lightnvr.database.recordings import Recording, RecordingsRepo
from lightnvr.storage.paths import prune_empty_parents, recording_file, thumbnails_of

log = logging.getLogger(__name__)


def unlink_segment(root: str, file_path: str) -> int:
    """Unlink a segment file and its thumbnails; return the bytes freed (0 when gone already).

    ``file_path`` is a row's stored path (or a file name); paths.recording_file resolves it.

    A missing file is not an error (the deletion may be finishing after a crash); any other
    OSError propagates and leaves the row marked, to be finished later.
    """
    path = recording_file(root, file_path)
    freed = 0
    try:
        freed = os.stat(path).st_size
        os.unlink(path)
    except FileNotFoundError:
        freed = 0
    for thumb in thumbnails_of(path):
        try:
            freed += os.stat(thumb).st_size
            os.unlink(thumb)
        except FileNotFoundError:
            pass
    return freed


def delete_recording(repo: RecordingsRepo, root: str, rec: Recording) -> int:
    """Delete ``rec`` following the numbered steps; return the bytes freed.

    Each step is safe to repeat, so a crash anywhere leaves a state that start-up
    reconciliation finishes (Start-up reconciliation, step 1).
    """
    if not rec.deleting and not repo.mark_deleting(rec.id):  # Deletion step 1
        return 0  # the row went away meanwhile (another deletion won)
    freed = unlink_segment(root, rec.file_path)              # Deletion steps 2 and 3
    repo.remove(rec.id)                                       # Deletion step 4
    prune_empty_parents(root, recording_file(root, rec.file_path))  # Deletion step 5
    log.debug("deleted recording %d (%s), %d bytes", rec.id, rec.file_path, freed)
    return freed
