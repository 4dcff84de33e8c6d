"""Camera outages, bad URLs and memory pressure, against real RTSP servers."""

from __future__ import annotations

import functools
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from lightnvr.core.memory.governor import (
    MemoryGovernor,
    MemoryLimits,
    MemoryReading,
    PressureLevel,
)
from lightnvr.core.memory.handoff import DropLevel
from lightnvr.core.stream_config import StreamConfig
from lightnvr.storage.probe import probe_segment
from lightnvr.video.stream_manager import StreamManager, StreamState, StreamStatus
from tests.fixtures.camera import TestCamera
from tests.fixtures.wait import wait_until
from tests.video.helpers import make_manager, video_threads

pytestmark = [pytest.mark.camera]


def _st(mgr: StreamManager, name: str) -> StreamStatus:
    st = mgr.status(name)
    assert st is not None
    return st


@pytest.mark.slow
def test_camera_outage_reconnects_within_5s_and_leaves_valid_files(
        test_media: dict[str, Path], tmp_path: Path) -> None:
    camera = TestCamera(test_media["h264"].parent)  # our own: the shared one stays up
    camera.start()
    mgr, store, _ = make_manager(tmp_path)
    try:
        mgr.start([StreamConfig("cam", camera.url("file264"), segment_duration=60,
                                streaming_enabled=False)])
        assert wait_until(lambda: _st(mgr, "cam").recording, 15)
        time.sleep(3)
        camera.stop()
        assert wait_until(lambda: _st(mgr, "cam").state == StreamState.RECONNECTING, 12)
        assert _st(mgr, "cam").last_error
        # The segment is finished while the camera is away (a gap, not a broken file).
        assert wait_until(lambda: not _st(mgr, "cam").recording, 8)
        time.sleep(max(0.0, 15 - 8))
        camera.start()
        back = time.monotonic()
        assert wait_until(lambda: _st(mgr, "cam").state == StreamState.ACTIVE, 5), \
            _st(mgr, "cam")
        assert wait_until(lambda: _st(mgr, "cam").recording, 5 - (time.monotonic() - back))
        assert time.monotonic() - back <= 5.0
        assert _st(mgr, "cam").reconnects >= 1
        time.sleep(2)
    finally:
        mgr.stop(10)
        camera.close()
    rows = store.of("cam")
    assert len(rows) == 2 and all(r.is_complete for r in rows)
    before, after = rows
    assert after.start_time - before.end_time >= 10  # the outage is a gap
    for r in rows:
        probed = probe_segment(r.file_path)
        assert probed is not None and probed.duration > 1.5
        with av.open(r.file_path) as c:
            assert sum(1 for _ in c.decode(video=0)) == probed.video_packets


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never answers (a hung camera)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    conns: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conns.append(srv.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, name="silent-server", daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join(2)
    for c in conns:
        c.close()
    srv.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_bad_urls_end_in_the_right_state_with_readable_errors(
        rtsp_camera: TestCamera, silent_server: int, tmp_path: Path) -> None:
    before = video_threads()
    mgr, store, _ = make_manager(tmp_path, open_timeout_seconds=2.0)
    streams = {
        "refused": f"rtsp://127.0.0.1:{_free_port()}/x",
        "silent": f"rtsp://127.0.0.1:{silent_server}/x",
        "notfound": rtsp_camera.url("no-such-mount"),
        "garbage": "this is not a url",
        "scheme": "ftp://127.0.0.1/cam",
        "auth": "rtsp://user:secret@127.0.0.1:1/x",
    }
    mgr.start([StreamConfig(n, u) for n, u in streams.items()])
    try:
        expect = {
            "refused": (StreamState.RECONNECTING, "connection refused"),
            "silent": (StreamState.RECONNECTING, "no answer"),
            "notfound": (StreamState.ERROR, "404"),
            "garbage": (StreamState.ERROR, "unsupported URL scheme"),
            "scheme": (StreamState.ERROR, "unsupported URL scheme ('ftp')"),
        }
        def reached(name: str, state: StreamState) -> bool:
            st = _st(mgr, name)
            return st.state == state and bool(st.last_error)

        for name, (state, text) in expect.items():
            assert wait_until(functools.partial(reached, name, state), 10), _st(mgr, name)
            assert text in _st(mgr, name).last_error, (name, _st(mgr, name).last_error)
        assert wait_until(lambda: _st(mgr, "auth").last_error, 5)
        assert "secret" not in _st(mgr, "auth").last_error, "passwords never shown"
        assert _st(mgr, "refused").reconnects >= 1
    finally:
        t0 = time.monotonic()
        mgr.stop(10)
        elapsed = time.monotonic() - t0
    assert elapsed < 4.0, "a reader blocked in open stops within the open timeout"
    assert video_threads() == before == []
    assert store.all() == []


class _FakeMemory:
    def __init__(self) -> None:
        self.reading = MemoryReading(100, 10**12, 0.0)

    def __call__(self) -> MemoryReading:
        return self.reading


@pytest.mark.slow
def test_governor_pressure_thins_live_view_and_keeps_recording_complete(
        rtsp_camera: TestCamera, tmp_path: Path) -> None:
    governor = MemoryGovernor(MemoryLimits(rss_pressure_bytes=1000, rss_critical_bytes=2000),
                              read=_FakeMemory())
    mgr, store, pool = make_manager(tmp_path, governor=governor)
    mgr.start([StreamConfig("g", rtsp_camera.url("file264"), segment_duration=60)])
    try:
        assert wait_until(lambda: _st(mgr, "g").recording, 15)
        time.sleep(2)
        threads = mgr.pipeline("g")
        assert threads is not None and threads.live is not None
        assert threads.recorder is not None
        live_q, rec_q = threads.live.queue, threads.recorder.queue
        governor.apply(PressureLevel.PRESSURE)
        assert live_q.drop_level == DropLevel.KEY_ONLY and rec_q.drop_level == DropLevel.NONE
        time.sleep(0.5)  # what was queued before the switch is delivered first
        delivered0 = live_q.stats().delivered
        time.sleep(6)
        live_during = live_q.stats().delivered - delivered0
        assert 1 <= live_during <= 5, "only keyframes (GOP 2 s) reach live view"
        governor.apply(PressureLevel.CRITICAL)
        assert live_q.drop_level == DropLevel.ALL
        peak = 0
        for _ in range(30):
            time.sleep(0.1)
            peak = max(peak, len(live_q), len(rec_q))
        assert len(live_q) == 0 and peak < 50, "nothing grows without bound"
        assert pool.stats().slabs_in_use < 100
        governor.apply(PressureLevel.NORMAL)
        time.sleep(1)
        video_packets = threads.reader.packets if threads.reader else 0
        assert video_packets > 0
    finally:
        mgr.stop(10)
    rows = store.of("g")
    assert len(rows) == 1 and rows[0].is_complete
    probed = probe_segment(rows[0].file_path)
    assert probed is not None
    duration = rows[0].end_time - rows[0].start_time  # type: ignore[operator]
    # Recording stayed complete through PRESSURE and CRITICAL: every frame is in the file.
    assert probed.video_packets == pytest.approx(duration * 15, abs=2)
    assert _st(mgr, "g").dropped > 0


def _newest_live_segment(mgr: StreamManager, name: str) -> int:
    """Number of the newest segment in `name`'s live playlist (-1 before it exists)."""
    try:
        text = (Path(mgr.hls_dir(name)) / "index.m3u8").read_text()
    except OSError:
        return -1
    uris = [ln for ln in text.splitlines() if ln.startswith("seg_")]
    return int(uris[-1][4:].split(".")[0]) if uris else -1


@pytest.mark.slow
def test_governor_levels_treat_live_view_with_and_without_audio_alike(
        rtsp_camera: TestCamera, tmp_path: Path) -> None:
    """PRESSURE: both playlists advance (keyframes only); CRITICAL: neither grows; NORMAL:
    both resume. Regression: with FFmpeg's default 10 s max_interleave_delta the playlist of
    the stream with audio froze under PRESSURE (its muxer waited for dropped audio) while the
    audio-less one went on, which looked like "CRITICAL does not pause the audio-less one"."""
    governor = MemoryGovernor(MemoryLimits(), read=_FakeMemory())
    mgr, _, _ = make_manager(tmp_path, governor=governor)
    names = {"aud": "live264", "noaud": "live264na"}
    mgr.start([StreamConfig(n, rtsp_camera.url(m), record=False) for n, m in names.items()])

    def newest() -> dict[str, int]:
        return {n: _newest_live_segment(mgr, n) for n in names}

    def advanced(since: dict[str, int], by: int) -> bool:
        now = newest()
        return all(now[n] >= since[n] + by for n in names)

    try:
        assert wait_until(lambda: min(newest().values()) >= 1, 20), newest()
        governor.apply(PressureLevel.PRESSURE)
        at_pressure = newest()
        assert wait_until(lambda: advanced(at_pressure, 2), 12), (at_pressure, newest())
        governor.apply(PressureLevel.CRITICAL)
        time.sleep(1.0)  # a segment the muxer was closing may still land
        at_critical = newest()
        time.sleep(5.0)  # > 2 GOPs and 2 segment lengths: any growth would show
        assert newest() == at_critical, "no live segment may be written under CRITICAL"
        governor.apply(PressureLevel.NORMAL)
        assert wait_until(lambda: advanced(at_critical, 2), 10), (at_critical, newest())
    finally:
        mgr.stop(10)
