"""Benchmark: our Python per recorded packet, against PyAV demuxing and muxing the same packets.

    .venv/bin/python tools/bench_hotpath.py [--rounds 5] [--loops 4]

Both contenders read the test clip (tools/make_test_clips.py: 720p15 H.264 + AAC, 20 s,
~1,238 packets) `--loops` times in this one thread and write fragmented MP4, timed with the
thread's CPU clock, interleaved for `--rounds` rounds (medians, min-max):

- `pyav bare`: `demux()` -> `mux()` with the recorder's muxer options, nothing else - the
  reference, what any PyAV recorder pays per packet;
- `lightnvr path`: the real `StreamReader` pumping the clip (timestamp repair, pool,
  `MediaPacket`, `HandoffQueue.put`) into the real `Recorder` (queue take, schedule, segment,
  `make_packet`, `mux`, release), drained every 64 packets as the recorder's wake policy
  batches them. The segment's database row goes to a store that only counts (one row per
  segment, not per packet).

Their difference is the Python our pipeline adds per packet, without threads, GIL hand-overs
or the network (those are in tools/bench_shape.py). docs/performance.md quotes it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lightnvr.core.memory.handoff import HandoffQueue, QueueSignal  # noqa: E402
from lightnvr.core.memory.pool import BufferPool  # noqa: E402
from lightnvr.core.recordings_store import SegmentOpened  # noqa: E402
from lightnvr.core.stream_config import StreamConfig  # noqa: E402
from lightnvr.video.avcompat import add_stream_copy  # noqa: E402
from lightnvr.video.muxing import FRAGMENTED_MP4_OPTIONS  # noqa: E402
from lightnvr.video.packet import MediaPacket, StreamInfo  # noqa: E402
from lightnvr.video.reader import StreamReader  # noqa: E402
from lightnvr.video.recorder import RECORDER_WAKE, Recorder, RecorderSettings  # noqa: E402
from tools.bench_runner import bench_clips, load_report  # noqa: E402


class _CountingStore:
    """A RecordingsStore that numbers segments (the benchmark measures packets, not SQL)."""

    def __init__(self) -> None:
        self.opened = 0

    def segment_opened(self, segment: SegmentOpened) -> int:
        self.opened += 1
        return self.opened

    def segment_closed(self, recording_id: int, end_time: float, size_bytes: int) -> None:
        pass

    def segment_discarded(self, recording_id: int) -> None:
        pass


class _ClipSource:
    """The clip as a reader's Source; `packets()` lets `between` run every 64 packets."""

    def __init__(self, clip: Path, between: Callable[[], None]) -> None:
        import av

        self._container = av.open(str(clip))
        video, audio = self._container.streams.video[0], self._container.streams.audio[0]
        self.info = StreamInfo(video, audio)
        self.video_index, self.audio_index = video.index, audio.index
        self._streams = [video, audio]
        self._between = between

    def packets(self) -> Iterator[Any]:
        for i, pkt in enumerate(self._container.demux(self._streams), 1):
            yield pkt
            if i % RECORDER_WAKE.batch == 0:
                self._between()

    def close(self) -> None:
        self._container.close()


def pyav_bare(clip: Path, out_dir: Path, loops: int) -> tuple[float, int]:
    """(CPU seconds, packets muxed) for bare demux -> mux of the clip, `loops` times."""
    import av

    packets = 0
    t0 = time.thread_time()
    for k in range(loops):
        with av.open(str(clip)) as inp, av.open(str(out_dir / f"bare{k}.mp4"), "w",
                                                  format="mp4",
                                                  options=dict(FRAGMENTED_MP4_OPTIONS)) as out:
            streams = [inp.streams.video[0], inp.streams.audio[0]]
            outs = {s.index: add_stream_copy(out, s) for s in streams}
            for pkt in inp.demux(streams):
                if pkt.dts is None or not pkt.size:
                    continue
                pkt.stream = outs[pkt.stream_index]
                out.mux(pkt)
                packets += 1
    return time.thread_time() - t0, packets


def lightnvr_path(clip: Path, out_dir: Path, loops: int) -> tuple[float, int]:
    """(CPU seconds, packets recorded) for the clip through StreamReader -> Recorder."""
    pool = BufferPool.from_budget(32 * 1024 * 1024)
    packets = 0
    t0 = time.thread_time()
    for k in range(loops):
        config = StreamConfig(name=f"cam{k}", url="rtsp://bench.invalid/clip")
        queue: HandoffQueue[MediaPacket] = HandoffQueue(f"bench:{k}", 2048)
        recorder = Recorder(config, RecorderSettings(storage_path=str(out_dir)),
                            _CountingStore(), queue)
        reader = StreamReader(config, pool)
        reader.add_consumer(queue)

        def drain(queue: HandoffQueue[MediaPacket] = queue, recorder: Recorder = recorder
                  ) -> None:
            items = queue.take_all()
            if not isinstance(items, QueueSignal):
                for item in items:
                    recorder._one(item)  # what the recorder thread does per packet

        source = _ClipSource(clip, drain)
        try:
            reader._pump(source)  # what the reader thread does per connection
            drain()
        finally:
            recorder._finish(None)
            source.close()
        packets += reader.packets
    return time.thread_time() - t0, packets


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--loops", type=int, default=4, help="clip passes per round")
    args = ap.parse_args(argv)
    clip = bench_clips()
    load_report("before")
    per_packet: dict[str, list[float]] = {"pyav bare": [], "lightnvr path": []}
    with tempfile.TemporaryDirectory(prefix="bench-hotpath-") as tmp:
        for r in range(args.rounds):
            for label, run in (("pyav bare", pyav_bare), ("lightnvr path", lightnvr_path)):
                out = Path(tmp) / f"{r}-{label.replace(' ', '-')}"
                out.mkdir()
                cpu, n = run(clip["h264"], out, args.loops)
                per_packet[label].append(cpu / n * 1e6)
                print(f"  round {r + 1}: {label:<14} {n} packets  {cpu / n * 1e6:6.1f} us/packet",
                      flush=True)
    print(f"\nCPU per packet, one thread, {args.rounds} interleaved rounds (median [min-max]):")
    med = {k: statistics.median(v) for k, v in per_packet.items()}
    for label, values in per_packet.items():
        print(f"  {label:<14} {med[label]:6.1f} us  [{min(values):.1f}-{max(values):.1f}]")
    print(f"  our path adds {med['lightnvr path'] - med['pyav bare']:.1f} us a packet "
          f"({med['lightnvr path'] / med['pyav bare']:.2f} x the bare PyAV reference)")
    load_report("after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
