"""Detection-triggered recording: the GOP pre-buffer, event windows, and clips recorded from
the real RTSP test camera (real files, real muxer, real SQLite rows)."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from lightnvr.core.memory.governor import (
    MemoryGovernor,
    MemoryLimits,
    MemoryReading,
    PressureLevel,
)
from lightnvr.core.memory.pool import BufferPool
from lightnvr.core.stream_config import StreamConfig
from lightnvr.video.event_recording import EventWindow, GopBuffer
from lightnvr.video.packet import MediaPacket
from lightnvr.video.recorder import Recorder
from lightnvr.video.stream_manager import StreamManager, StreamState
from tests.fixtures.camera import TestCamera
from tests.fixtures.wait import wait_until
from tests.video.helpers import make_manager, media_seconds, video_threads


@pytest.fixture
def camera_url(rtsp_camera: TestCamera) -> str:
    """The real RTSP test camera's H.264 mount without audio (GOP 2 s, 15 fps)."""
    return rtsp_camera.url("live264na")


def _packets(pool: BufferPool, info: object, walls: list[float], gop: int) -> list[MediaPacket]:
    return [MediaPacket(info, True, i % gop == 0, i, i, 1,  # type: ignore[arg-type]
                        pool.acquire_copy(b"x" * 1000), w) for i, w in enumerate(walls)]


def test_gop_buffer_keeps_whole_gops_covering_the_window() -> None:
    pool = BufferPool.from_budget(4 << 20)
    buf = GopBuffer(3.0)
    info = object()
    pkts = _packets(pool, info, [i * 0.5 for i in range(20)], gop=4)  # GOP 2 s, 10 s
    for p in pkts:
        assert buf.add(p)
    out = buf.take()
    # At 9.5 s the newest keyframe at or before 6.5 s is at 6.0 s: 6.0 .. 9.5 s kept.
    assert out[0].is_keyframe and out[0].wall == 6.0 and out[-1].wall == 9.5
    assert len(out) == 8
    for p in out:
        p.release()
    assert pool.stats().slabs_in_use == 0, "aged-out GOPs went back to the pool"


def test_gop_buffer_bounds_bytes_and_drops_on_codec_change() -> None:
    pool = BufferPool.from_budget(4 << 20)
    buf = GopBuffer(60.0, max_bytes=5000)
    pkts = _packets(pool, "a", [i * 0.1 for i in range(12)], gop=3)
    for p in pkts:
        buf.add(p)
    assert buf.bytes <= 5000 and len(buf) % 3 == 0
    lead = _packets(pool, "a", [0.0], gop=1)[0]
    assert not GopBuffer(0).add(lead), "no pre-buffer configured: caller keeps its reference"
    lead.release()
    other = _packets(pool, "b", [5.0, 5.1], gop=2)
    assert buf.add(other[0]) and len(buf) == 1, "new connection: old GOPs released"
    assert not GopBuffer(5).add(other[1]), "no GOP to join before the first keyframe"
    other[1].release()
    buf.clear()
    assert pool.stats().slabs_in_use == 0


def test_event_window_start_stop_pulse_and_grace() -> None:
    w = EventWindow()
    assert not w.active(0) and w.until() == -math.inf
    w.trigger(False, 1.0, None, post=10, grace=2)
    assert not w.active(1.0), "a stop without a start does nothing"
    w.trigger(True, 1.0, None, post=10, grace=2)
    assert w.until() == math.inf
    w.trigger(False, 5.0, None, post=10, grace=2)
    assert w.until() == 15.0
    w.trigger(True, 6.0, 1.0, post=10, grace=2)
    assert w.until() == 17.0, "a pulse extends the window"
    w.trigger(True, 6.0, 0.5, post=10, grace=2)
    assert w.until() == 17.0, "never shortened"
    g = EventWindow()
    g.trigger(True, 0.0, None, post=0, grace=2)
    g.trigger(False, 1.0, None, post=0, grace=2)
    assert g.active(2.9) and not g.active(3.0), "grace keeps the clip open for a next event"


def _recorder(mgr: StreamManager, name: str) -> Recorder | None:
    pipeline = mgr.pipeline(name)
    return pipeline.recorder if pipeline is not None else None


def _ready(mgr: object, name: str) -> bool:
    st = mgr.status(name)  # type: ignore[attr-defined]
    return st is not None and st.state == StreamState.ACTIVE


