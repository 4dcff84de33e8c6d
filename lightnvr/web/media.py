"""Media file serving for the web layer: HTTP Range over an open file, safe paths, fMP4 layout.

A file is opened once per request and streamed from that descriptor, so a recording deleted
while it is being downloaded still arrives whole (POSIX keeps an unlinked file's data until the
last descriptor closes); a request that arrives after the unlink gets 404.
"""

from __future__ import annotations

import email.utils
import logging
import os
import re
import struct
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import BinaryIO

from lightnvr.storage.paths import thumbnail_path
from lightnvr.web.http import HTTPError, Request, Response

CHUNK = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")

CONTENT_TYPES = {
    ".mp4": "video/mp4", ".m4s": "video/iso.segment", ".ts": "video/mp2t",
    ".m3u8": "application/vnd.apple.mpegurl", ".jpg": "image/jpeg", ".zip": "application/zip",
}


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive byte range a `Range` header asks of a `size`-byte file, or None for all.

    Multiple ranges are not supported and answered with the whole file (allowed by RFC 9110).
    An unsatisfiable range raises HTTPError 416 with `Content-Range: bytes */size`.
    """
    if not header:
        return None
    m = _RANGE.match(header.strip())
    if m is None:
        return None  # malformed or multi-range: ignore the header, send everything
    first, last = m.group(1), m.group(2)
    if first == "" and last == "":
        return None
    unsatisfiable = HTTPError(416, f"range not satisfiable for a file of {size} bytes",
                              {"Content-Range": f"bytes */{size}"})
    if first == "":  # suffix: the last N bytes
        n = int(last)
        if n == 0 or size == 0:
            raise unsatisfiable
        return max(0, size - n), size - 1
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if start >= size or (last != "" and int(last) < start):
        raise unsatisfiable
    return start, end


def _read_span(f: BinaryIO, start: int, length: int) -> Iterator[bytes]:
    try:
        f.seek(start)
        remaining = length
        while remaining > 0:
            chunk = f.read(min(CHUNK, remaining))
            if not chunk:
                break  # the file shrank under us; the client sees a short body
            remaining -= len(chunk)
            yield chunk
    finally:
        f.close()


def serve_file(req: Request, path: str, content_type: str, *,
               download_name: str | None = None,
               headers: Mapping[str, str] | None = None) -> Response:
    """Answer `req` with the file at `path`, honouring Range (206/416) and If-None-Match.

    `download_name` sets `Content-Disposition: attachment`; otherwise it is `inline`.
    404 when the file does not exist (anymore).
    """
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed by the body iterator or Response.close
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        raise HTTPError(404, "file not found") from None
    except PermissionError:
        raise HTTPError(404, "file not readable") from None
    try:
        st = os.fstat(f.fileno())
        size = st.st_size
        etag = f'"{st.st_ino:x}-{size:x}-{int(st.st_mtime_ns):x}"'
        h = {"Content-Type": content_type, "Accept-Ranges": "bytes", "ETag": etag,
             "Last-Modified": email.utils.formatdate(st.st_mtime, usegmt=True)}
        if download_name is not None:
            safe = re.sub(r'[^A-Za-z0-9._ -]', "_", download_name) or "download"
            h["Content-Disposition"] = f'attachment; filename="{safe}"'
        else:
            h["Content-Disposition"] = "inline"
        h.update(headers or {})
        if req.headers.get("if-none-match") == etag:
            f.close()
            return Response(304, b"", {k: v for k, v in h.items() if k != "Content-Type"})
        rng = parse_range(req.headers.get("range"), size)
        if_range = req.headers.get("if-range")
        if rng is not None and if_range is not None and if_range != etag:
            rng = None  # the client's copy is stale: send the whole current file
    except BaseException:
        f.close()
        raise
    if rng is None:
        start, length, status = 0, size, 200
    else:
        start, length, status = rng[0], rng[1] - rng[0] + 1, 206
        h["Content-Range"] = f"bytes {rng[0]}-{rng[1]}/{size}"
    h["Content-Length"] = str(length)
    if req.method == "HEAD":
        f.close()
        return Response(status, b"", h)
    return Response(status, _read_span(f, start, length), h, close=f.close)


def contained_path(root: str, *parts: str) -> str | None:
    """`root/parts...` resolved, or None if it would leave `root` (symlinks included)."""
    base = os.path.realpath(root)
    target = os.path.realpath(os.path.join(base, *parts))
    if target == base or not target.startswith(base + os.sep):
        return None
    return target


def is_within(root: str, path: str) -> bool:
    """True when `path` (resolved) lies inside `root` (resolved)."""
    base = os.path.realpath(root)
    return os.path.realpath(path).startswith(base + os.sep)


# ---- fragmented MP4 layout (for the timeline's HLS playlist) ------------------------------------

@dataclass(frozen=True, slots=True)
class Fragment:
    """One moof+mdat pair: its byte span in the file and its start in seconds (track time)."""

    offset: int
    length: int
    start: float


@dataclass(frozen=True, slots=True)
class Fmp4Layout:
    """Where the init section ends and the fragments lie in a fragmented MP4 file."""

    init_length: int
    fragments: tuple[Fragment, ...]
    timescale: int


def _boxes(f: BinaryIO, start: int, end: int) -> Iterator[tuple[str, int, int, int]]:
    """(type, offset, header_len, total_len) of the boxes in [start, end)."""
    pos = start
    while pos + 8 <= end:
        f.seek(pos)
        head = f.read(16)
        if len(head) < 8:
            return
        size, kind = struct.unpack(">I4s", head[:8])
        hlen = 8
        if size == 1 and len(head) >= 16:
            size = struct.unpack(">Q", head[8:16])[0]
            hlen = 16
        elif size == 0:
            size = end - pos
        if size < hlen:
            return  # corrupt: stop at what we understood
        yield kind.decode("latin-1"), pos, hlen, min(size, end - pos)
        pos += size


def _child(f: BinaryIO, start: int, end: int, kind: str) -> tuple[int, int] | None:
    for k, off, hlen, size in _boxes(f, start, end):
        if k == kind:
            return off + hlen, off + size
    return None


def _children(f: BinaryIO, box: tuple[int, int],
              *kinds: str) -> tuple[tuple[int, int], ...] | None:
    """The payload ranges of `box`'s first child of each of `kinds`; None unless all are
    there."""
    found = [_child(f, *box, k) for k in kinds]
    return None if any(c is None for c in found) else tuple(c for c in found if c is not None)


def _boxes_having(f: BinaryIO, parent: tuple[int, int], kind: str,
                  *kinds: str) -> Iterator[tuple[tuple[int, int], ...]]:
    """For each `kind` box in `parent` that has children of all `kinds`: their ranges."""
    for k, off, hlen, size in _boxes(f, *parent):
        if k == kind and (found := _children(f, (off + hlen, off + size), *kinds)) is not None:
            yield found


def _u32_after_times(f: BinaryIO, box: tuple[int, int]) -> int:
    """The 32-bit field after a full box's creation and modification times (tkhd's track_ID,
    mdhd's timescale): at 12 in version 0, 20 in version 1 (64-bit times)."""
    f.seek(box[0])
    version = f.read(1)[0]
    f.seek(box[0] + (20 if version == 1 else 12))
    return int(struct.unpack(">I", f.read(4))[0])


