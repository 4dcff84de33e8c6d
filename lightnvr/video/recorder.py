"""Continuous recording of one stream into crash-safe fragmented MP4 segments.

Design: `Recorder` owns one thread, `recorder:<stream>`, fed by its HandoffQueue (governor
role RECORDING: never throttled, only its capacity drops whole GOPs). It stream-copies video
(and AAC audio when `record_audio`) into segments of `segment_duration` seconds, each starting
on a keyframe; the keyframe that ends one segment is the first packet of the next, so there is
neither gap nor overlap. The crash-safety protocol is numbered in docs/storage.md ("Recording
a segment", steps 1-7); the code below cites the step it implements. The thread exits when the
queue is closed and drained (the reader's stop closes it), finishing the open segment first.

What to record is decided per packet from flags the stream manager sets, so every file
operation happens in this one thread (`_wanted`): continuous recording (`continuous`, gated
by the stream's schedule in local time, schedule.py), manual recording (`manual`) and a
detection event (`events`, an EventWindow shared with the manager). Each segment carries the
trigger type it was opened for ("scheduled" wins over "manual" over "detection"); when the
wanted type changes the segment is cut at the next keyframe (chained, no gap), and when
nothing is wanted any more it is closed at the next keyframe. A storage pause closes at once.
Between detection clips a stream with `detection_based_recording` keeps its last
`pre_detection_buffer` seconds of whole GOPs in memory (event_recording.GopBuffer); a clip
starts with them, so it begins that long before the trigger. Under governor CRITICAL the
buffer is emptied and not refilled (recording itself is never throttled).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from lightnvr.core.clock import SYSTEM_CLOCK, Clock
from lightnvr.core.memory.handoff import HandoffQueue, WakePolicy
from lightnvr.core.recordings_store import RecordingsStore, SegmentOpened, TriggerType
from lightnvr.core.stream_config import StreamConfig
from lightnvr.storage.paths import segment_dir
from lightnvr.video.consumer import ConsumerThread, consume
from lightnvr.video.event_recording import EventWindow, GopBuffer, pre_event_seconds
from lightnvr.video.faults import write_hang
from lightnvr.video.muxing import FRAGMENTED_MP4_OPTIONS, add_streams, make_packet
from lightnvr.video.packet import MediaPacket, StreamInfo
from lightnvr.video.schedule import ScheduleGate

log = logging.getLogger(__name__)


# A recorder needs no packet the moment it is demuxed: its queue wakes it when 64 packets
# wait (~1 s of a 15 fps camera with AAC) or the oldest has waited 0.25 s, ~4 wake-ups a
# second instead of 10 polls, each muxing a longer run of packets with the GIL (fewer
# hand-overs). Segment cuts do not care: a keyframe is cut on when handled, by its dts.
RECORDER_WAKE = WakePolicy(batch=64, max_delay=0.25)


@dataclass(frozen=True, slots=True)
class RecorderSettings:
    storage_path: str
    mp4_directory_format: str = "year_month_day"
    fsync_interval_seconds: float = 5.0
    idle_close_seconds: float = 5.0  # no packet for this long: finish the segment (outage)


def segment_path(root: str, stream: str, start_wall: float, directory_format: str) -> str:
    """<root>/<stream>/<YYYY>/<MM>/<DD>/<stream>_<YYYYMMDD>_<HHMMSS>.mp4 (local time; the
    directory per `[storage] mp4_directory_format`, storage/paths.py)."""
    stamp = time.strftime("%Y%m%d_%H%M%S", time.localtime(start_wall))
    return os.path.join(segment_dir(root, stream, start_wall, directory_format),
                        f"{stream}_{stamp}.mp4")


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_dirs(path: str) -> None:
    """mkdir -p, fsyncing the parent of each created directory (it must survive power loss)."""
    missing = []
    p = path
    while not os.path.isdir(p):
        missing.append(p)
        p = os.path.dirname(p)
    for d in reversed(missing):
        os.makedirs(d, exist_ok=True)
        _fsync_dir(os.path.dirname(d))


@dataclass(slots=True)
class _Segment:
    """The open segment's file, streams and timeline (recorder thread only)."""

    info: StreamInfo
    trigger: TriggerType
    path: str
    start_wall: float
    first_dts: int
    cut_ticks: int
    time_base: Fraction
    last_dts: int = 0
    last_wall: float = 0.0
    next_sync: float = 0.0
    step: int = 0
    frames: int = 0
    container: Any = None
    vstream: Any = None
    astream: Any = None
    sync_fd: int = -1
    rec_id: int | None = None


