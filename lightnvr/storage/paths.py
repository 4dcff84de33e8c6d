"""Where recordings and their thumbnails live under the storage path (docs/storage.md, Layout).

A row's ``file_path`` is stored relative to the storage path (:func:`stored_path`) and turned
into a file name by :func:`recording_file` only; nothing else joins a root and a row's path.
"""

from __future__ import annotations

import glob
import logging
import os
import re
import time
from collections.abc import Iterator

log = logging.getLogger(__name__)

SEGMENT_SUFFIX = ".mp4"
_THUMB = re.compile(r"^(?P<segment>.+\.mp4)\.thumb(?P<idx>\d+)\.jpg$")
_DIR_FORMATS = {"year_month_day": "%Y/%m/%d", "year_month": "%Y/%m", "flat": ""}


def segment_dir(root: str, stream: str, start_time: float,
                directory_format: str = "year_month_day") -> str:
    """``<root>/<stream>[/YYYY[/MM[/DD]]]`` for a segment starting at ``start_time`` (local)."""
    fmt = _DIR_FORMATS[directory_format]
    sub = time.strftime(fmt, time.localtime(start_time)) if fmt else ""
    return os.path.join(root, stream, sub) if sub else os.path.join(root, stream)


def thumbnail_path(segment_path: str, index: int) -> str:
    """Thumbnail ``index`` of a segment: ``<segment>.thumb<index>.jpg`` beside it."""
    return f"{segment_path}.thumb{index}.jpg"


def thumbnails_of(segment_path: str) -> list[str]:
    """Existing thumbnail files of a segment."""
    return sorted(glob.glob(glob.escape(segment_path) + ".thumb*.jpg"))


def segment_of_thumbnail(path: str) -> str | None:
    """The segment a thumbnail belongs to, or None when ``path`` is not a thumbnail name."""
    m = _THUMB.match(path)
    return m.group("segment") if m else None


def stored_path(root: str, path: str) -> str:
    """The canonical form of a segment file's name in ``recordings.file_path``.

    That form is the path relative to the storage root (``front/2026/05/01/front_..mp4``),
    with ``/`` separators: it means the same thing whatever the working directory is and
    survives moving the data directory. ``path`` may be absolute or relative to the working
    directory (as the configured root is); ValueError when it lies outside ``root``.
    """
    base = os.path.abspath(root)
    full = os.path.abspath(path)
    rel = os.path.relpath(full, base)
    if rel == os.curdir or rel == os.pardir or rel.startswith(os.pardir + os.sep):
        raise ValueError(f"{path} is not under the storage path {base}")
    return rel.replace(os.sep, "/")


def recording_file(root: str, file_path: str) -> str:
    """The file a row's ``file_path`` names: the ONE place stored paths become file names.

    Canonical rows are relative to ``root``; an absolute value (written by lightnvr before
    paths were canonical, not yet repaired by Start-up reconciliation step 0) is taken as it
    is. The result is absolute and normalized; callers that serve it to users still check
    that it lies inside the storage path.
    """
    if os.path.isabs(file_path):
        return os.path.normpath(file_path)
    return os.path.normpath(os.path.join(os.path.abspath(root), file_path))


def repaired_path(root: str, file_path: str) -> str | None:
    """The canonical value for a row written before paths were canonical, or None when the
    row is fine as it is or nothing on disk matches (Start-up reconciliation step 0).

    Old rows hold an absolute path (same file, other spelling: always rewritten), or a path
    relative to the working directory (``var/recordings/front/...`` with a relative
    ``[storage] path``), which is rewritten when it names an existing file. Failing that, the
    ever shorter tails of the value (a doubled root, a data directory that moved) are tried
    while they still name ``<stream>/.../<file>`` and exist under ``root``.
    """
    if os.path.isabs(file_path):
        try:
            return stored_path(root, file_path)
        except ValueError:
            pass  # outside the root: perhaps the data directory moved; try the tails
    elif os.path.exists(recording_file(root, file_path)):
        try:
            fixed = stored_path(root, recording_file(root, file_path))
        except ValueError:
            return None  # "../elsewhere": never follow a row out of the storage path
        return fixed if fixed != file_path else None
    else:
        try:
            fixed = stored_path(root, file_path)  # relative to the working directory
            if os.path.exists(recording_file(root, fixed)):
                return fixed
        except ValueError:
            pass
    parts = [p for p in os.path.normpath(file_path).split(os.sep) if p not in ("", os.curdir)]
    for i in range(1, len(parts) - 1):
        if os.pardir in parts[i:]:
            continue
        tail = "/".join(parts[i:])
        if os.path.exists(recording_file(root, tail)):
            return tail
    return None


def stream_of(root: str, path: str) -> str:
    """Stream a file under ``root`` belongs to: the first directory below the storage path."""
    rel = os.path.relpath(path, root)
    parts = rel.split(os.sep)
    if len(parts) > 1:
        return parts[0]
    stem = os.path.basename(path).split("_", 1)[0]
    return stem or "unknown"


def _excluded(root: str, excludes: tuple[str, ...], d: str) -> bool:
    return any(os.path.normpath(d) == os.path.normpath(e) for e in excludes)


def walk_storage(root: str, excludes: tuple[str, ...] = ()) -> Iterator[tuple[str, list[str]]]:
    """(directory, file names) under ``root``, skipping hidden dirs and ``excludes`` (HLS)."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")
                       and not _excluded(root, excludes, os.path.join(dirpath, d))]
        yield dirpath, filenames


def segment_files(root: str, excludes: tuple[str, ...] = ()) -> Iterator[str]:
    """Every segment file (``*.mp4``) under ``root``."""
    for dirpath, filenames in walk_storage(root, excludes):
        for name in filenames:
            if name.endswith(SEGMENT_SUFFIX) and not name.startswith("."):
                yield os.path.join(dirpath, name)


def orphan_thumbnails(root: str, excludes: tuple[str, ...] = ()) -> Iterator[str]:
    """Thumbnails whose segment file is gone."""
    for dirpath, filenames in walk_storage(root, excludes):
        names = set(filenames)
        for name in filenames:
            seg = segment_of_thumbnail(name)
            if seg is not None and seg not in names:
                yield os.path.join(dirpath, name)


def is_date_dir(root: str, path: str) -> bool:
    """Directories two or more levels below the storage path (below ``<root>/<stream>``)."""
    rel = os.path.relpath(path, root)
    return not rel.startswith("..") and rel != "." and len(rel.split(os.sep)) >= 2


def prune_empty_parents(root: str, path: str) -> int:
    """Remove empty date directories from ``path``'s parent upwards (Deletion step 4)."""
    removed = 0
    d = os.path.dirname(os.path.normpath(path))
    while is_date_dir(root, d):
        try:
            os.rmdir(d)  # fails (harmlessly) unless empty: a recorder's file keeps it
        except OSError:
            break
        removed += 1
        d = os.path.dirname(d)
    return removed


def empty_date_dirs(root: str, excludes: tuple[str, ...] = ()) -> list[str]:
    """Empty date directories, deepest first."""
    found: list[str] = []
    for dirpath, _dirnames, filenames in os.walk(root, topdown=False):
        if any(_excluded(root, excludes, p) or os.path.basename(p).startswith(".")
               for p in _ancestors(root, dirpath)):
            continue
        if not filenames and is_date_dir(root, dirpath) and not os.listdir(dirpath):
            found.append(dirpath)
    return found


def _ancestors(root: str, path: str) -> Iterator[str]:
    d = os.path.normpath(path)
    root = os.path.normpath(root)
    while d != root and d.startswith(root):
        yield d
        d = os.path.dirname(d)
