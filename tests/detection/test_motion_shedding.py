"""Under memory pressure detection sheds and recording does not: the real camera, the real
stream manager and governor levels set by hand (as tests/video/test_resilience.py does).

A stream records continuously AND detects motion on a scene that always moves (moving264).
NORMAL: the detector looks at one keyframe per detection interval. PRESSURE: it looks at
fewer (frames are skipped first). CRITICAL: it looks at none. NORMAL again: it looks again.
Throughout, the recording has every frame the camera sent: one segment, no gap.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from lightnvr.core.memory.governor import (
    MemoryGovernor,
    MemoryLimits,
    MemoryReading,
    PressureLevel,
)
from lightnvr.core.stream_config import StreamConfig
from lightnvr.storage.probe import probe_segment
from lightnvr.video.stream_manager import StreamManager, StreamStatus
from tests.fixtures.camera import TestCamera
from tests.video.helpers import make_manager, wait_until

pytestmark = [pytest.mark.camera, pytest.mark.slow]

PHASE = 12.0  # seconds per governor level; keyframes come every 2 s


def _reading() -> MemoryReading:
    return MemoryReading(100, 10**12, 0.0)


def _status(mgr: StreamManager) -> StreamStatus:
    st = mgr.status("m")
    assert st is not None
    return st


def _frames_during(mgr: StreamManager, seconds: float) -> int:
    before = _status(mgr).detection_frames
    threading.Event().wait(seconds)
    return _status(mgr).detection_frames - before


def test_pressure_sheds_detection_and_recording_stays_gap_free(
        rtsp_camera: TestCamera, tmp_path: Path) -> None:
    governor = MemoryGovernor(MemoryLimits(rss_pressure_bytes=1000, rss_critical_bytes=2000),
                              read=_reading)
    mgr, store, _ = make_manager(tmp_path, governor=governor)
    mgr.start([StreamConfig("m", rtsp_camera.url("moving264"), segment_duration=120,
                            streaming_enabled=False, detection_based_recording=True,
                            detection_model="motion", detection_interval=2)])
    try:
        assert wait_until(lambda: _status(mgr).detection_frames >= 2, 20)
        normal = _frames_during(mgr, PHASE)
        governor.apply(PressureLevel.PRESSURE)
        pressure = _frames_during(mgr, PHASE)
        governor.apply(PressureLevel.CRITICAL)
        threading.Event().wait(1.0)  # what was decoded before the switch
        assert _status(mgr).detection == "paused"
        critical = _frames_during(mgr, PHASE)
        governor.apply(PressureLevel.NORMAL)
        assert wait_until(lambda: _frames_during(mgr, 2.5) > 0, 10), \
            "detection resumes once memory is back to normal"
        assert _status(mgr).detection == "running"
        assert _status(mgr).detection_events > 0, "the detector saw the moving scene"
        assert normal >= 4, normal             # every keyframe (2 s GOP): one per interval
        assert pressure <= normal - 2, (pressure, normal)  # interval tripled: frames skipped
        assert pressure >= 1, pressure         # ... but detection still runs
        assert critical == 0                   # paused
    finally:
        mgr.stop(15)
    assert not [t.name for t in threading.enumerate() if t.name.startswith("detect:")]
    rows = store.of("m")
    assert len(rows) == 1 and rows[0].is_complete
    probed = probe_segment(rows[0].file_path)
    assert probed is not None
    duration = rows[0].end_time - rows[0].start_time
    assert duration >= 3 * PHASE
    # Recording never waited for detection: every frame of the span is in the file.
    assert probed.video_packets == pytest.approx(duration * 15, abs=3)
