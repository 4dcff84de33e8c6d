"""Event snapshots: the JPEG of the picture that started a detection event, on disk, by URL.

With `[detection] event_snapshots = true` the stream manager saves one JPEG per detection
event (motion or objects; the detectors' cooldown limits how often) as
`<root>/<stream folder>/event_<YYYYmmdd_HHMMSS_mmm>.jpg`, root `<[storage] path>/snapshots`
(where LightNVR keeps its detection snapshots), and puts its URL,
`/api/snapshots/<stream folder>/<file>` (web/api/mqtt.py serves it), in the event
(NvrEvent.snapshot, stored in the event row's details as `snapshot_url`). The stream folder is
the stream name with every character outside LightNVR's safe set (letters, digits, `_ . -`)
replaced by `_`. At most KEPT_PER_STREAM files are kept per stream (LightNVR's rule for its
event snapshots): writing one more removes the oldest. Written on the detector thread that saw
the event; the file appears whole (temporary name, then rename). Retention removes them with
the stream's detections (storage/manager.py, docs/storage.md Retention step 7:
`prune_event_snapshots`). Plain files only: the video subsystem writes, storage prunes.
"""

from __future__ import annotations

import os
import re
import time

KEPT_PER_STREAM = 100
URL_PREFIX = "/api/snapshots/"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def stream_folder(stream: str) -> str:
    """The folder (and URL level) of `stream`'s snapshots."""
    safe = _UNSAFE.sub("_", stream)
    return "_" + safe if safe.startswith(".") else safe


def save_event_snapshot(root: str, stream: str, wall: float, jpeg: bytes) -> str:
    """Write `jpeg` as the snapshot of `stream`'s event at `wall`; returns its URL path.
    Raises OSError when the file cannot be written."""
    folder = os.path.join(root, stream_folder(stream))
    os.makedirs(folder, exist_ok=True)
    stamp = time.strftime("%Y%m%d_%H%M%S", time.localtime(wall))
    name = f"event_{stamp}_{int(wall * 1000) % 1000:03d}.jpg"
    path = os.path.join(folder, name)
    tmp = path + ".part"
    with open(tmp, "wb") as fh:
        fh.write(jpeg)
    os.replace(tmp, path)
    _keep_newest(folder, KEPT_PER_STREAM)
    return f"{URL_PREFIX}{stream_folder(stream)}/{name}"


def prune_event_snapshots(root: str, stream: str, before: float) -> int:
    """Remove `stream`'s event snapshots written before `before` (wall time, by the file's
    modification time); the number removed. A missing folder is none."""
    folder = os.path.join(root, stream_folder(stream))
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return 0
    removed = 0
    for name in names:
        if not (name.startswith("event_") and name.endswith(".jpg")):
            continue
        path = os.path.join(folder, name)
        try:
            if os.stat(path).st_mtime < before:
                os.unlink(path)
                removed += 1
        except FileNotFoundError:
            pass
    return removed


def _keep_newest(folder: str, kept: int) -> None:
    # the names sort by time (the stamp is fixed-width), so the oldest come first
    names = sorted(n for n in os.listdir(folder) if n.startswith("event_") and n.endswith(".jpg"))
    for old in names[:-kept]:
        try:
            os.unlink(os.path.join(folder, old))
        except FileNotFoundError:
            pass
