"""The RecordingsStore recorders write through: rows get the canonical path of their file.

Recorders know file names (``<storage.path>/<stream>/.../x.mp4``, relative to the working
directory when the configured path is); rows hold the path relative to the storage path
(docs/storage.md, Layout). This wrapper is where one becomes the other, so the recorder stays
free of the storage layout rules and the database of the storage root.
"""

from __future__ import annotations

from dataclasses import replace

from lightnvr.core.recordings_store import RecordingsStore, SegmentOpened
from lightnvr.storage.paths import stored_path


class CanonicalPathStore:
    """A RecordingsStore that stores ``file_path`` relative to ``root`` and delegates."""

    def __init__(self, inner: RecordingsStore, root: str) -> None:
        self._inner = inner
        self._root = root

    def segment_opened(self, segment: SegmentOpened) -> int:
        """Recording step 2 with the canonical path; ValueError for a file outside the root."""
        return self._inner.segment_opened(
            replace(segment, file_path=stored_path(self._root, segment.file_path)))

    def segment_closed(self, recording_id: int, end_time: float, size_bytes: int) -> None:
        self._inner.segment_closed(recording_id, end_time, size_bytes)

    def segment_discarded(self, recording_id: int) -> None:
        self._inner.segment_discarded(recording_id)