def test_trigger_records_clip_with_pre_and_post_buffer_and_pulse(
        camera_url: str, tmp_path: Path) -> None:
    mgr, store, pool = make_manager(tmp_path)
    assert not mgr.trigger_detection("nope", True)
    mgr.start([StreamConfig("d", camera_url, record=False, streaming_enabled=False,
                            detection_based_recording=True, pre_detection_buffer=3,
                            post_detection_buffer=2)])
    try:
        assert wait_until(lambda: _ready(mgr, "d"), 10)
        time.sleep(4.5)  # fill the pre-event buffer
        assert store.of("d") == [], "no event: nothing written"
        t0 = time.time()
        assert mgr.trigger_detection("d", True)
        assert mgr.status("d").detection_recording  # type: ignore[union-attr]
        time.sleep(2.0)
        t1 = time.time()
        assert mgr.trigger_detection("d", False)
        assert wait_until(lambda: store.of("d") and store.of("d")[0].is_complete, 8)
        clip = store.of("d")[0]
        assert clip.trigger_type == "detection"
        # Whole GOPs (2 s): the clip starts at the newest keyframe at or before t0 - 3 s.
        assert t0 - 3 - 2.3 <= clip.start_time <= t0 - 3 + 0.3
        assert t1 + 2 - 0.3 <= clip.end_time <= t1 + 2 + 2.3  # closed at a keyframe
        assert media_seconds(clip.file_path) == pytest.approx(
            clip.end_time - clip.start_time, abs=0.25)
        assert wait_until(lambda: not mgr.status("d").detection_recording, 3)  # type: ignore
        # A pulse: one more clip, after the first (no overlap), ending ~duration + post later.
        time.sleep(1.0)
        t2 = time.time()
        assert mgr.trigger_detection("d", True, 1.0)
        assert wait_until(lambda: len(store.of("d")) == 2 and store.of("d")[1].is_complete, 9)
        pulse = store.of("d")[1]
        assert pulse.trigger_type == "detection"
        assert pulse.start_time >= clip.end_time - 1e-6
        # The buffer refills only after the first clip closed (no overlap): the pulse clip
        # starts at its oldest buffered keyframe, or at the next one if none is buffered yet.
        assert pulse.start_time <= t2 + 2.3
        assert t2 + 3 - 0.3 <= pulse.end_time <= t2 + 3 + 2.3
    finally:
        mgr.stop(10)
    assert pool.stats().slabs_in_use == 0, "buffered GOPs went back to the pool"
    assert video_threads() == []


def test_continuous_stream_gets_no_extra_clip_and_api_trigger_works_anywhere(camera_url: str,
        tmp_path: Path) -> None:
    mgr, store, _ = make_manager(tmp_path)
    mgr.start([StreamConfig("c", camera_url, segment_duration=60, streaming_enabled=False,
                            detection_based_recording=True, post_detection_buffer=1),
               StreamConfig("plain", camera_url, record=False, streaming_enabled=False,
                            post_detection_buffer=1)])
    try:
        assert wait_until(lambda: mgr.status("c").recording  # type: ignore[union-attr]
                          and _ready(mgr, "plain"), 10)
        assert mgr.trigger_detection("c", True) and mgr.trigger_detection("plain", True)
        assert not mgr.status("c").detection_recording  # type: ignore[union-attr]
        assert mgr.status("plain").detection_recording  # type: ignore[union-attr]
        assert wait_until(lambda: store.of("plain"), 5), "a stream without detection " \
            "recording records when triggered (from the next keyframe, no pre-buffer)"
        time.sleep(1.0)
        assert mgr.trigger_detection("c", False) and mgr.trigger_detection("plain", False)
        assert wait_until(lambda: store.of("plain")[0].is_complete, 6)
    finally:
        mgr.stop(10)
    rows = store.of("c")
    assert len(rows) == 1 and rows[0].trigger_type == "scheduled"
    assert [r.trigger_type for r in store.of("plain")] == ["detection"]
    assert video_threads() == []


def test_apply_updates_buffers_and_schedule_without_restart(
        camera_url: str, tmp_path: Path) -> None:
    mgr, _, _ = make_manager(tmp_path)
    cfg = StreamConfig("u", camera_url, record=False, streaming_enabled=False,
                       detection_based_recording=True, pre_detection_buffer=3)
    mgr.start([cfg])
    try:
        assert wait_until(lambda: _ready(mgr, "u"), 10)
        rec = _recorder(mgr, "u")  # the running recorder must be kept, not replaced
        assert rec is not None and rec.prebuffer_seconds() == 3.0
        mgr.apply(cfg.replace(pre_detection_buffer=7, post_detection_buffer=1))
        assert _recorder(mgr, "u") is rec and rec.prebuffer_seconds() == 7.0
        schedule = "0" * 168
        mgr.apply(cfg.replace(pre_detection_buffer=7, record_on_schedule=True,
                              recording_schedule=schedule))
        assert _recorder(mgr, "u") is rec  # a schedule change needs no restart
        assert rec.config.recording_schedule == schedule
    finally:
        mgr.stop(10)
    assert video_threads() == []


def test_memory_critical_empties_the_pre_event_buffer(camera_url: str, tmp_path: Path) -> None:
    governor = MemoryGovernor(MemoryLimits(), read=lambda: MemoryReading(100, 10**12, 0.0))
    mgr, _, pool = make_manager(tmp_path, governor=governor)
    mgr.start([StreamConfig("m", camera_url, record=False, streaming_enabled=False,
                            detection_based_recording=True, pre_detection_buffer=3)])
    try:
        assert wait_until(lambda: _ready(mgr, "m"), 10)
        rec = _recorder(mgr, "m")
        assert rec is not None and wait_until(lambda: rec.prebuffered_bytes() > 0, 5)
        governor.apply(PressureLevel.CRITICAL)
        assert wait_until(lambda: rec.prebuffered_bytes() == 0, 3)
        time.sleep(1.0)
        assert rec.prebuffered_bytes() == 0, "not refilled under CRITICAL"
        governor.apply(PressureLevel.NORMAL)
        assert wait_until(lambda: rec.prebuffered_bytes() > 0, 5), "refills afterwards"
    finally:
        mgr.stop(10)
    assert pool.stats().slabs_in_use == 0
