"""Where recordings and their thumbnails live under the storage path (docs/storage.md, Layout)."""

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


def absolute(root: str, file_path: str) -> str:
    """A row's ``file_path`` as an absolute path (rows normally hold absolute paths)."""
    return os.path.normpath(file_path if os.path.isabs(file_path)
                            else os.path.join(root, file_path))


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
