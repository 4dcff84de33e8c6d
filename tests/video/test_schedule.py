"""Recording schedules: slot arithmetic in local time, and a recorder driven across slot
boundaries by a shifted clock (real RTSP camera, real SQLite, real files)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from lightnvr.core.memory.pool import BufferPool
from lightnvr.core.stream_config import StreamConfig
from lightnvr.video.schedule import (
    SCHEDULE_PAUSED_REASON,
    ScheduleGate,
    next_hour_boundary,
    schedule_allows,
    schedule_slot,
)
from lightnvr.video.stream_manager import StreamManager, StreamState, VideoSettings
from tests.fixtures.camera import TestCamera
from tests.fixtures.wait import wait_until
from tests.video.helpers import SqliteStore, media_seconds, video_threads

LATE = 4.0  # next keyframe (GOP 2 s) + a camera packet's delivery delay on a busy machine


@pytest.fixture
def camera_url(rtsp_camera: TestCamera) -> str:
    """The real RTSP test camera's H.264 mount without audio (GOP 2 s, 15 fps)."""
    return rtsp_camera.url("live264na")


def _local(y: int, mo: int, d: int, h: int, mi: int = 0, s: int = 0) -> float:
    return time.mktime((y, mo, d, h, mi, s, 0, 0, -1))


def test_slots_are_local_hours_sunday_first() -> None:
    assert schedule_slot(_local(2026, 11, 22, 0, 30)) == 0  # Sunday 00:30
    assert schedule_slot(_local(2026, 11, 28, 23, 59, 59)) == 167  # Saturday 23:59:59
    assert schedule_slot(_local(2026, 11, 25, 10, 5)) == 3 * 24 + 10  # Wednesday 10:05
    assert next_hour_boundary(_local(2026, 11, 25, 10, 5, 7)) == _local(2026, 11, 25, 11)
    assert next_hour_boundary(_local(2026, 11, 25, 10)) == _local(2026, 11, 25, 11)


def test_schedule_allows_and_gate_caches_per_hour() -> None:
    only_monday_9 = "0" * (24 + 9) + "1" + "0" * (168 - 24 - 10)
    monday_930 = _local(2026, 11, 23, 9, 30)
    assert schedule_allows(only_monday_9, monday_930)
    assert not schedule_allows(only_monday_9, monday_930 + 3600)
    assert schedule_allows("", monday_930 + 3600), "empty schedule: always"
    gate = ScheduleGate(True, only_monday_9)
    assert gate.allows(monday_930) and gate.allows(monday_930 + 1799.9)
    assert not gate.allows(monday_930 + 1800.0)  # 10:00 sharp: next slot
    assert gate.allows(monday_930 - 60), "a clock that goes back is re-evaluated"
    assert ScheduleGate(False, "0" * 168).allows(monday_930), "schedule off: always"


class ShiftedClock:
    """The real clocks, wall time shifted by `offset` (monotonic untouched)."""

    def __init__(self, offset: float) -> None:
        self.offset = offset

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time() + self.offset


def test_recorder_follows_schedule_across_boundaries(camera_url: str, tmp_path: Path) -> None:
    boundary = next_hour_boundary(time.time() + 7 * 86400)  # a full local hour, a week ahead
    slots = ["1"] * 168
    slots[schedule_slot(boundary)] = "0"  # off for the hour starting at `boundary`
    # Connect to the camera inside the '0' slot (nothing recorded), then move the clock to
    # 4 s before the slot begins: connecting takes longer than that on a busy machine.
    clock = ShiftedClock(boundary + 10.0 - time.time())
    store = SqliteStore(tmp_path, str(tmp_path / "rec"))
    mgr = StreamManager(VideoSettings(str(tmp_path / "rec"), str(tmp_path / "hls"),
                                      stagger_seconds=0.0), BufferPool.from_budget(32 << 20),
                        store, clock=clock)
    mgr.start([StreamConfig("s", camera_url, segment_duration=60, streaming_enabled=False,
                            record_on_schedule=True, recording_schedule="".join(slots))])
    try:
        assert wait_until(lambda: mgr.status("s").state == StreamState.ACTIVE,  # type: ignore
                          15)
        time.sleep(1.0)
        st = mgr.status("s")
        assert st is not None and st.recording_paused_reason == SCHEDULE_PAUSED_REASON
        assert not st.recording and store.of("s") == []
        clock.offset = boundary - 4.0 - time.time()
        assert wait_until(lambda: mgr.status("s").recording, 10)  # type: ignore[union-attr]
        assert mgr.status("s").recording_paused_reason == ""  # type: ignore[union-attr]
        # Crossing into the '0' slot: the segment is closed at the next keyframe.
        assert wait_until(lambda: store.of("s") and store.of("s")[0].is_complete, 10)
        first = store.of("s")[0]
        assert first.trigger_type == "scheduled"
        # closed at the next keyframe (GOP 2 s), plus delivery delay on a busy machine
        assert boundary <= first.end_time <= boundary + LATE
        assert media_seconds(first.file_path) == pytest.approx(
            first.end_time - first.start_time, abs=0.25)
        st = mgr.status("s")
        assert st is not None and st.recording_paused_reason == SCHEDULE_PAUSED_REASON
        time.sleep(2.5)
        assert not mgr.status("s").recording and len(store.of("s")) == 1  # type: ignore
        # Manual recording still works outside the schedule.
        assert mgr.set_manual_recording("s", True)
        assert wait_until(lambda: len(store.of("s")) == 2, 6)
        assert store.of("s")[1].trigger_type == "manual"
        assert mgr.set_manual_recording("s", False)
        assert wait_until(lambda: not mgr.status("s").recording, 6)  # type: ignore
        # The next slot is '1' again: recording reopens at the next keyframe.
        clock.offset = boundary + 3600.5 - time.time()
        assert wait_until(lambda: len(store.of("s")) == 3, 6)
        third = store.of("s")[2]
        assert third.trigger_type == "scheduled"
        assert boundary + 3600 <= third.start_time <= boundary + 3600.5 + LATE
        assert mgr.status("s").recording_paused_reason == ""  # type: ignore[union-attr]
    finally:
        mgr.stop(10)
    assert all(r.is_complete for r in store.of("s"))
    assert video_threads() == []


@pytest.mark.parametrize("schedule", ["", "1" * 168])
def test_schedule_that_always_records_never_pauses(
        camera_url: str, schedule: str, tmp_path: Path) -> None:
    mgr = StreamManager(VideoSettings(str(tmp_path / "rec"), str(tmp_path / "hls")),
                        BufferPool.from_budget(8 << 20),
                        SqliteStore(tmp_path, str(tmp_path / "rec")))
    mgr.start([StreamConfig("a", camera_url, enabled=False, record_on_schedule=True,
                            recording_schedule=schedule)])
    try:
        st = mgr.status("a")
        assert st is not None and st.recording_paused_reason == ""
    finally:
        mgr.stop(5)