def _video_track(f: BinaryIO, moov: tuple[int, int]) -> tuple[int, int] | None:
    """(track_ID, timescale) of the first video track in moov."""
    for tkhd, mdia in _boxes_having(f, moov, "trak", "tkhd", "mdia"):
        media_boxes = _children(f, mdia, "hdlr", "mdhd")
        if media_boxes is None:
            continue
        hdlr, mdhd = media_boxes
        f.seek(hdlr[0] + 8)
        if f.read(4) == b"vide":
            return _u32_after_times(f, tkhd), _u32_after_times(f, mdhd)
    return None


def _fragment_time(f: BinaryIO, moof: tuple[int, int], track_id: int) -> int | None:
    for tfhd, tfdt in _boxes_having(f, moof, "traf", "tfhd", "tfdt"):
        f.seek(tfhd[0] + 4)
        if struct.unpack(">I", f.read(4))[0] != track_id:
            continue
        f.seek(tfdt[0])
        version = f.read(1)[0]
        f.seek(tfdt[0] + 4)
        raw = f.read(8 if version == 1 else 4)
        return int(struct.unpack(">Q" if version == 1 else ">I", raw)[0])
    return None


def fmp4_layout(path: str) -> Fmp4Layout | None:
    """The layout of a fragmented MP4 file, or None when it is not one (or unreadable)."""
    try:
        with open(path, "rb") as f:
            end = os.fstat(f.fileno()).st_size
            moov: tuple[int, int] | None = None
            init_length: int | None = None
            frags: list[tuple[int, int, int | None]] = []
            pending: tuple[int, int | None] | None = None
            track: tuple[int, int] | None = None
            for kind, off, hlen, size in _boxes(f, 0, end):
                if kind == "moov":
                    moov = (off + hlen, off + size)
                    track = _video_track(f, moov)
                elif kind == "moof":
                    if init_length is None:
                        init_length = off
                    t = _fragment_time(f, (off + hlen, off + size), track[0]) if track else None
                    pending = (off, t)
                elif kind == "mdat" and pending is not None:
                    frags.append((pending[0], off + size - pending[0], pending[1]))
                    pending = None
    except (OSError, struct.error, IndexError):
        return None
    if moov is None or init_length is None or track is None or not frags or track[1] <= 0:
        return None
    base = frags[0][2] or 0
    out = tuple(Fragment(o, n, ((t if t is not None else base) - base) / track[1])
                for o, n, t in frags)
    return Fmp4Layout(init_length, out, track[1])


