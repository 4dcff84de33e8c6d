"""End to end against the real RTSP test camera: 3 streams recorded and streamed live at once.

One module-scoped run (45 s, 15 s segments; H.264+AAC live, H.265+AAC live, a looped 2 Mbit/s
file) feeds several tests, so the suite pays for the recording once. During the run the HLS
playlists are sampled every second and snapshots are taken.
"""

from __future__ import annotations

import io
import itertools
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import pytest

from lightnvr.core.stream_config import StreamConfig
from lightnvr.storage.probe import probe_segment
from lightnvr.video.stream_manager import StreamManager, StreamState, StreamStatus
from tests.fixtures.camera import TestCamera
from tests.fixtures.wait import wait_until
from tests.video.helpers import SqliteStore, make_manager, video_threads

pytestmark = [pytest.mark.camera]

RUN_SECONDS = 45.0
SEGMENT = 15
STREAMS = {"h264": ("live264", "h264"), "h265": ("live265", "hevc"), "file": ("file264", "h264")}


@dataclass
class Run:
    store: SqliteStore
    started: float = 0.0
    stopped: float = 0.0
    stop_seconds: float = 0.0
    playlists: dict[str, list[str]] = field(default_factory=dict)
    hls_files: dict[str, list[int]] = field(default_factory=dict)
    hls_dirs: dict[str, str] = field(default_factory=dict)
    last_segments: dict[str, bytes] = field(default_factory=dict)
    snapshots: dict[str, bytes | None] = field(default_factory=dict)
    statuses: dict[str, StreamStatus] = field(default_factory=dict)
    threads_after: list[str] = field(default_factory=list)


def _sample_hls(mgr: StreamManager, run: Run) -> None:
    for name in STREAMS:
        d = mgr.hls_dir(name)
        run.hls_dirs[name] = d
        try:
            text = Path(d, "index.m3u8").read_text()
            files = os.listdir(d)
        except OSError:
            continue
        run.playlists.setdefault(name, []).append(text)
        run.hls_files.setdefault(name, []).append(sum(f.endswith(".m4s") for f in files))
        segs = re.findall(r"^(seg_\d+\.m4s)$", text, re.M)
        if segs:
            try:
                init = Path(d, "init.mp4").read_bytes()
                run.last_segments[name] = init + Path(d, segs[-1]).read_bytes()
            except OSError:
                pass


@pytest.fixture(scope="module")
def run(rtsp_camera: TestCamera, tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("pipeline")
    mgr, store, _ = make_manager(tmp)
    r = Run(store)
    mgr.start([StreamConfig(name, rtsp_camera.url(mount), segment_duration=SEGMENT)
               for name, (mount, _) in STREAMS.items()])
    try:
        assert wait_until(lambda: all(s.recording for s in mgr.statuses()), 20), \
            [(s.name, s.state, s.last_error) for s in mgr.statuses()]
        r.started = time.time()
        while time.time() - r.started < RUN_SECONDS:
            _sample_hls(mgr, r)
            if not r.snapshots and time.time() - r.started > 5:
                r.snapshots = {n: mgr.snapshot_jpeg(n) for n in STREAMS}
            time.sleep(1.0)
        r.statuses = {s.name: s for s in mgr.statuses()}
    finally:
        t0 = time.monotonic()
        mgr.stop(20)
        r.stop_seconds = time.monotonic() - t0
        r.stopped = time.time()
        r.threads_after = video_threads()
    return r


def _decode_all(path: str) -> tuple[int, list[tuple[str, str, str]]]:
    with av.open(path) as c:
        streams = [(str(s.type), s.codec_context.name, s.codec_tag) for s in c.streams]
        frames = sum(1 for _ in c.decode(video=0))
    return frames, streams


@pytest.mark.slow
def test_every_segment_plays_with_its_codec_and_audio(run: Run) -> None:
    for name, (_, codec) in STREAMS.items():
        rows = run.store.of(name)
        assert len(rows) >= 3, f"{name}: {len(rows)} segments in {RUN_SECONDS} s"
        for row in rows:
            assert row.is_complete
            frames, streams = _decode_all(row.file_path)
            assert streams[0][:2] == ("video", codec)
            if codec == "hevc":
                assert streams[0][2] == "hvc1"
            assert ("audio", "aac") in [s[:2] for s in streams], f"{name}: no AAC track"
            probed = probe_segment(row.file_path)
            assert probed is not None and frames == probed.video_packets


@pytest.mark.slow
def test_consecutive_segments_leave_no_gap(run: Run) -> None:
    for name in STREAMS:
        rows = run.store.of(name)
        for a, b in itertools.pairwise(rows):
            assert a.end_time == pytest.approx(b.start_time, abs=1e-6)
            probed = probe_segment(a.file_path)
            assert probed is not None
            file_end = a.start_time + probed.duration
            assert abs(b.start_time - file_end) <= 1 / 15 + 0.005, name
        for row in rows[:-1]:
            assert SEGMENT <= row.end_time - row.start_time <= SEGMENT + 2.1  # GOP 2 s


@pytest.mark.slow
def test_recorded_duration_matches_wall_clock(run: Run) -> None:
    for name in STREAMS:
        rows = run.store.of(name)
        total = 0.0
        for row in rows:
            probed = probe_segment(row.file_path)
            assert probed is not None
            total += probed.duration
        wall = run.stopped - rows[0].start_time
        assert total == pytest.approx(wall, rel=0.02), (name, total, wall)


@pytest.mark.slow
def test_hls_playlist_updates_plays_and_stays_bounded(run: Run) -> None:
    for name in STREAMS:
        lists = run.playlists.get(name, [])
        assert len(lists) > 10
        seqs = [int(m.group(1)) for t in lists
                if (m := re.search(r"#EXT-X-MEDIA-SEQUENCE:(\d+)", t))]
        assert seqs[-1] > seqs[0] + 5, f"{name}: playlist does not advance: {seqs}"
        assert max(len(re.findall(r"^seg_", t, re.M)) for t in lists) <= 5
        assert max(run.hls_files[name]) <= 5 + 3, "old segments are deleted"
        with av.open(io.BytesIO(run.last_segments[name]), "r") as c:
            assert len(list(c.decode(video=0))) > 10
        assert not os.path.exists(run.hls_dirs[name]), "live files removed at stop"


@pytest.mark.slow
def test_snapshots_and_status(run: Run) -> None:
    for name, (_, codec) in STREAMS.items():
        jpeg = run.snapshots.get(name)
        assert jpeg is not None and jpeg[:2] == b"\xff\xd8", name
        st = run.statuses[name]
        assert st.state == StreamState.ACTIVE and st.last_error == ""
        assert st.video_codec == codec and st.audio_codec == "aac"
        assert (st.width, st.height) in ((640, 360), (1280, 720))
        assert st.packets > RUN_SECONDS * 15 and st.bitrate_bps > 0
        assert st.last_packet_age is not None and st.last_packet_age < 2
        assert st.segments_written >= 2 and st.recording
    assert run.statuses["file"].bitrate_bps > 1_000_000  # the realistic ~2 Mbit/s clip


@pytest.mark.slow
def test_everything_stopped_within_deadline(run: Run) -> None:
    assert run.stop_seconds < 8.0
    assert run.threads_after == []


def _status(mgr: StreamManager, name: str) -> Any:
    st = mgr.status(name)
    assert st is not None
    return st
