"""LightNVR's (C) recording layout under ``[storage] path``, so its files are adopted in place.

LightNVR writes ``<storage_path>/mp4/<stream>/[YYYY/MM/DD/]recording_YYYYMMDD_HHMMSS.mp4``
(``src/video/recording_path.c``; ``detection_...mp4`` for its detection recordings), where
``<stream>`` is the stream name with every byte outside ``[A-Za-z0-9-]`` made ``_``
(``sanitize_stream_name``), and keeps each file's absolute path in ``recordings.file_path``.
Our rows hold paths relative to the storage path (storage/paths.py), so a LightNVR file is
simply ``mp4/<stream>/...`` to us: this module only says which stream and trigger such a file
belongs to, and where an imported row's file is now.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass

from lightnvr.core.recordings_store import TriggerType
from lightnvr.storage.paths import recording_file, repaired_path, stored_path

LIGHTNVR_MP4_DIR = "mp4"
_NAME = re.compile(r"^(?P<kind>recording|detection)_(?P<day>\d{8})_(?P<clock>\d{6})\.mp4$")


@dataclass(frozen=True, slots=True)
class LightNVRFile:
    """A segment file in LightNVR's layout."""

    stream_name: str
    trigger_type: TriggerType
    start_time: float  # from the file name (local time, as LightNVR wrote it)


@dataclass(frozen=True, slots=True)
class LocatedFile:
    """Where an imported row's file is: its canonical stored path and its size now."""

    file_path: str
    size_bytes: int


def sanitize_stream_name(name: str) -> str:
    """LightNVR's directory name for stream ``name`` (each byte outside [A-Za-z0-9-] -> _)."""
    return "".join(chr(b) if chr(b).isascii() and (chr(b).isalnum() or b == 0x2D) else "_"
                   for b in name.encode("utf-8"))


def lightnvr_file(root: str, path: str, streams: Iterable[str] = ()) -> LightNVRFile | None:
    """What ``path`` is when it lies in LightNVR's layout under ``root``, else None.

    The directory names the stream only in its sanitized form: a stream of ``streams`` whose
    sanitized name matches is taken, else the directory name itself.
    """
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(root)).split(os.sep)
    if len(rel) < 3 or rel[0] != LIGHTNVR_MP4_DIR or rel[0] == os.pardir:
        return None
    m = _NAME.match(rel[-1])
    if m is None:
        return None
    try:
        start = time.mktime(time.strptime(m["day"] + m["clock"], "%Y%m%d%H%M%S"))
    except ValueError:
        return None
    directory = rel[1]
    stream = next((s for s in streams if sanitize_stream_name(s) == directory), directory)
    trigger: TriggerType = "detection" if m["kind"] == "detection" else "scheduled"
    return LightNVRFile(stream, trigger, start)


def locate_imported(root: str, file_path: str) -> LocatedFile | None:
    """The file an imported LightNVR row names, found under ``root``, or None.

    LightNVR's rows hold absolute paths: under ``root`` they are taken as they are; from a
    storage path that has moved (or another mount point) their ever shorter tails are tried
    (paths.repaired_path), so ``/old/place/mp4/front/...`` is found as ``mp4/front/...``.
    A file outside ``root`` is not taken: the web layer serves files from the storage path
    only.
    """
    full = recording_file(root, file_path)
    stored: str | None = None
    if os.path.isfile(full):
        try:
            stored = stored_path(root, full)
        except ValueError:
            stored = None
    if stored is None:
        stored = repaired_path(root, file_path)
    if stored is None:
        return None
    found = recording_file(root, stored)
    if not os.path.isfile(found):
        return None
    return LocatedFile(stored, os.path.getsize(found))