class LayoutCache:
    """Layouts keyed by (path, size, mtime): complete recordings never change, so few rescans."""

    def __init__(self, capacity: int = 256) -> None:
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[str, int, int], Fmp4Layout | None] = OrderedDict()
        self._capacity = capacity

    def get(self, path: str) -> Fmp4Layout | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        key = (path, st.st_size, st.st_mtime_ns)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        layout = fmp4_layout(path)
        with self._lock:
            self._items[key] = layout
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)
        return layout


# ---- thumbnails -------------------------------------------------------------------------------

THUMB_WIDTH = 320


def _decode_jpeg(path: str, at: float) -> bytes | None:
    import fractions

    import av  # only here: the web layer touches media for thumbnails alone

    with av.open(path) as container:
        if not container.streams.video:
            return None
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1  # a thumbnail must not take every core
        if at > 0 and stream.time_base:
            container.seek(int(at / stream.time_base), stream=stream)
        frame = next(iter(container.decode(stream)), None)
        if frame is None or not frame.width:
            return None
        h = max(2, int(frame.height * THUMB_WIDTH / frame.width) // 2 * 2)
        img = frame.reformat(width=THUMB_WIDTH, height=h, format="yuvj420p")
        enc = av.CodecContext.create("mjpeg", "w")
        enc.width, enc.height, enc.pix_fmt = THUMB_WIDTH, h, "yuvj420p"
        enc.time_base = fractions.Fraction(1, 25)
        packets = list(enc.encode(img)) + list(enc.encode(None))
        return b"".join(bytes(p) for p in packets) or None


class ThumbnailMaker:
    """Decodes one frame per (recording, idx) at idx/n of its duration and caches it as JPEG.

    Concurrent requests for the same thumbnail wait for one decode instead of repeating it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._busy: dict[str, threading.Lock] = {}

    def get(self, recording_path: str, idx: int, count: int, duration: float) -> str | None:
        """Path of the cached JPEG (made now if needed), or None if no frame can be decoded.

        The cache file is named by docs/storage.md (Layout), so deleting a recording (Deletion
        step 3) and reconciliation remove it with its segment.
        """
        out = thumbnail_path(recording_path, idx)
        with self._lock:
            lock = self._busy.setdefault(out, threading.Lock())
        try:
            with lock:
                return self._make(recording_path, out, duration * idx / max(1, count))
        finally:
            # A late waiter may make a second lock and decode twice; the rename keeps it safe.
            with self._lock:
                self._busy.pop(out, None)

    @staticmethod
    def _make(recording_path: str, out: str, at: float) -> str | None:
        log = logging.getLogger(__name__)
        try:
            src = os.stat(recording_path)
            if os.stat(out).st_mtime_ns >= src.st_mtime_ns:
                return out
        except FileNotFoundError:
            pass
        except OSError:
            return None
        try:
            jpeg = _decode_jpeg(recording_path, at)
        except Exception:  # any decoder failure means "no thumbnail", never a 500
            log.warning("thumbnail of %s failed", recording_path, exc_info=True)
            return None
        if jpeg is None:
            return None
        tmp = f"{out}.{threading.get_ident()}.tmp"
        try:
            with open(tmp, "wb") as f:
                f.write(jpeg)
            os.replace(tmp, out)
        except OSError:
            log.warning("cannot cache thumbnail %s", out, exc_info=True)
            try:
                os.unlink(tmp)
            except OSError:
                pass
            return None
        return out
