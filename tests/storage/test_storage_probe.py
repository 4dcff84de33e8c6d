"""The one segment probe (lightnvr/storage/probe.py) on real files made with PyAV."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from lightnvr.storage.probe import probe_segment, start_time_from_name
from tests.fixtures.db import make_clip


def test_start_time_from_name_takes_the_last_timestamp() -> None:
    t = time.mktime((2026, 3, 4, 5, 6, 7, 0, 0, -1))
    assert start_time_from_name("/r/cam/cam_20260304_050607.mp4") == t
    assert start_time_from_name("/r/cam/cam_20260304_050607_2.mp4") == t
    # a stream whose name holds a timestamp-like run of digits: the segment's time wins
    assert start_time_from_name("/r/x/yard20200101_000000_20260304_050607.mp4") == t
    assert start_time_from_name("/r/cam/clip.mp4") is None
    assert start_time_from_name("/r/cam/cam_20261399_999999.mp4") is None


def test_probe_measures_a_b_frame_clip_and_names_its_start(tmp_path: Path) -> None:
    path = tmp_path / "cam_20260304_050607.mp4"
    make_clip(path, frames=20, size=(160, 120), noise=False, gop=10, b_frames=2)
    p = probe_segment(str(path))
    assert p is not None
    assert (p.codec, p.width, p.height, p.fps) == ("h264", 160, 120, 10)
    assert p.video_packets == p.video_frames == 20 and p.keyframes >= 2
    assert p.duration == pytest.approx(2.0, abs=1e-6)  # pts span, not file order
    assert p.start_time == start_time_from_name(str(path))
    assert p.end_time == pytest.approx(p.start_time + 2.0)
    assert p.size_bytes == os.path.getsize(path) and not p.has_audio


def test_probe_without_a_name_time_uses_mtime_and_rejects_non_media(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    make_clip(path, frames=4, noise=False)
    os.utime(path, (1_700_000_000, 1_700_000_000))
    p = probe_segment(str(path))
    assert p is not None and p.duration == pytest.approx(0.4, abs=1e-6)
    assert p.start_time == pytest.approx(1_700_000_000 - 0.4)
    header_only = tmp_path / "cam_20260304_050607.mp4"
    header_only.write_bytes(path.read_bytes()[:600])
    assert probe_segment(str(header_only)) is None
    text = tmp_path / "notes.mp4"
    text.write_text("not media")
    assert probe_segment(str(text)) is None
    assert probe_segment(str(tmp_path / "missing.mp4")) is None
