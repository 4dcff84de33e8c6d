"""The one fMP4 box parser (video/fmp4_boxes.py) on real bytes from PyAV's mp4 muxer.

The truth each test compares with is what the encoder handed the muxer (every packet's
keyframe flag and duration, in order), never the parser's own reading. Each case also checks,
from the raw `trun` header, that the file really has the layout it is meant to cover: sample
flags only as first-sample flags over a `tfhd` default, per-sample durations, per-sample flags.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from fractions import Fraction

import av
import pytest

from lightnvr.video.fmp4_boxes import boxes, first_sample_sync, track_fragments
from lightnvr.video.live_fmp4 import BoxSplitter, starts_with_video_sync

FPS = 10
SIZE = (64, 48)


@dataclass
class Muxed:
    data: bytes
    keyframes: list[bool]    # per video packet handed to the muxer, in decode order
    durations: list[int]     # the same, in the stream's time base (1/FPS)


def _mux(movflags: str, steps: list[int], gop: int, extra: dict[str, str] | None = None) -> Muxed:
    """Encode len(steps) tiny frames whose pts advance by `steps` and mux them to fMP4."""
    buf = io.BytesIO()
    out = av.open(buf, "w", format="mp4", options={"movflags": movflags, **(extra or {})})
    keyframes: list[bool] = []
    packets: list[av.Packet] = []
    try:
        s = out.add_stream("libx264", rate=FPS)
        s.width, s.height = SIZE
        s.pix_fmt = "yuv420p"
        s.time_base = Fraction(1, FPS)
        s.codec_context.time_base = Fraction(1, FPS)
        s.options = {"g": str(gop), "bf": "0", "preset": "ultrafast",
                     "x264-params": "scenecut=0:keyint_min=1"}
        pts = 0
        for i, step in enumerate(steps):
            frame = av.VideoFrame(SIZE[0], SIZE[1], "yuv420p")
            for plane in frame.planes:
                plane.update(bytes([i * 20 % 256]) * plane.buffer_size)
            frame.pts = pts
            frame.time_base = Fraction(1, FPS)
            pts += step
            packets.extend(s.encode(frame))
        packets.extend(s.encode())
        for pkt in packets:
            keyframes.append(bool(pkt.is_keyframe))
            out.mux(pkt)
    finally:
        out.close()
    # no B-frames: decode order is presentation order, so each duration is the pts step
    return Muxed(buf.getvalue(), keyframes, list(steps))


def _moofs(data: bytes) -> list[bytes]:
    return [data[payload - 8:end] for kind, payload, end in boxes(data) if kind == b"moof"]


def _trun_flags(moof: bytes) -> list[int]:
    """tr_flags of every trun, read straight from the bytes (not through the parser)."""
    out, at = [], moof.find(b"trun")
    while at >= 0:
        out.append(struct.unpack_from(">I", moof, at + 4)[0] & 0xFFFFFF)
        at = moof.find(b"trun", at + 4)
    return out


def _samples(data: bytes) -> list[tuple[bool | None, int | None]]:
    out: list[tuple[bool | None, int | None]] = []
    for moof in _moofs(data):
        for traf in track_fragments(moof):
            assert traf.track_id == 1
            out.extend((s.is_sync, s.duration) for s in traf.samples)
    return out


def _time_scale(muxed: Muxed) -> int:
    """Sample durations in the file are in the track's timescale: the ratio to 1/FPS."""
    with av.open(io.BytesIO(muxed.data)) as c:
        tb = c.streams.video[0].time_base
    assert tb is not None
    return round(1 / (tb * FPS))


def test_first_sample_flags_over_a_default_and_constant_durations() -> None:
    """frag_keyframe: one fragment per GOP; the keyframe's flags are the trun's first-sample
    flags, the others come from tfhd's default; durations from tfhd's default too."""
    m = _mux("frag_keyframe+empty_moov+default_base_moof", [1] * 15, gop=5)
    moofs = _moofs(m.data)
    assert len(moofs) == 3 == sum(m.keyframes)
    for moof in moofs:
        (tr,) = _trun_flags(moof)
        assert tr & 0x004 and not tr & 0x400 and not tr & 0x100, hex(tr)
    scale = _time_scale(m)
    assert _samples(m.data) == [(k, d * scale) for k, d in zip(m.keyframes, m.durations)]
    assert [first_sample_sync(moof, 1) for moof in moofs] == [True] * 3
    assert [starts_with_video_sync(moof) for moof in moofs] == [True] * 3
    assert first_sample_sync(moofs[0], 2) is None  # no such track in the fragment


def test_per_sample_durations() -> None:
    """Frames whose spacing varies: the trun carries each sample's duration."""
    steps = [1, 2, 1, 3, 1, 1, 2, 1, 1, 4]
    m = _mux("frag_keyframe+empty_moov+default_base_moof", steps, gop=5)
    moofs = _moofs(m.data)
    assert all(tr & 0x100 for moof in moofs for tr in _trun_flags(moof))
    scale = _time_scale(m)
    got = _samples(m.data)
    assert [k for k, _ in got] == m.keyframes
    # the last sample's duration is the muxer's guess (no next frame): compare the others
    assert [d for _, d in got][:-1] == [d * scale for d in m.durations][:-1]


def test_per_sample_flags_when_a_fragment_holds_several_keyframes() -> None:
    """Fragments cut by time, not at keyframes: a fragment holds keyframes after its first
    sample, so the trun must carry per-sample flags; a fragment may start mid-GOP."""
    m = _mux("empty_moov+default_base_moof", [1] * 24, 3,
             {"frag_duration": str(int(0.7 * 1_000_000))})
    moofs = _moofs(m.data)
    assert len(moofs) >= 3
    assert any(tr & 0x400 for moof in moofs for tr in _trun_flags(moof))
    got = _samples(m.data)
    assert [k for k, _ in got] == m.keyframes
    # which fragments start at a keyframe follows from the packets they hold
    starts, n = [], 0
    for moof in moofs:
        starts.append(m.keyframes[n])
        n += len(track_fragments(moof)[0].samples)
    assert [first_sample_sync(moof, 1) for moof in moofs] == starts
    assert not all(starts), "the case needs a fragment that starts mid-GOP"
    assert [starts_with_video_sync(moof) for moof in moofs] == starts


def test_box_walk_stops_at_a_cut_box_and_splitter_rejoins_chunks() -> None:
    m = _mux("frag_keyframe+empty_moov+default_base_moof", [1] * 10, gop=5)
    whole = [kind for kind, _, _ in boxes(m.data)]
    assert whole[:2] == [b"ftyp", b"moov"] and whole.count(b"moof") == 2
    assert [kind for kind, _, _ in boxes(m.data[:-1])] == whole[:-1]  # the last box is cut
    split, got = BoxSplitter(), list[bytes]()
    for i in range(0, len(m.data), 100):
        got.extend(kind for kind, _ in split.feed(m.data[i:i + 100]))
    assert got == whole and split.buffered == 0


def test_a_box_too_short_for_its_flags_raises() -> None:
    m = _mux("frag_keyframe+empty_moov+default_base_moof", [1] * 5, gop=5)
    moof = _moofs(m.data)[0]
    at = moof.find(b"trun")
    count = struct.unpack_from(">I", moof, at + 8)[0]
    # claim more samples with per-sample sizes than the box holds
    broken = bytearray(moof)
    struct.pack_into(">II", broken, at + 4, 0x201, count + 1000)
    with pytest.raises(struct.error):
        track_fragments(bytes(broken))
