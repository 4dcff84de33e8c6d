"""Cut a fragmented-MP4 byte stream into its init segment and self-contained fragments.

FFmpeg's mp4 muxer (movflags empty_moov+default_base_moof+frag_keyframe, frag_duration 40 ms)
writes `ftyp moov` once, then a `moof mdat` pair for about every video frame. Media Source
Extensions need the init segment first and may then take any fragment sequence that starts
at a video sync sample, so the live muxer (live_mse.py) needs to know three things about
what FFmpeg wrote, which this module reads from the ISO BMFF boxes (ISO/IEC 14496-12)
rather than guessing from the packets it fed in (FFmpeg's interleaver reorders audio and
video): where each top-level box ends, whether a fragment's video run starts with a sync
sample (both read by video/fmp4_boxes.py, the one fMP4 box parser), and the RFC 6381 codec
string the browser's `MediaSource.isTypeSupported` wants (read from `avcC`/`hvcC` and
`esds`).
"""

from __future__ import annotations

import struct

from lightnvr.video.fmp4_boxes import boxes, first_sample_sync
from lightnvr.video.fmp4_boxes import child as _child

# The live muxer adds the video stream first (muxing.add_streams), so it is track 1.
VIDEO_TRACK_ID = 1


class BoxSplitter:
    """Accumulates muxer output; hands back whole top-level boxes as they complete."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, chunk: bytes) -> list[tuple[bytes, bytes]]:
        """(type, whole box bytes) of every box completed by `chunk`, in order."""
        self._buf += chunk
        out: list[tuple[bytes, bytes]] = []
        consumed = 0
        for kind, _payload, end in boxes(self._buf):
            out.append((kind, bytes(self._buf[consumed:end])))
            consumed = end
        del self._buf[:consumed]
        return out

    @property
    def buffered(self) -> int:
        return len(self._buf)


def starts_with_video_sync(moof: bytes) -> bool:
    """True when the fragment holds video and its first video sample is a sync sample."""
    return first_sample_sync(moof, VIDEO_TRACK_ID) is True


def _find(data: bytes, path: tuple[bytes, ...], start: int = 0,
          end: int | None = None) -> tuple[int, int] | None:
    """Payload span of the first box along `path` (sample entries are searched inside)."""
    end = len(data) if end is None else end
    span: tuple[int, int] | None = (start, end)
    for kind in path:
        assert span is not None
        span = _child(data, span[0], span[1], kind)
        if span is None:
            return None
    return span


def _sample_entry(init: bytes, trak: tuple[int, int]) -> tuple[bytes, int, int] | None:
    stsd = _find(init, (b"mdia", b"minf", b"stbl", b"stsd"), *trak)
    if stsd is None:
        return None
    for kind, start, end in boxes(init, stsd[0] + 8, stsd[1]):
        return kind, start, end
    return None


def _video_codec(kind: bytes, init: bytes, start: int, end: int) -> str | None:
    # A visual sample entry has 78 bytes of fixed fields before its child boxes.
    if kind in (b"avc1", b"avc3"):
        cfg = _child(init, start + 78, end, b"avcC")
        if cfg is None:
            return None
        profile, compat, level = init[cfg[0] + 1], init[cfg[0] + 2], init[cfg[0] + 3]
        return f"{kind.decode()}.{profile:02x}{compat:02x}{level:02x}"
    if kind in (b"hvc1", b"hev1"):
        cfg = _child(init, start + 78, end, b"hvcC")
        if cfg is None:
            return None
        p = cfg[0]
        b1 = init[p + 1]
        space = "ABC"[(b1 >> 6) - 1] if b1 >> 6 else ""
        tier = "H" if b1 & 0x20 else "L"
        compat = int(f"{struct.unpack_from('>I', init, p + 2)[0]:032b}"[::-1], 2)
        constraints = bytes(init[p + 6:p + 12]).rstrip(b"\0")
        tail = "".join(f".{c:X}" for c in constraints)
        return f"{kind.decode()}.{space}{b1 & 0x1F}.{compat:X}.{tier}{init[p + 12]}{tail}"
    return None


def _audio_codec(kind: bytes, init: bytes, start: int, end: int) -> str | None:
    if kind == b"Opus":
        return "opus"
    if kind != b"mp4a":
        return None
    # An audio sample entry has 28 bytes of fixed fields; esds holds an ES descriptor.
    esds = _child(init, start + 28, end, b"esds")
    if esds is None:
        return "mp4a.40.2"
    data = init[esds[0] + 4:esds[1]]
    i = 0
    object_type, aot = 0x40, 2
    while i < len(data):
        tag = data[i]
        i += 1
        size = 0
        for _ in range(4):
            b = data[i]
            i += 1
            size = (size << 7) | (b & 0x7F)
            if not b & 0x80:
                break
        if tag == 0x03:  # ES_Descriptor: ES_ID(2) + flags(1), then nested descriptors
            i += 3
            continue
        if tag == 0x04:  # DecoderConfigDescriptor: objectTypeIndication, then 12 bytes
            object_type = data[i]
            i += 13
            continue
        if tag == 0x05 and size:  # DecoderSpecificInfo: AudioSpecificConfig
            aot = data[i] >> 3
            break
        i += size
    if object_type != 0x40:
        return f"mp4a.{object_type:02x}"
    return f"mp4a.40.{aot}"


def codecs(init: bytes) -> list[str]:
    """RFC 6381 codec strings of the init segment's tracks, video first."""
    moov = _child(init, 0, len(init), b"moov")
    if moov is None:
        return []
    found: list[str] = []
    for kind, start, end in boxes(init, moov[0], moov[1]):
        if kind != b"trak":
            continue
        entry = _sample_entry(init, (start, end))
        if entry is None:
            continue
        codec = (_video_codec(*entry[:1], init, entry[1], entry[2])
                 or _audio_codec(*entry[:1], init, entry[1], entry[2]))
        if codec:
            found.append(codec)
    return found
