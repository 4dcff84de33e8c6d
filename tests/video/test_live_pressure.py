"""MSE live view under governor PRESSURE: keyframes only, like HLS, and without audio (a browser
plays no further than its buffered audio, which would get no samples); full rate and audio
again after."""

from __future__ import annotations

import io
import json
import threading
import time
from pathlib import Path
from typing import Any

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


class _Viewer:
    """Drains a subscription into sessions: (header, init segment, fragments) per header."""

    def __init__(self, feed: Any, ready: threading.Event) -> None:
        self.feed, self.ready = feed, ready
        self.sessions: list[tuple[dict[str, Any], bytes, list[bytes]]] = []

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.ready.wait(0.2)
            self.ready.clear()
            for m in self.feed.take():
                if m.text:
                    self.sessions.append((json.loads(m.text), b"", []))
                elif m.init:
                    self.sessions[-1] = (self.sessions[-1][0], m.data, [])
                else:
                    self.sessions[-1][2].append(m.data)


def test_pressure_sends_keyframes_only_without_audio_then_full_rate(
        rtsp_camera: TestCamera, tmp_path: Path) -> None:
    governor = MemoryGovernor(MemoryLimits(rss_pressure_bytes=1000, rss_critical_bytes=2000),
                              read=lambda: MemoryReading(100, 10**12, 0.0))
    mgr, _store, _pool = make_manager(tmp_path, governor=governor)
    mgr.start([StreamConfig("p", rtsp_camera.url("live264"), record=False)])
    ready = threading.Event()
    try:
        assert wait_until(lambda: (s := mgr.status("p")) is not None
                          and s.state.value == "active", 20)
        feed = mgr.live_subscribe("p", False, ready.set)
        assert feed is not None
        viewer = _Viewer(feed, ready)
        viewer.drain(4.0)
        assert len(viewer.sessions) == 1
        header, init, frags = viewer.sessions[0]
        keys = _video_keys(init, frags)
        assert header["audio"] is True and len(keys) > 20 and keys[0]
        assert sum(keys) < len(keys) / 5  # mostly P-frames at NORMAL

        governor.apply(PressureLevel.PRESSURE)
        viewer.drain(4.5)
        assert len(viewer.sessions) == 2, [s[0] for s in viewer.sessions]
        header, init, frags = viewer.sessions[1]
        assert header["audio"] is False and "mp4a" not in header["mime"]
        assert "keyframes only" in header["note"]
        keys = _video_keys(init, frags)
        # only keyframes (live264: GOP 2 s) reach the viewer
        assert 1 <= len(keys) <= 4 and all(keys), keys

        governor.apply(PressureLevel.NORMAL)
        viewer.drain(4.5)
        assert len(viewer.sessions) == 3
        header, init, frags = viewer.sessions[2]
        assert header["audio"] is True and header["note"] == ""
        keys = _video_keys(init, frags)
        assert len(keys) > 20 and keys[0]
        mgr.live_unsubscribe(feed)
        assert wait_until(lambda: mgr.live_viewers() == {}, 5)
    finally:
        mgr.stop(10)
