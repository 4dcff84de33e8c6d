"""MSE live view under governor PRESSURE: keyframes only, like HLS; full rate again after."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import av

from lightnvr.core.memory.governor import (
    MemoryGovernor,
    MemoryLimits,
    MemoryReading,
    PressureLevel,
)
from lightnvr.core.stream_config import StreamConfig
from tests.fixtures.camera import TestCamera
from tests.video.helpers import make_manager, wait_until


def _video_keys(init: bytes, frags: list[bytes]) -> list[bool]:
    """Key flags of the video packets FFmpeg's mp4 demuxer finds in the feed."""
    with av.open(io.BytesIO(init + b"".join(frags)), "r") as inp:
        return [bool(p.is_keyframe) for p in inp.demux(video=0) if p.size]


def test_pressure_sends_keyframes_only_then_full_rate(rtsp_camera: TestCamera,
                                                      tmp_path: Path) -> None:
    governor = MemoryGovernor(MemoryLimits(rss_pressure_bytes=1000, rss_critical_bytes=2000),
                              read=lambda: MemoryReading(100, 10**12, 0.0))
    mgr, _store, _pool = make_manager(tmp_path, governor=governor)
    mgr.start([StreamConfig("p", rtsp_camera.url("live264na"), record=False)])
    ready = threading.Event()
    try:
        assert wait_until(lambda: (s := mgr.status("p")) is not None
                          and s.state.value == "active", 20)
        feed = mgr.live_subscribe("p", False, ready.set)
        assert feed is not None

        def drain(seconds: float) -> list[bytes]:
            out: list[bytes] = []
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                ready.wait(0.2)
                ready.clear()
                out += [m.data for m in feed.take() if m.data]
            return out

        first = drain(4.0)
        init, normal = first[0], first[1:]
        normal_keys = _video_keys(init, normal)
        assert len(normal_keys) > 20 and normal_keys[0]
        assert sum(normal_keys) < len(normal_keys) / 5  # mostly P-frames at NORMAL
        governor.apply(PressureLevel.PRESSURE)
        switching = drain(0.5)  # what was queued before the switch
        before = len(_video_keys(init, normal + switching))
        pressed = drain(4.0)
        # only keyframes (live264na: GOP 2 s) reach the viewer; the muxer writes a frame out
        # when the next packet arrives, so the last frame from before the switch may come first
        keys = _video_keys(init, normal + switching + pressed)[before:]
        if keys and not keys[0]:
            keys = keys[1:]
        assert 1 <= len(keys) <= 4 and all(keys), keys
        governor.apply(PressureLevel.NORMAL)
        resumed = drain(4.0)  # full rate again from the next keyframe
        after = _video_keys(init, normal + switching + pressed + resumed)
        assert len(after) - before - len(keys) > 20
        mgr.live_unsubscribe(feed)
        assert wait_until(lambda: mgr.live_viewers() == {}, 5)
    finally:
        mgr.stop(10)
