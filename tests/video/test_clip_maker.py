"""The one clip encoder (tools/make_test_clips.py): the test camera's clips and the tests' own.

What is checked is what the consumers rely on, read back from the files with PyAV: the camera's
clips are 720p15 H.264 / H.265 (`hvc1`) with a 2 s GOP, no B-frames and AAC mono 48 kHz, at a
camera-like bitrate, as a plain MP4; the tests' clips are fragmented, one fragment per GOP.
"""

from __future__ import annotations

from pathlib import Path

import av

from lightnvr.video.fmp4_boxes import boxes
from tests.fixtures.clips import make_clip
from tools.make_test_clips import make_clips


def _video_packets(path: Path) -> list[av.Packet]:
    with av.open(str(path)) as c:
        return [p for p in c.demux(c.streams.video[0]) if p.size]


def test_camera_clips_have_the_shape_the_camera_serves(tmp_path: Path) -> None:
    clips = make_clips(tmp_path, seconds=4)
    for kind, codec, tag, kbps in (("h264", "h264", "avc1", 2000), ("h265", "hevc", "hvc1", 1000)):
        path = clips[kind]
        with av.open(str(path)) as c:
            v, a = c.streams.video[0], c.streams.audio[0]
            assert (v.codec_context.name, v.codec_tag) == (codec, tag)
            assert (v.width, v.height, v.average_rate) == (1280, 720, 15)
            assert (a.codec_context.name, a.rate, a.channels) == ("aac", 48000, 1)
            assert c.duration is not None and abs(c.duration / 1e6 - 4) < 0.2
        packets = _video_packets(path)
        assert [i for i, p in enumerate(packets) if p.is_keyframe] == [0, 30]
        assert all(p.pts == p.dts for p in packets if p.pts is not None)  # no B-frames
        rate = sum(p.size for p in packets) * 8 / 4 / 1000
        assert 0.5 * kbps < rate < 1.5 * kbps, (kind, rate)  # noise keeps it camera-like
        data = path.read_bytes()
        assert b"moof" not in [k for k, _, _ in boxes(data)]  # a plain MP4 for qtdemux
    again = make_clips(tmp_path, seconds=4)  # present clips are kept, not made again
    assert again == clips and all(p.stat().st_mtime_ns == clips[k].stat().st_mtime_ns
                                  for k, p in again.items())


def test_test_clips_are_fragmented_one_fragment_per_gop(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "c.mp4", frames=30, fps=10, gop=10, noise=False)
    kinds = [k for k, _, _ in boxes(path.read_bytes())]
    assert kinds[:2] == [b"ftyp", b"moov"] and kinds.count(b"moof") == 3
    assert [i for i, p in enumerate(_video_packets(path)) if p.is_keyframe] == [0, 10, 20]
