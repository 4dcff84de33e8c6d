"""StreamManager lifecycle: apply/remove restart only what changed; no thread outlives stop()."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import pytest

from lightnvr.core.heartbeat import HeartbeatRegistry
from lightnvr.core.recordings_store import SegmentOpened
from lightnvr.core.shutdown import ShutdownCoordinator
from lightnvr.core.stream_config import StreamConfig
from lightnvr.database.recordings import RecordingsRepo
from lightnvr.video.reader import StreamReader
from lightnvr.video.stream_manager import StreamManager, StreamState
from tests.fixtures.camera import TestCamera
from tests.fixtures.db import open_testdb
from tests.fixtures.wait import wait_until
from tests.video.helpers import make_manager, video_threads


@pytest.fixture
def camera_url(rtsp_camera: TestCamera) -> str:
    """The real RTSP test camera's H.264 mount without audio (GOP 2 s, 15 fps)."""
    return rtsp_camera.url("live264na")


def test_start_stop_cycles_leave_no_thread_behind(camera_url: str, tmp_path: Path) -> None:
    baseline = threading.active_count()
    for i in range(3):
        mgr, store, _ = make_manager(tmp_path / str(i))
        mgr.start([StreamConfig("a", camera_url), StreamConfig("b", camera_url, record=False)])
        assert wait_until(lambda m=mgr: all(s.state == StreamState.ACTIVE  # type: ignore[misc]
                                            for s in m.statuses()), 10)
        t0 = time.monotonic()
        mgr.stop(10)
        assert time.monotonic() - t0 < 3.0
        assert video_threads() == []
        assert all(r.is_complete for r in store.all())
    assert threading.active_count() == baseline


def _reader(mgr: StreamManager, name: str) -> StreamReader | None:
    pipeline = mgr.pipeline(name)
    return pipeline.reader if pipeline is not None else None


def test_apply_restarts_only_the_stream_that_needs_it(camera_url: str, tmp_path: Path) -> None:
    mgr, _, _ = make_manager(tmp_path)
    a, b = StreamConfig("a", camera_url, streaming_enabled=False), StreamConfig("b", camera_url)
    mgr.start([a, b])
    try:
        assert wait_until(lambda: all(s.state == StreamState.ACTIVE for s in mgr.statuses()), 10)
        reader_a, reader_b = _reader(mgr, "a"), _reader(mgr, "b")
        assert reader_a is not None and reader_b is not None
        mgr.apply(a.replace(priority=1, tags="x"))  # no restart needed
        assert _reader(mgr, "a") is reader_a
        mgr.apply(a.replace(record_audio=False))   # restart needed: only "a"
        assert _reader(mgr, "a") not in (reader_a, None)
        assert _reader(mgr, "b") is reader_b
        mgr.apply(StreamConfig("c", camera_url, enabled=False))  # added, not started
        assert mgr.names() == ["a", "b", "c"]
        assert mgr.status("c").state == StreamState.INACTIVE  # type: ignore[union-attr]
        mgr.remove("b")
        assert mgr.names() == ["a", "c"] and mgr.status("b") is None
        assert not any(t.endswith(":b") for t in video_threads())
        assert mgr.hls_dir("a") == str(tmp_path / "hls" / "a")
    finally:
        mgr.stop(10)
    assert video_threads() == []


def test_shutdown_coordinator_stops_readers_then_live_then_recorders(
        camera_url: str, tmp_path: Path) -> None:
    beats = HeartbeatRegistry()
    mgr, store, _ = make_manager(tmp_path, heartbeats=beats)
    coordinator = ShutdownCoordinator(global_deadline=20)
    mgr.register_shutdown(coordinator)
    assert coordinator.registered() == ["video-readers", "video-live", "video-recorders"]
    mgr.start([StreamConfig("a", camera_url)])
    assert wait_until(lambda: mgr.status("a").recording, 10)  # type: ignore[union-attr]
    assert "reader:a" in beats.ages() and beats.stale() == []
    report = coordinator.shutdown()
    assert report.ok, report
    assert video_threads() == []
    assert [r.is_complete for r in store.all()] == [True]
    assert "reader:a" not in beats.ages()


class StallingStore:
    """The real SQLite recordings repository behind a recorder whose first segment_opened
    stalls (an SD card's fsync, a busy CPU) until the test releases it."""

    def __init__(self, repo: RecordingsRepo) -> None:
        self.repo = repo
        self.stalled = threading.Event()
        self.release = threading.Event()

    def segment_opened(self, segment: SegmentOpened) -> int:
        if not self.stalled.is_set():
            self.stalled.set()
            self.release.wait(30)
        return self.repo.segment_opened(segment)

    def segment_closed(self, recording_id: int, end_time: float, size_bytes: int) -> None:
        self.repo.segment_closed(recording_id, end_time, size_bytes)

    def segment_discarded(self, recording_id: int) -> None:
        self.repo.segment_discarded(recording_id)


def _largest_pts_gap(path: str) -> tuple[float, int]:
    """(largest gap between consecutive video frames in seconds, frame count) of `path`."""
    import av

    with av.open(path) as c:
        s = c.streams.video[0]
        pts = sorted(p.pts for p in c.demux(s) if p.pts is not None)
    assert s.time_base is not None and len(pts) > 1
    return float(max(b - a for a, b in itertools.pairwise(pts)) * s.time_base), len(pts)


STALL_SECONDS = 4.0
FPS = 15  # the camera's frame rate


def test_stalled_recorder_loses_no_footage(camera_url: str, tmp_path: Path) -> None:
    """A recorder stalled for seconds catches up afterwards: its file has every frame of the
    stall, no gap (live view, with a quarter of the room, may skip ahead instead)."""
    testdb = open_testdb(tmp_path)
    store = StallingStore(testdb.recordings)
    # a queue budget of 64 packets for live view: 4 s at 30 fps would overflow that
    mgr, _, _ = make_manager(tmp_path, store=store,  # type: ignore[arg-type]
                             queue_budget_bytes=64 * 8192)
    mgr.start([StreamConfig("q", camera_url,
                            streaming_enabled=False, segment_duration=60)])
    try:
        assert store.stalled.wait(20), "the recorder never opened a segment"
        t0 = time.monotonic()
        store.release.wait(STALL_SECONDS)  # the stall: packets pile up in the recorder's queue
        store.release.set()
        # and a little footage after it, so the file spans the stall and what followed
        assert wait_until(lambda: time.monotonic() - t0 > STALL_SECONDS + 2.0,
                          STALL_SECONDS + 10.0)
    finally:
        mgr.stop(10)
    rows = testdb.recordings.all()
    assert [r.is_complete for r in rows] == [True], rows
    gap, frames = _largest_pts_gap(rows[0].file_path)
    assert gap < 3.0 / FPS, f"footage lost: a {gap:.2f} s hole in the recording"
    assert frames >= FPS * STALL_SECONDS, frames
    testdb.db.close()
