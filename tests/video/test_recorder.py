"""Recorder, snapshots, pause and manual recording, driven by the in-process demo camera."""

from __future__ import annotations

import itertools
import os
import shutil
import time
from pathlib import Path

import av
import pytest

from lightnvr.core.stream_config import StreamConfig
from lightnvr.storage.probe import probe_segment, start_time_from_name
from lightnvr.video.recorder import segment_path
from lightnvr.video.stream_manager import StreamState
from tests.fixtures.camera import TestCamera
from tests.fixtures.wait import wait_until
from tests.video.helpers import make_manager, video_threads

DEMO = "demo://testsrc2?seconds=4"


def _decoded_frames(path: str) -> int:
    """Frames that decode; a torn last sample raises InvalidDataError, which ends the count."""
    n = 0
    with av.open(path) as c:
        try:
            for _ in c.decode(video=0):
                n += 1
        except av.error.InvalidDataError:
            pass
    return n


def test_segment_path_honours_directory_format() -> None:
    t = time.mktime((2026, 3, 4, 5, 6, 7, 0, 0, -1))
    name = "cam_20260304_050607.mp4"
    assert segment_path("/r", "cam", t, "year_month_day") == f"/r/cam/2026/03/04/{name}"
    assert segment_path("/r", "cam", t, "year_month") == "/r/cam/2026/03/cam_20260304_050607.mp4"
    assert segment_path("/r", "cam", t, "flat") == "/r/cam/cam_20260304_050607.mp4"
    assert start_time_from_name("/r/cam/cam_20260304_050607.mp4") == t


def test_demo_stream_records_chained_segments(tmp_path: Path) -> None:
    mgr, store, pool = make_manager(tmp_path)
    mgr.start([StreamConfig("demo", DEMO, segment_duration=2, streaming_enabled=False)])
    try:
        assert wait_until(lambda: len([r for r in store.of("demo") if r.is_complete]) >= 3, 15)
    finally:
        mgr.stop(10)
    rows = store.of("demo")
    assert all(r.is_complete for r in rows), "stop() completes the open segment's row"
    ids = [r.id for r in rows]
    assert ids == list(range(ids[0], ids[0] + len(ids))), "no segment row was discarded"
    for a, b in itertools.pairwise(rows):
        assert a.end_time == pytest.approx(b.start_time, abs=1e-6)  # no gap, no overlap
    for r in rows:
        seg = r
        assert seg.codec == "h264" and (seg.width, seg.height) == (640, 360)
        assert os.path.getsize(seg.file_path) == r.size_bytes
        rel = os.path.relpath(seg.file_path, tmp_path / "rec")
        assert rel.startswith("demo/") and rel.count("/") == 4  # demo/YYYY/MM/DD/file
        probed = probe_segment(seg.file_path)
        assert probed is not None
        assert probed.duration == pytest.approx(r.end_time - seg.start_time, abs=0.11)
        assert _decoded_frames(seg.file_path) == probed.video_packets
    for a in rows[:-1]:
        assert a.end_time - a.start_time == pytest.approx(2.0, abs=0.01)  # GOP 2 s
    assert pool.stats().slabs_in_use == 0, "every pooled buffer went back"
    assert video_threads() == []


def test_pause_and_resume_recording(tmp_path: Path) -> None:
    mgr, store, _ = make_manager(tmp_path)
    mgr.start([StreamConfig("p", DEMO, segment_duration=60, streaming_enabled=False)])
    try:
        assert wait_until(lambda: (mgr.status("p") or object()).__getattribute__("recording"), 10)
        mgr.set_recording_paused("storage emergency: 2% free")
        assert wait_until(lambda: not mgr.status("p").recording, 5)  # type: ignore[union-attr]
        st = mgr.status("p")
        assert st is not None and st.recording_paused_reason.startswith("storage emergency")
        assert all(r.is_complete for r in store.of("p"))
        n = len(store.of("p"))
        time.sleep(1.5)
        assert len(store.of("p")) == n, "nothing is written while paused"
        mgr.set_recording_paused(None)
        assert wait_until(lambda: len(store.of("p")) == n + 1, 5)
    finally:
        mgr.stop(10)
    assert all(r.is_complete for r in store.of("p"))


