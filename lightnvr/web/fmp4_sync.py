"""Which fragments of a fragmented MP4 begin with a keyframe (for the timeline's HLS playlist).

The recorder cuts a fragment at every keyframe and at least every second (video/muxing.py), so
with a 2 s GOP half the fragments start mid-GOP. An HLS media segment that starts there cannot
be decoded on its own: a browser's Media Source drops frames up to the next keyframe and the
player jumps over the hole, starting up to a GOP after the moment asked for. The playlist
therefore starts its segments only at fragments whose first video sample is a sync sample
(ISO/IEC 14496-12: `trun` first-sample flags, else its per-sample flags, else the `tfhd`
default; `sample_is_non_sync_sample` is bit 16), read by the one fMP4 box parser,
video/fmp4_boxes.py; finding the video track and the fragments is web/media.py's.
"""

from __future__ import annotations

import struct
import threading
from collections import OrderedDict

from lightnvr.video.fmp4_boxes import first_sample_sync
from lightnvr.web import media


def sync_starts(path: str, layout: media.Fmp4Layout) -> list[bool]:
    """For each fragment of `layout`: may a media segment start there? (Unknown = yes.)"""
    out = [True] * len(layout.fragments)
    try:
        with open(path, "rb") as f:
            end = f.seek(0, 2)
            moov = next(((o + h, o + s) for k, o, h, s in media._boxes(f, 0, end)
                         if k == "moov"), None)
            track = media._video_track(f, moov) if moov else None
            if track is None:
                return out
            for i, frag in enumerate(layout.fragments):
                f.seek(frag.offset)
                size, kind = struct.unpack(">I4s", f.read(8))
                if kind != b"moof":
                    continue
                f.seek(frag.offset)
                sync = first_sample_sync(f.read(size), track[0])
                out[i] = sync is not False
    except (OSError, struct.error, IndexError):
        return [True] * len(layout.fragments)
    out[0] = True  # a segment file always opens on a keyframe (docs/storage.md, Recording)
    return out


class SyncCache:
    """`sync_starts` per (path, size, fragment count): files only grow, so few rescans."""

    def __init__(self, capacity: int = 256) -> None:
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[str, int, int], list[bool]] = OrderedDict()
        self._capacity = capacity

    def get(self, path: str, layout: media.Fmp4Layout) -> list[bool]:
        last = layout.fragments[-1] if layout.fragments else None
        key = (path, last.offset if last else 0, len(layout.fragments))
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        found = sync_starts(path, layout)
        with self._lock:
            self._items[key] = found
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)
        return found
