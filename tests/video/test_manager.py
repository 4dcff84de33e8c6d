"""StreamManager lifecycle: apply/remove restart only what changed; no thread outlives stop()."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from lightnvr.core.heartbeat import HeartbeatRegistry
from lightnvr.core.shutdown import ShutdownCoordinator
from lightnvr.core.stream_config import StreamConfig
from lightnvr.video.stream_manager import StreamState
from tests.video.helpers import make_manager, video_threads, wait_until

DEMO = "demo://testsrc2?seconds=4"


def test_start_stop_cycles_leave_no_thread_behind(tmp_path: Path) -> None:
    baseline = threading.active_count()
    for i in range(3):
        mgr, store, _ = make_manager(tmp_path / str(i))
        mgr.start([StreamConfig("a", DEMO), StreamConfig("b", DEMO, record=False)])
        assert wait_until(lambda m=mgr: all(s.state == StreamState.ACTIVE  # type: ignore[misc]
                                            for s in m.statuses()), 10)
        t0 = time.monotonic()
        mgr.stop(10)
        assert time.monotonic() - t0 < 3.0
        assert video_threads() == []
        assert all(r.is_complete for r in store.rows.values())
    assert threading.active_count() == baseline


def test_apply_restarts_only_the_stream_that_needs_it(tmp_path: Path) -> None:
    mgr, _, _ = make_manager(tmp_path)
    a, b = StreamConfig("a", DEMO, streaming_enabled=False), StreamConfig("b", DEMO)
    mgr.start([a, b])
    try:
        assert wait_until(lambda: all(s.state == StreamState.ACTIVE for s in mgr.statuses()), 10)
        reader_a, reader_b = mgr._streams["a"].reader, mgr._streams["b"].reader
        mgr.apply(a.replace(priority=1, tags="x"))  # no restart needed
        assert mgr._streams["a"].reader is reader_a
        mgr.apply(a.replace(segment_duration=30))   # restart needed: only "a"
        assert mgr._streams["a"].reader is not reader_a
        assert mgr._streams["b"].reader is reader_b
        mgr.apply(StreamConfig("c", DEMO, enabled=False))  # added, not started
        assert mgr.names() == ["a", "b", "c"]
        assert mgr.status("c").state == StreamState.INACTIVE  # type: ignore[union-attr]
        mgr.remove("b")
        assert mgr.names() == ["a", "c"] and mgr.status("b") is None
        assert not any(t.endswith(":b") for t in video_threads())
        assert mgr.hls_dir("a") == str(tmp_path / "hls" / "a")
    finally:
        mgr.stop(10)
    assert video_threads() == []


def test_shutdown_coordinator_stops_readers_then_live_then_recorders(tmp_path: Path) -> None:
    beats = HeartbeatRegistry()
    mgr, store, _ = make_manager(tmp_path)
    mgr._heartbeats = beats
    coordinator = ShutdownCoordinator(global_deadline=20)
    mgr.register_shutdown(coordinator)
    assert coordinator.registered() == ["video-readers", "video-live", "video-recorders"]
    mgr.start([StreamConfig("a", DEMO)])
    assert wait_until(lambda: mgr.status("a").recording, 10)  # type: ignore[union-attr]
    assert "reader:a" in beats.ages() and beats.stale() == []
    report = coordinator.shutdown()
    assert report.ok, report
    assert video_threads() == []
    assert [r.is_complete for r in store.rows.values()] == [True]
    assert "reader:a" not in beats.ages()


def test_recorder_queue_has_more_room_than_live_view(tmp_path: Path) -> None:
    """A stalled recorder (slow fsync, busy CPU) must not lose footage where live view would
    just skip ahead: its queue holds 4x as many packets."""
    mgr, _, _ = make_manager(tmp_path)
    mgr.start([StreamConfig("q", DEMO)])
    try:
        assert wait_until(lambda: mgr.status("q") is not None
                          and mgr.status("q").state == StreamState.ACTIVE, 10)  # type: ignore[union-attr]
        caps = {q.name.split(":")[0]: q.stats().capacity for q in mgr._streams["q"].queues}
        assert caps["recording"] == 4 * caps["live"], caps
    finally:
        mgr.stop(10)