def test_manual_recording_on_a_stream_that_does_not_record(tmp_path: Path) -> None:
    mgr, store, _ = make_manager(tmp_path)
    mgr.start([StreamConfig("m", DEMO, record=False, streaming_enabled=False)])
    try:
        assert wait_until(lambda: mgr.status("m").state == StreamState.ACTIVE, 10)  # type: ignore[union-attr]
        time.sleep(0.5)
        assert store.of("m") == [] and not mgr.manual_recording("m")
        assert mgr.set_manual_recording("m", True) and mgr.manual_recording("m")
        assert wait_until(lambda: len(store.of("m")) == 1, 5)
        assert store.of("m")[0].trigger_type == "manual"
        time.sleep(2.5)
        assert mgr.set_manual_recording("m", False)
        assert store.of("m")[0].is_complete
        assert not mgr.set_manual_recording("nope", True)
    finally:
        mgr.stop(10)
    assert video_threads() == []


def test_snapshot_is_a_jpeg_of_the_latest_keyframe_and_cached(tmp_path: Path) -> None:
    mgr, _, _ = make_manager(tmp_path)
    mgr.start([StreamConfig("s", DEMO, record=False, streaming_enabled=False)])
    try:
        assert wait_until(lambda: mgr.snapshot_jpeg("s") is not None, 10)
        jpeg = mgr.snapshot_jpeg("s")
        assert jpeg is not None and jpeg[:2] == b"\xff\xd8"
        assert mgr.snapshot_jpeg("s") is jpeg, "cached for about a second"
        path = tmp_path / "snap.jpg"
        path.write_bytes(jpeg)
        with av.open(str(path)) as c:
            frame = next(c.decode(video=0))
            assert (frame.width, frame.height) == (640, 360)
        assert mgr.snapshot_jpeg("unknown") is None
    finally:
        mgr.stop(10)


def test_probe_reports_codec_or_readable_error(tmp_path: Path) -> None:
    mgr, _, _ = make_manager(tmp_path)
    ok = mgr.probe(DEMO)
    assert ok.ok and ok.video_codec == "h264" and (ok.width, ok.height) == (640, 360)
    bad = mgr.probe("ftp://example/x")
    assert not bad.ok and "unsupported URL scheme" in bad.error
    refused = mgr.probe("rtsp://127.0.0.1:9/x", timeout=2)
    assert not refused.ok and "refused" in refused.error


def test_probe_of_a_file_cut_off_mid_fragment(tmp_path: Path) -> None:
    mgr, store, _ = make_manager(tmp_path)
    mgr.start([StreamConfig("t", DEMO, segment_duration=60, streaming_enabled=False)])
    try:
        time.sleep(4.5)
    finally:
        mgr.stop(10)
    path = store.of("t")[0].file_path
    full = probe_segment(path)
    assert full is not None and full.duration > 3
    data = Path(path).read_bytes()
    torn = tmp_path / "t_20260101_000000.mp4"
    torn.write_bytes(data[: len(data) * 2 // 3 + 17])  # cut inside a fragment
    cut = probe_segment(str(torn))
    assert cut is not None and 1.0 <= cut.duration < full.duration
    assert _decoded_frames(str(torn)) >= cut.video_packets - 1
    header_only = tmp_path / "h.mp4"
    header_only.write_bytes(data[:600])
    assert probe_segment(str(header_only)) is None
    assert probe_segment(str(tmp_path / "missing.mp4")) is None
    shutil.rmtree(tmp_path / "rec")


def test_segment_length_changes_without_a_restart_or_a_gap(rtsp_camera: TestCamera,
                                                           tmp_path: Path) -> None:
    """A new segment_duration applies in place: the reader keeps its connection, the open
    segment ends at the next keyframe past the new length, the next ones have it, no gap."""
    mgr, store, _ = make_manager(tmp_path)
    cfg = StreamConfig("len", rtsp_camera.url("live264na"), segment_duration=60,
                       streaming_enabled=False)
    mgr.start([cfg])
    try:
        assert wait_until(lambda: store.of("len"), 20), "no segment opened"
        assert not cfg.restart_needed(cfg.replace(segment_duration=2))
        mgr.apply(cfg.replace(segment_duration=2))
        assert wait_until(lambda: len([r for r in store.of("len") if r.is_complete]) >= 3, 20)
        status = mgr.status("len")
        assert status is not None and status.reconnects == 0, status
    finally:
        mgr.stop(10)
    rows = store.of("len")
    for a, b in itertools.pairwise(rows):
        assert a.end_time == pytest.approx(b.start_time, abs=1e-6)  # chained: no gap
    assert rows[0].end_time - rows[0].start_time < 10  # cut long before the old 60 s
    for r in rows[1:-1]:
        assert r.end_time - r.start_time == pytest.approx(2.0, abs=0.1)  # GOP 2 s