class Recorder(ConsumerThread):
    """Writes one stream's segments; see the module doc."""

    THREAD_PREFIX = "recorder"

    def __init__(self, config: StreamConfig, settings: RecorderSettings,
                 store: RecordingsStore, queue: HandoffQueue[MediaPacket],
                 trigger_type: TriggerType = "scheduled", clock: Clock | None = None,
                 events: EventWindow | None = None,
                 memory_critical: Callable[[], bool] | None = None) -> None:
        super().__init__()
        self.config = config
        self.name = config.name
        self.settings = settings
        self._store = store
        self.queue = queue
        queue.set_wake(RECORDER_WAKE)
        self._seg: _Segment | None = None
        self._next_start: float | None = None  # chained start time of the next segment
        # End time of the last segment: a later one never starts before it. Arrival times
        # of a live camera's packets jitter against their media clock, so a keyframe can
        # arrive "earlier" than the previous segment's media-derived end (seen: 0.25 s).
        self._last_end = 0.0
        self.enabled = True
        self.trigger_type: TriggerType = trigger_type  # of the segment open now (or last)
        # What to record (set by the manager, read by the thread; see the module doc).
        self.continuous = trigger_type == "scheduled"
        self.manual = trigger_type == "manual"
        self.events = events or EventWindow()
        self.clock: Clock = clock or SYSTEM_CLOCK
        self.schedule = ScheduleGate(config.record_on_schedule, config.recording_schedule)
        self._prebuffer = GopBuffer(pre_event_seconds(config))
        self._memory_critical = memory_critical
        self._shed = False  # governor CRITICAL: no pre-event buffering
        self._next_check = 0.0  # monotonic time of the next _check_memory() while packets flow
        self.paused_reason = ""
        self.segments_written = 0
        self.current_path = ""
        self._finishing = False
        self._hang = write_hang()

    def update_config(self, config: StreamConfig) -> None:
        """Settings that need no restart (schedule, pre-event buffer, segment length): plain
        attribute swaps, read by the thread at its next packet."""
        self.config = config
        self.schedule = ScheduleGate(config.record_on_schedule, config.recording_schedule)
        self._prebuffer.seconds = pre_event_seconds(config)
        seg = self._seg
        if seg is not None:  # the open segment too ends at its next keyframe past the new length
            seg.cut_ticks = int(config.segment_duration / seg.time_base)

    def prebuffer_seconds(self) -> float:
        """How far back the next detection clip starts (any thread; event_recording.py)."""
        return self._prebuffer.seconds

    def prebuffered_bytes(self) -> int:
        """Bytes held for the next detection clip now (any thread; 0 while memory is CRITICAL
        or nothing waits for an event)."""
        return self._prebuffer.bytes

    @property
    def recording(self) -> bool:
        # True until a finishing segment's row is complete (_finish), so a caller that sees
        # recording go false may rely on the row being complete (API status, tests).
        return self._seg is not None or self._finishing

    # -- the thread ------------------------------------------------------------------------
    def _run(self) -> None:
        log.info("recorder:%s started (%s s segments)", self.name, self.config.segment_duration)
        try:
            # The queue's wake policy sets the pace; `poll` only bounds an idle wait.
            consume(self.queue, self._one, self._idle, self._wake, poll=1.0, beat=self._beat)
        finally:
            self._finish(None)
            self._prebuffer.clear()
            self.queue.discard_all()
            log.info("recorder:%s exited (%d segments written)", self.name,
                     self.segments_written)

    def _one(self, item: MediaPacket) -> None:
        kept = False
        now = self.clock.monotonic()
        if now >= self._next_check:
            # About once a second while packets flow: _idle() runs only when the queue is
            # empty at a wake-up, which a batching queue (RECORDER_WAKE) rarely is.
            self._next_check = now + 1.0
            self._check_memory()
        try:
            kept = self._handle(item)
        except Exception:
            self._on_error()
        finally:
            if not kept:
                item.release()

    def _wanted(self, wall: float) -> TriggerType | None:
        """The kind of recording wanted at `wall` (see the module doc), None for nothing."""
        if not self.enabled or self.paused_reason:
            return None
        if self.continuous and self.schedule.allows(wall):
            return "scheduled"
        if self.manual:
            return "manual"
        if self.events.active(wall):
            return "detection"
        return None

    def _on_error(self) -> None:
        errors = self._count_error("packet not written")
        seg = self._seg
        if seg is not None and errors % 10 == 0:
            self._finish(None)  # persistent failure: start afresh at the next keyframe

    def _check_memory(self) -> None:
        """Governor CRITICAL: drop the pre-event buffer and stop filling it (module doc)."""
        if self._memory_critical is not None:
            shed = self._memory_critical()
            if shed and not self._shed:
                log.warning("recorder:%s: memory critical, pre-event buffer dropped", self.name)
                self._prebuffer.clear()
            self._shed = shed

    def _idle(self) -> None:
        self._check_memory()
        seg = self._seg
        if seg is None:
            return
        now = self.clock.wall()  # the clock that stamped the packets (item.wall)
        if not self.enabled or self.paused_reason:
            self._finish(None)
        elif seg.trigger == "detection" and self._wanted(now) is None:
            self._finish(None)  # event over and the camera went quiet: no keyframe will come
            self._next_start = None
        elif now - seg.last_wall >= self.settings.idle_close_seconds:
            log.info("recorder:%s: no packets for %.0f s, finishing %s", self.name,
                     now - seg.last_wall, seg.path)
            self._finish(None)
            self._next_start = None
        elif now >= seg.next_sync:
            self._sync(seg, now)

    def _handle(self, item: MediaPacket) -> bool:
        """Write (or buffer) one packet; True if the pre-event buffer kept the reference."""
        seg = self._seg
        if not self.enabled or self.paused_reason:
            if seg is not None:
                self._finish(None)
                self._next_start = None
            self._prebuffer.clear()
            return False
        want = self._wanted(item.wall)
        if seg is None and want == "detection" and len(self._prebuffer):
            seg = self._flush_prebuffer()
        if item.is_video:
            if item.is_keyframe and (seg is None or seg.info is not item.info
                                     or seg.trigger != want
                                     or item.dts - seg.first_dts >= seg.cut_ticks):
                if seg is not None:
                    self._finish(item if seg.info is item.info else None)
                    if want is None:
                        self._next_start = None
                if want is None:
                    return self._buffer(item)
                seg = self._open(item, want)
                if seg is None:
                    return False
            elif seg is None:
                return self._buffer(item)
            elif seg.info is not item.info:
                self._finish(None)
                return False
        elif seg is None or seg.info is not item.info:
            return self._buffer(item)
        self._write(seg, item)
        return False

    def _buffer(self, item: MediaPacket) -> bool:
        return not self._shed and self._prebuffer.add(item)

    def _write(self, seg: _Segment, item: MediaPacket) -> None:
        if self._hang is not None:
            self._hang()  # tests only (video/faults.py): a write that never returns
        if item.is_video:
            stream = seg.vstream
            d = item.dts - seg.last_dts
            if d > 0:
                seg.step = d
            seg.last_dts = item.dts
            seg.frames += 1
        else:
            stream = seg.astream
            if stream is None:
                return
        seg.container.mux(make_packet(item, stream, in_place=True))
        seg.last_wall = item.wall
        if item.wall >= seg.next_sync:
            self._sync(seg, item.wall)

    def _flush_prebuffer(self) -> _Segment | None:
        """Open a detection clip at the oldest buffered keyframe and write the buffer."""
        packets = self._prebuffer.take()
        seg: _Segment | None = None
        try:
            self._next_start = None
            seg = self._open(packets[0], "detection")
            if seg is not None:
                log.info("recorder:%s: detection clip starts %.1f s before now with %d "
                         "buffered packets", self.name, packets[-1].wall - packets[0].wall,
                         len(packets))
                for p in packets:
                    if p.info is seg.info:
                        self._write(seg, p)
        finally:
            for p in packets:
                p.release()
        return seg

    # -- segment lifecycle (docs/storage.md, "Recording a segment") -------------------------
    def _open(self, key: MediaPacket, trigger: TriggerType) -> _Segment | None:
        import av

        info = key.info
        self._prebuffer.clear()  # older than this segment: never part of a later clip
        # Chained start: the previous segment ended exactly here (no gap, no overlap).
        start = self._next_start if self._next_start is not None else key.wall
        if self._last_end - 5.0 < start < self._last_end:  # jitter, not a clock step back
            start = self._last_end  # one stream's segments never overlap
        seg = _Segment(info, trigger, self._unique_path(start), start, key.dts,
                       int(self.config.segment_duration / info.video_time_base),
                       info.video_time_base, last_dts=key.dts, last_wall=key.wall)
        # Step 1: directories exist and are durable.
        _make_dirs(os.path.dirname(seg.path))
        # Step 2: the row exists (is_complete=0) before the file does.
        try:
            seg.rec_id = self._store.segment_opened(SegmentOpened(
                self.name, seg.path, seg.start_wall, info.width, info.height, int(info.fps),
                info.video_codec, trigger))
        except Exception:
            log.error("recorder:%s: cannot register %s (recording anyway; start-up "
                      "reconciliation will register the file)", self.name, seg.path,
                      exc_info=True)
        # Step 3: fragmented MP4, moov first, fragments written through.
        try:
            seg.container = av.open(seg.path, "w", format="mp4",
                                    options=dict(FRAGMENTED_MP4_OPTIONS))
            seg.vstream, seg.astream = add_streams(
                seg.container, info, self.config.record_audio, f"recorder:{self.name}")
            seg.container.start_encoding()  # creates the file and writes the empty moov
            seg.sync_fd = os.open(seg.path, os.O_RDONLY)
        except Exception:
            log.error("recorder:%s: cannot create %s", self.name, seg.path, exc_info=True)
            self._abandon(seg)
            return None
        seg.next_sync = key.wall + self.settings.fsync_interval_seconds
        self._seg = seg
        self.current_path = seg.path
        self.trigger_type = trigger
        log.info("recorder:%s: %s segment %s opened", self.name, trigger, seg.path)
        return seg

    def _unique_path(self, start_wall: float) -> str:
        path = segment_path(self.settings.storage_path, self.name, start_wall,
                            self.settings.mp4_directory_format)
        base, n = path[:-4], 1
        while os.path.exists(path):
            path = f"{base}_{n}.mp4"
            n += 1
        return path

    def _sync(self, seg: _Segment, now: float) -> None:
        """Step 4: bound what a power loss can take (the muxer wrote through already)."""
        seg.next_sync = now + self.settings.fsync_interval_seconds
        try:
            os.fdatasync(seg.sync_fd)
        except OSError:
            log.warning("recorder:%s: fdatasync failed", self.name, exc_info=True)

    def _finish(self, next_key: MediaPacket | None) -> None:
        """Steps 5-7: close, fsync file and directory, then complete (or discard) the row.

        `next_key` is the keyframe that starts the next segment: this one ends at its time.
        """
        seg = self._seg
        if seg is None:
            return
        self._finishing = True
        self._seg = None
        try:
            self._close_segment(seg, next_key)
        finally:
            self._finishing = False

    def _close_segment(self, seg: _Segment, next_key: MediaPacket | None) -> None:
        """_finish's steps 5-7 for `seg`, no longer the open segment."""
        self.current_path = ""
        if next_key is not None:
            end_dts = next_key.dts
        else:
            end_dts = seg.last_dts + (seg.step or int(1 / (15 * seg.time_base)))
        end_time = seg.start_wall + float((end_dts - seg.first_dts) * seg.time_base)
        self._next_start = end_time if next_key is not None else None
        self._last_end = max(self._last_end, end_time)
        try:
            seg.container.close()  # Step 5: last fragment and trailer written
        except Exception:
            log.error("recorder:%s: closing %s failed", self.name, seg.path, exc_info=True)
        try:
            os.fsync(seg.sync_fd)  # Step 6: file, then its directory entry, are durable
            _fsync_dir(os.path.dirname(seg.path))
        except OSError:
            log.warning("recorder:%s: fsync of %s failed", self.name, seg.path, exc_info=True)
        finally:
            os.close(seg.sync_fd)
        if seg.frames == 0:
            self._abandon(seg)
            return
        size = os.path.getsize(seg.path)
        self.segments_written += 1
        log.info("recorder:%s: segment %s closed (%.1f s, %d bytes)", self.name, seg.path,
                 end_time - seg.start_wall, size)
        if seg.rec_id is not None:
            try:
                self._store.segment_closed(seg.rec_id, end_time, size)  # Step 7: row complete
            except Exception:
                log.error("recorder:%s: cannot complete the row of %s (start-up "
                          "reconciliation will)", self.name, seg.path, exc_info=True)

    def _abandon(self, seg: _Segment) -> None:
        """Step 7 (no playable frame): remove the file, then the row."""
        if seg.container is not None:
            try:
                seg.container.close()
            except Exception:
                log.debug("closing abandoned %s", seg.path, exc_info=True)
        try:
            os.unlink(seg.path)
            _fsync_dir(os.path.dirname(seg.path))
        except FileNotFoundError:
            pass
        except OSError:
            log.warning("recorder:%s: cannot remove %s", self.name, seg.path, exc_info=True)
        if seg.rec_id is not None:
            try:
                self._store.segment_discarded(seg.rec_id)
            except Exception:
                log.error("recorder:%s: cannot discard row %s", self.name, seg.rec_id,
                          exc_info=True)
