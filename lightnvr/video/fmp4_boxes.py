"""Read fragmented-MP4 boxes: the box walk and each track fragment's samples (`moof/traf`).

One parser for everything that looks inside a fragment: the live muxer (video/live_fmp4.py)
asks whether a fragment starts at a video sync sample, the timeline playlist
(web/fmp4_sync.py) asks the same of a recording's fragments. The layout is ISO/IEC 14496-12:
`tfhd` (8.8.7) carries the defaults selected by its tf_flags, each `trun` (8.8.8) carries
the per-sample fields selected by its tr_flags, and a sample's flags are, in order of
precedence, the `trun`'s first-sample flags (its first sample only), its per-sample flags,
the `tfhd` default. (The last fallback, `trex` in the init segment, is not read: our muxers
always write one of the others, and an unknown answer is None, never a guess.)
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

SAMPLE_IS_NON_SYNC = 0x0001_0000  # sample_is_non_sync_sample in the 32-bit sample flags

# tfhd tf_flags: which optional fields follow track_ID, in this order, with their sizes
_TFHD_FIELDS = ((0x01, 8), (0x02, 4), (0x08, 4), (0x10, 4), (0x20, 4))
_TFHD_DEFAULT_DURATION, _TFHD_DEFAULT_SIZE, _TFHD_DEFAULT_FLAGS = 0x08, 0x10, 0x20
# trun tr_flags
_TRUN_DATA_OFFSET, _TRUN_FIRST_FLAGS = 0x001, 0x004
_TRUN_DURATION, _TRUN_SIZE, _TRUN_FLAGS, _TRUN_CTO = 0x100, 0x200, 0x400, 0x800

Buffer = bytes | bytearray | memoryview


def boxes(data: Buffer, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, box end) of each complete box in data[start:end]; stops at the
    first box that is cut short or whose size is impossible."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                return
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            return
        yield bytes(kind), pos + header, pos + size
        pos += size


def child(data: Buffer, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    """(payload start, end) of the first `kind` box in data[start:end], or None."""
    for k, payload, box_end in boxes(data, start, end):
        if k == kind:
            return payload, box_end
    return None


@dataclass(frozen=True, slots=True)
class Sample:
    """One sample of a track run, with the defaults already applied (None: not stated)."""

    duration: int | None
    size: int | None
    flags: int | None
    composition_offset: int

    @property
    def is_sync(self) -> bool | None:
        return None if self.flags is None else not self.flags & SAMPLE_IS_NON_SYNC


@dataclass(frozen=True, slots=True)
class TrackFragment:
    """A `traf`: its track and the samples of all its `trun`s, in order."""

    track_id: int
    samples: tuple[Sample, ...]


def _tfhd(data: Buffer, start: int) -> tuple[int, dict[int, int]]:
    """track_ID and the optional fields present, by their tf_flags bit."""
    flags, track_id = struct.unpack_from(">II", data, start)
    fields: dict[int, int] = {}
    pos = start + 8
    for bit, size in _TFHD_FIELDS:
        if flags & bit:
            fields[bit] = struct.unpack_from(">Q" if size == 8 else ">I", data, pos)[0]
            pos += size
    return track_id, fields


def _trun(data: Buffer, start: int, defaults: dict[int, int]) -> list[Sample]:
    flags, count = struct.unpack_from(">II", data, start)
    version = flags >> 24
    pos = start + 8 + (4 if flags & _TRUN_DATA_OFFSET else 0)
    first_flags: int | None = None
    if flags & _TRUN_FIRST_FLAGS:
        first_flags = struct.unpack_from(">I", data, pos)[0]
        pos += 4
    out: list[Sample] = []
    for i in range(count):
        duration = defaults.get(_TFHD_DEFAULT_DURATION)
        size = defaults.get(_TFHD_DEFAULT_SIZE)
        sample_flags = defaults.get(_TFHD_DEFAULT_FLAGS)
        cto = 0
        if flags & _TRUN_DURATION:
            duration = struct.unpack_from(">I", data, pos)[0]
            pos += 4
        if flags & _TRUN_SIZE:
            size = struct.unpack_from(">I", data, pos)[0]
            pos += 4
        if flags & _TRUN_FLAGS:
            sample_flags = struct.unpack_from(">I", data, pos)[0]
            pos += 4
        if flags & _TRUN_CTO:
            cto = struct.unpack_from(">i" if version else ">I", data, pos)[0]
            pos += 4
        if i == 0 and first_flags is not None:
            sample_flags = first_flags  # overrides both the per-sample and the default flags
        out.append(Sample(duration, size, sample_flags, cto))
    return out


def track_fragments(moof: Buffer, start: int = 0, end: int | None = None) -> list[TrackFragment]:
    """Every `traf` of the first `moof` box in moof[start:end] (a whole box, header included).

    Raises struct.error on a box too short for the fields its flags announce."""
    body = child(moof, start, len(moof) if end is None else end, b"moof")
    if body is None:
        return []
    out: list[TrackFragment] = []
    for kind, traf_start, traf_end in boxes(moof, *body):
        if kind != b"traf":
            continue
        tfhd = child(moof, traf_start, traf_end, b"tfhd")
        if tfhd is None:
            continue
        track_id, defaults = _tfhd(moof, tfhd[0])
        samples: list[Sample] = []
        for k, run_start, _run_end in boxes(moof, traf_start, traf_end):
            if k == b"trun":
                samples.extend(_trun(moof, run_start, defaults))
        out.append(TrackFragment(track_id, tuple(samples)))
    return out


def first_sample_sync(moof: Buffer, track_id: int) -> bool | None:
    """Is the first sample of `track_id` in this `moof` box a sync sample? None when the
    fragment holds no sample of that track or does not say."""
    for traf in track_fragments(moof):
        if traf.track_id == track_id and traf.samples:
            return traf.samples[0].is_sync
    return None
