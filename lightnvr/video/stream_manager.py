"""The stream manager: owns every stream's reader, recorder, live writer and detector threads.

Design: per enabled stream, one `reader:<name>` thread (reader.py) fans packets out to the
HandoffQueues of a `recorder:<name>` thread (when `record`, manual recording,
`detection_based_recording` or a triggered detection event needs one), a `live:<name>` thread
(when `streaming_enabled`) and, when the stream detects motion (detection/detector.py), a
`detect:<name>` thread; queues are registered with the MemoryGovernor (roles RECORDING, LIVE
and DETECTION). A detector's motion extends the stream's EventWindow and is emitted as a
DETECTION event (`MOTION_EVENT_DETAIL`). Streams start one at a time (`stagger` thread,
core.stagger). `apply()` restarts only a stream whose settings need it
(StreamConfig.restart_needed). Shutdown follows ARCHITECTURE.md: readers first (their queues
are closed; detectors and their sub-stream readers stop first in that phase, nothing waits for
them), then live writers, then recorders, which finish their segment and complete its row.
The web layer and the daemon use only include_spec/video/stream_manager.pyi.
Schedules and detection events are decided inside the recorder (recorder.py); the manager only
sets its flags and owns each stream's EventWindow, which outlives recorder restarts.

Lock order: `_lock` (the stream table) is never held while stopping or joining threads.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from lightnvr.core.clock import SYSTEM_CLOCK, Clock
from lightnvr.core.cpu_affinity import StreamCpuAffinity
from lightnvr.core.event_snapshots import save_event_snapshot
from lightnvr.core.heartbeat import HeartbeatRegistry
from lightnvr.core.memory.governor import MemoryGovernor, PressureLevel, QueueRole
from lightnvr.core.memory.handoff import HandoffQueue
from lightnvr.core.memory.pool import BufferPool
from lightnvr.core.nvr_events import DetectedObject, EventKind, NvrEvent
from lightnvr.core.recordings_store import RecordingsStore
from lightnvr.core.shutdown import (
    PRIORITY_LIVE,
    PRIORITY_READERS,
    PRIORITY_RECORDERS,
    ShutdownCoordinator,
)
from lightnvr.core.stagger import StaggeredStarter
from lightnvr.core.stream_config import StreamConfig
from lightnvr.video.detection.detector import (
    LiveMotion,
    MotionDetectorThread,
    wants_motion_detector,
)
from lightnvr.video.detection.engine import ModelInfo, ObjectBox
from lightnvr.video.detection.models import EngineSettings, ModelRegistry
from lightnvr.video.detection.motion import MotionResult
from lightnvr.video.detection.objects import (
    ObjectDetectorThread,
    detector_key,
    wants_object_detector,
)
from lightnvr.video.detection.slot import DetectorSlot, sub_reader_name
from lightnvr.video.detection.zones import StoredZone, ZoneShape, motion_zones, zone_shapes
from lightnvr.video.event_recording import EventWindow
from lightnvr.video.live import LiveWriter
from lightnvr.video.live_mse import LiveSubscription, MseHub, MseMuxer, MseSource
from lightnvr.video.packet import MediaPacket
from lightnvr.video.reader import ReaderSettings, StreamReader
from lightnvr.video.recorder import Recorder, RecorderSettings
from lightnvr.video.schedule import SCHEDULE_PAUSED_REASON, schedule_allows
from lightnvr.video.snapshot import SnapshotCache
from lightnvr.video.source import PermanentSourceError, describe_error, open_source
from lightnvr.video.states import StreamState

__all__ = ["MOTION_EVENT_DETAIL", "OBJECT_EVENT_DETAIL", "ProbeResult", "StreamManager",
           "StreamPipeline", "StreamState", "StreamStatus", "VideoSettings"]

MOTION_EVENT_DETAIL = "motion detector"  # NvrEvent.detail of the built-in detector's events
OBJECT_EVENT_DETAIL = "object detector"  # NvrEvent.detail of object detectors' events
DETECTION_QUEUE_CAPACITY = 64  # ~2 keyframe GOPs; a detector that falls behind loses packets

log = logging.getLogger(__name__)


@dataclass(slots=True)
class VideoSettings:
    storage_path: str
    hls_path: str
    mp4_directory_format: str = "year_month_day"
    fsync_interval_seconds: float = 5.0
    stagger_seconds: float = 0.5
    reconnect_backoff_initial_seconds: float = 0.5
    reconnect_backoff_max_seconds: float = 3.0
    stall_timeout_seconds: float = 10.0
    queue_budget_bytes: int = 4 * 1024 * 1024
    open_timeout_seconds: float = 5.0        # (ours) RTSP connect/DESCRIBE limit
    error_retry_seconds: float = 30.0        # (ours) slow retry after 401/403/404/no video
    hls_segment_seconds: float = 2.0         # (ours)
    hls_list_size: int = 5                   # (ours) segments kept in the live playlist
    stop_deadline_seconds: float = 5.0       # (ours) per shutdown phase
    detection_grace_seconds: float = 2.0     # [detection] grace_period: closer events merge
    # (ours) recorder/live heartbeat max_age; app.py lowers it to 0.4 x WatchdogSec
    consumer_heartbeat_seconds: float = 10.0
    allow_demo: bool = True                  # [general] demo_mode: may demo:// be opened
    models_path: str = ""                    # [models] path: object detection models
    api_detection_url: str = ""              # [api_detection] url (detection_model api-detection)
    api_detection_backend: str = "onnx"      # [api_detection] backend
    event_snapshot_dir: str = ""             # [detection] event_snapshots: where ("" = off)
    cpu_affinity: str = "auto"               # [streams] cpu_affinity (core/cpu_affinity.py)


class StreamBrief(NamedTuple):
    name: str
    state: StreamState
    recording: bool
    last_error: str


@dataclass(slots=True)
class StreamStatus:
    name: str
    state: StreamState
    last_error: str = ""
    packets: int = 0
    bytes: int = 0
    dropped: int = 0
    reconnects: int = 0
    timestamp_repairs: int = 0
    recording: bool = False
    recording_paused_reason: str = ""
    segments_written: int = 0
    video_codec: str = ""
    width: int = 0
    height: int = 0
    fps: float = 0.0
    audio_codec: str = ""
    bitrate_bps: int = 0
    last_packet_age: float | None = None
    detection_recording: bool = False  # a detection event (or its post buffer) records a clip
    detection: str = ""        # built-in detector: "" (none), "running", "paused" (CRITICAL)
    detection_frames: int = 0  # frames it analysed since the stream (re)started
    detection_events: int = 0  # motion events it reported
    detection_moving: int = 0  # analysed frames that showed motion (objects)
    detection_error: str = ""  # why the object detector is not working ("" when it is)


@dataclass(slots=True)
class ProbeResult:
    ok: bool
    error: str = ""
    video_codec: str = ""
    width: int = 0
    height: int = 0
    fps: float = 0.0
    audio_codec: str = ""


@dataclass(frozen=True, slots=True)
class StreamPipeline:
    """The threads one stream runs at the moment of the call (None: not running). A snapshot:
    compare it with a later one by identity to see whether a thread was restarted."""

    reader: StreamReader | None
    recorder: Recorder | None
    live: LiveWriter | None
    detector: DetectorSlot | None


@dataclass(slots=True)
class _Stream:
    config: StreamConfig
    manual: bool = False
    reader: StreamReader | None = None
    recorder: Recorder | None = None
    live: LiveWriter | None = None
    detector: DetectorSlot | None = None
    queues: list[HandoffQueue[MediaPacket]] = field(default_factory=list)
    dropped_before: int = 0
    segments_before: int = 0
    events: EventWindow = field(default_factory=EventWindow)


class StreamManager:
    """See the module doc. Thread-safe: the web layer calls it from many threads."""

    def __init__(self, settings: VideoSettings, pool: BufferPool, recordings: RecordingsStore,
                 governor: MemoryGovernor | None = None,
                 heartbeats: HeartbeatRegistry | None = None,
                 clock: Clock | None = None) -> None:
        self.settings = settings
        self._pool = pool
        self._store = recordings
        self._governor = governor
        self._heartbeats = heartbeats
        self._clock = clock or SYSTEM_CLOCK
        self._lock = threading.Lock()
        self._streams: dict[str, _Stream] = {}
        self._paused_reason = ""
        self._snapshots = SnapshotCache(1.0)
        self._starters: list[StaggeredStarter] = []
        self._stopping = False
        self._listener: Callable[[NvrEvent], None] | None = None
        self._zones: dict[str, tuple[ZoneShape, ...]] = {}  # each stream's enabled zones
        self._models = ModelRegistry(EngineSettings(
            settings.models_path, settings.api_detection_url, settings.api_detection_backend))
        self._mse = MseHub(self._mse_queue, self._mse_forget, self._mse_watch)
        # readers, recorders and live writers share the stream CPUs (docs/performance.md)
        self._cpus = StreamCpuAffinity(settings.cpu_affinity)

    # -- configuration ---------------------------------------------------------------------
    def start(self, streams: Sequence[StreamConfig]) -> None:
        """Register `streams` and start the enabled ones one at a time; returns at once."""
        starter = StaggeredStarter(self.settings.stagger_seconds)
        for config in streams:
            config.validate()
            with self._lock:
                if config.name in self._streams:
                    raise ValueError(f"stream {config.name!r} is already managed")
                self._streams[config.name] = _Stream(config)
            starter.add(config.name, functools.partial(self._start_stream, config.name))
        self._starters.append(starter)
        starter.start()

    def apply(self, config: StreamConfig) -> None:
        """Add or update a stream; its threads restart only if the change needs it (motion
        settings and switching the detector on or off never do)."""
        config.validate()
        with self._lock:
            entry = self._streams.get(config.name)
            swapped = entry is not None and not entry.config.restart_needed(config)
            if entry is not None and swapped:
                entry.config = config
                if entry.recorder is not None:
                    entry.recorder.update_config(config)
                if entry.detector is not None:
                    entry.detector.thread.update_config(config)
            if entry is None:
                self._streams[config.name] = _Stream(config)
        if entry is not None and swapped:
            self._sync_detector(entry)
            return
        if entry is not None:
            self._stop_stream(entry)
            entry.config = config
        self._start_stream(config.name)

    def remove(self, name: str) -> None:
        with self._lock:
            entry = self._streams.pop(name, None)
        if entry is not None:
            self._stop_stream(entry)
            self._snapshots.forget(name)

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._streams)

    def pipeline(self, name: str) -> StreamPipeline | None:
        """The threads stream `name` runs now (None: unknown stream); for status and tests."""
        with self._lock:
            e = self._streams.get(name)
            return None if e is None else StreamPipeline(e.reader, e.recorder, e.live,
                                                         e.detector)

    def configs(self) -> list[StreamConfig]:
        """Every managed stream's current configuration, sorted by name (go2rtc follows it)."""
        with self._lock:
            return [self._streams[n].config for n in sorted(self._streams)]

    # -- status ----------------------------------------------------------------------------
    def status(self, name: str) -> StreamStatus | None:
        with self._lock:
            entry = self._streams.get(name)
        return None if entry is None else self._status(entry)

    def statuses(self) -> list[StreamStatus]:
        with self._lock:
            entries = [self._streams[n] for n in sorted(self._streams)]
        return [self._status(e) for e in entries]

    def briefs(self) -> list[StreamBrief]:
        """Name, reader state, recording, last error of every stream, by name: what the event
        hub compares every second, without a full status (queue stats, schedules)."""
        with self._lock:
            entries = [self._streams[n] for n in sorted(self._streams)]
        out = []
        for e in entries:
            r, rec = e.reader, e.recorder
            out.append(StreamBrief(
                e.config.name, r.state if r is not None else StreamState.INACTIVE,
                bool(rec is not None and rec.recording), r.last_error if r is not None else ""))
        return out

    def _status(self, e: _Stream) -> StreamStatus:
        st = StreamStatus(e.config.name, StreamState.INACTIVE)
        r, rec = e.reader, e.recorder
        st.dropped = e.dropped_before + sum(q.stats().dropped for q in list(e.queues))
        st.segments_written = e.segments_before + (rec.segments_written if rec else 0)
        st.recording_paused_reason = self._paused_reason if rec is not None else ""
        cfg, now = e.config, self._clock.wall()
        continuous = cfg.record and (not cfg.record_on_schedule
                                     or schedule_allows(cfg.recording_schedule, now))
        if cfg.record and not continuous and not st.recording_paused_reason:
            st.recording_paused_reason = SCHEDULE_PAUSED_REASON
        st.detection_recording = bool(rec is not None and not continuous and not e.manual
                                      and not self._paused_reason and e.events.active(now))
        st.recording = bool(rec is not None and rec.recording)
        det = e.detector
        if det is not None:
            st.detection = "paused" if self._level() >= PressureLevel.CRITICAL else "running"
            st.detection_frames, st.detection_events = det.thread.samples, det.thread.events
            st.detection_moving = det.thread.moving
            if isinstance(det.thread, ObjectDetectorThread) and det.thread.error:
                st.detection, st.detection_error = "error", det.thread.error
        if r is None:
            return st
        st.state, st.last_error = r.state, r.last_error
        st.packets, st.bytes, st.reconnects = r.packets, r.bytes, r.reconnects
        st.timestamp_repairs = r.timestamp_repairs
        st.bitrate_bps = r.bitrate_bps
        if r.last_packet_mono is not None:
            st.last_packet_age = max(0.0, time.monotonic() - r.last_packet_mono)
        info = r.info
        if info is not None:
            st.video_codec, st.width, st.height = info.video_codec, info.width, info.height
            st.fps = info.fps or round(r.fps_measured, 2)
            st.audio_codec = info.audio_codec
        return st

    # -- live, snapshots, recording controls -----------------------------------------------
    def snapshot_jpeg(self, name: str) -> bytes | None:
        with self._lock:
            entry = self._streams.get(name)
        reader = entry.reader if entry is not None else None
        if reader is None:
            return None
        return self._snapshots.get(name, reader.latest_keyframe)

    def hls_dir(self, name: str) -> str:
        return os.path.join(self.settings.hls_path, name)

    # -- MSE live view (video/live_mse.py, docs/video.md "Low-latency live view") ----------
    def live_subscribe(self, name: str, sub: bool,
                       on_ready: Callable[[], None]) -> LiveSubscription | None:
        """A viewer of `name`'s fMP4 live feed (`sub`: its sub-stream when it has one);
        None when the stream is unknown, stopped or has live streaming off."""
        with self._lock:
            entry = self._streams.get(name)
            if entry is None or entry.reader is None or not entry.config.streaming_enabled:
                return None
            url = entry.config.sub_stream_url if sub else ""
        key = name + "/sub" if url else name
        return self._mse.subscribe(key, functools.partial(self._mse_source, entry, url),
                                   on_ready)

    def live_unsubscribe(self, subscription: LiveSubscription) -> None:
        self._mse.unsubscribe(subscription)

    def live_viewers(self) -> dict[str, int]:
        """Viewers per running fMP4 muxer (`stream` or `stream/sub`)."""
        return self._mse.viewers()

    def _mse_source(self, entry: _Stream, url: str) -> MseSource | None:
        """The main reader, else the detector's sub-stream reader, else a sub reader of our
        own (live only: no recording, no audio) that lives as long as its viewers."""
        main, slot = entry.reader, entry.detector
        if main is None:
            return None
        if not url:
            return MseSource(main.add_consumer, main.remove_consumer, lambda: None,
                             entry.config.record_audio)
        if slot is not None and slot.sub is not None and slot.source == url:
            return MseSource(slot.sub.add_consumer, slot.sub.remove_consumer, lambda: None,
                             False)
        # "/" never occurs in a stream name
        reader = self._new_sub_reader(entry.config, entry.config.name + "/live-sub", url)

        def release() -> None:
            reader.stop(self.settings.stop_deadline_seconds)
            self._forget_reader(reader.name)

        reader.start()
        return MseSource(reader.add_consumer, reader.remove_consumer, release, False)

    def _mse_queue(self, key: str) -> HandoffQueue[MediaPacket]:
        size = max(64, min(4096, self.settings.queue_budget_bytes // 8192))
        q: HandoffQueue[MediaPacket] = HandoffQueue(f"mse:{key}", size)
        if self._governor is not None:
            self._governor.register_queue(q, QueueRole.LIVE)
        return q

    def _mse_forget(self, q: HandoffQueue[MediaPacket]) -> None:
        if self._governor is not None:
            self._governor.unregister_queue(q)

    def _mse_watch(self, muxer: MseMuxer) -> None:
        muxer.cpu_affinity = self._cpus
        if self._heartbeats is not None:  # not critical: a stuck muxer costs live view only
            muxer.watch(self._heartbeats, self.settings.consumer_heartbeat_seconds, False)

    def set_manual_recording(self, name: str, on: bool) -> bool:
        with self._lock:
            entry = self._streams.get(name)
            if entry is None:
                return False
            entry.manual = on
        self._sync_recorder(entry)
        return True

    def manual_recording(self, name: str) -> bool:
        with self._lock:
            entry = self._streams.get(name)
            return bool(entry is not None and entry.manual)

    def trigger_detection(self, name: str, active: bool, duration: float | None = None,
                          objects: Sequence[tuple[str, float]] = ()) -> bool:
        """A detection event starts (`active`), ends (not `active`) or pulses (`active` with
        `duration` seconds). False: unknown stream. See docs/video.md, "Detection recording".
        `objects` ((label, confidence) pairs) go to the event listener (MQTT, events table)."""
        with self._lock:
            entry = self._streams.get(name)
            if entry is None:
                return False
            cfg = entry.config
        self._notify_detection(name, active, objects)
        entry.events.trigger(active, self._clock.wall(), duration,
                             float(cfg.post_detection_buffer),
                             self.settings.detection_grace_seconds)
        log.info("stream %s: detection %s%s", name,
                 "stop" if not active else "start" if duration is None else "pulse",
                 f" {duration:.1f} s" if active and duration is not None else "")
        if active:
            self._sync_recorder(entry)  # a stream that records nothing gets a recorder now
        return True

    def set_detection_zones(self, name: str, zones: Sequence[StoredZone]) -> None:
        """`name`'s stored zones (database/zones.py's Zone, any order): the enabled ones with
        3+ points apply from the next analysed frame - the motion detector counts motion in
        those whose class filter takes "motion", an object detector counts a box by its centre
        and its label (detection/zones.py). May be called before the stream exists."""
        self._set_zones(name, zone_shapes(zones))

    def _set_zones(self, name: str, shapes: tuple[ZoneShape, ...]) -> None:
        with self._lock:
            self._zones[name] = shapes
            entry = self._streams.get(name)
            slot = entry.detector if entry is not None else None
        if slot is None:
            return
        thread = slot.thread
        if isinstance(thread, MotionDetectorThread):
            thread.set_zones(motion_zones(shapes))
        else:
            thread.set_zones(shapes)

    def live_motion(self, name: str) -> LiveMotion | None:
        """The motion of the latest frame `name`'s detector analysed (normalised cells and
        box, the frame's wall time), for a live overlay; None when no detector runs, it is
        paused, or it has analysed nothing yet."""
        with self._lock:
            entry = self._streams.get(name)
            slot = entry.detector if entry is not None else None
        return slot.thread.live if slot is not None else None

    def set_event_listener(self, listener: Callable[[NvrEvent], None] | None) -> None:
        """`listener(event)` gets every detection; it must not block (EventHub.emit)."""
        self._listener = listener

    def _notify_detection(self, name: str, active: bool,
                          objects: Sequence[tuple[str, float]]) -> None:
        if self._listener is None:
            return
        kind = EventKind.DETECTION if active else EventKind.DETECTION_END
        found = tuple(DetectedObject(label, float(conf)) for label, conf in objects)
        self._emit(NvrEvent(kind, name, self._clock.wall(), found))

    def set_recording_paused(self, reason: str | None) -> None:
        """Storage emergency: recorders finish their segment and write nothing until None."""
        self._paused_reason = reason or ""
        with self._lock:
            recorders = [e.recorder for e in self._streams.values() if e.recorder]
        for rec in recorders:
            rec.paused_reason = self._paused_reason
        if reason:
            log.warning("recording paused: %s", reason)
        else:
            log.info("recording resumed")

    def probe(self, url: str, protocol: int = 0, timeout: float = 10.0) -> ProbeResult:
        """Open `url` once (for "test connection"), read its codec parameters, close it."""
        try:
            source = open_source(url, protocol, open_timeout=timeout, read_timeout=timeout,
                                 allow_demo=self.settings.allow_demo)
        except PermanentSourceError as exc:
            return ProbeResult(False, exc.message)
        except Exception as exc:
            return ProbeResult(False, describe_error(exc, url)[0])
        try:
            i = source.info
            return ProbeResult(True, "", i.video_codec, i.width, i.height, i.fps, i.audio_codec)
        finally:
            source.close()

    # -- threads of one stream -------------------------------------------------------------
    def _queue(self, entry: _Stream, kind: str, role: QueueRole,
               capacity: int = 0) -> HandoffQueue[MediaPacket]:
        # ~8 KiB per packet on average. A recorder gets 4x the live writer's room: an SD card's
        # fsync or a busy CPU can stall it for seconds, and what it drops is lost footage,
        # while live view just skips ahead. Both stay bounded (pool and governor).
        size = max(64, min(4096, self.settings.queue_budget_bytes // 8192))
        if role == QueueRole.RECORDING:
            size = min(4096, size * 4)
        q: HandoffQueue[MediaPacket] = HandoffQueue(f"{kind}:{entry.config.name}",
                                                    capacity or size)
        entry.queues.append(q)
        if self._governor is not None:
            self._governor.register_queue(q, role)
        return q

    def _start_stream(self, name: str) -> None:
        with self._lock:
            entry = self._streams.get(name)
            if entry is None or entry.reader is not None or self._stopping:
                return
            config = entry.config
            if not config.enabled:
                return
            s = self.settings
            reader = self._new_reader(config)
            entry.reader = reader
            if config.streaming_enabled:
                live = LiveWriter(name, s.hls_path, self._queue(entry, "live", QueueRole.LIVE),
                                  s.hls_segment_seconds, s.hls_list_size, config.record_audio)
                entry.live = live
                self._watch(live)
                reader.add_consumer(live.queue)
                live.start()
        self._sync_recorder(entry)
        self._sync_detector(entry)
        reader.start()

    def _new_reader(self, config: StreamConfig, critical: bool = True,
                    want_audio: bool = True) -> StreamReader:
        s = self.settings
        hb = None
        if self._heartbeats is not None:
            hb = self._heartbeats.register(
                f"reader:{config.name}", s.open_timeout_seconds + s.stall_timeout_seconds + 10,
                critical)
        return StreamReader(config, self._pool, ReaderSettings(
            s.reconnect_backoff_initial_seconds, s.reconnect_backoff_max_seconds,
            s.stall_timeout_seconds, s.open_timeout_seconds, s.error_retry_seconds),
            clock=self._clock, opener=functools.partial(open_source, allow_demo=s.allow_demo),
            heartbeat=hb, want_audio=want_audio, cpu_affinity=self._cpus)

    def _new_sub_reader(self, config: StreamConfig, name: str, url: str) -> StreamReader:
        """A second reader of the stream (`url`: its sub-stream), for detection or live view:
        named `name`, no audio, and a heartbeat that is not critical (losing it costs
        detection or a small live picture, not recording)."""
        return self._new_reader(config.replace(name=name, url=url), critical=False,
                                want_audio=False)

    def _forget_reader(self, name: str) -> None:
        """Drop the heartbeat of reader `name`, which has stopped (or is about to)."""
        if self._heartbeats is not None:
            self._heartbeats.unregister(f"reader:{name}")

    def _sync_recorder(self, entry: _Stream) -> None:
        """Run a recorder iff `record`, manual recording, `detection_based_recording` or an
        active detection event needs one, and hand it the current flags."""
        with self._lock:
            reader, rec, cfg = entry.reader, entry.recorder, entry.config
            want = (cfg.record or entry.manual or cfg.detection_based_recording
                    or entry.events.active(self._clock.wall()))
            if reader is None:
                return
            if want and rec is not None:
                rec.continuous, rec.manual = cfg.record, entry.manual
                return
            entry.recorder = None
            if want:
                q = self._queue(entry, "recording", QueueRole.RECORDING)
                new = Recorder(cfg, RecorderSettings(
                    self.settings.storage_path, self.settings.mp4_directory_format,
                    self.settings.fsync_interval_seconds), self._store, q,
                    clock=self._clock, events=entry.events, memory_critical=self._critical)
                new.continuous, new.manual = cfg.record, entry.manual
                new.paused_reason = self._paused_reason
                entry.recorder = new
                self._watch(new)
                new.start()
                reader.add_consumer(q)
        if rec is not None:
            reader.remove_consumer(rec.queue)
            rec.stop(self.settings.stop_deadline_seconds)
            self._forget_queue(entry, rec.queue)
            entry.segments_before += rec.segments_written

    def _sync_detector(self, entry: _Stream) -> None:
        """Run a motion detector iff the stream's settings ask for one (detector.py), on the
        sub-stream when there is one (detection/slot.py)."""
        with self._lock:
            reader, old, cfg = entry.reader, entry.detector, entry.config
            want = reader is not None and not self._stopping and (
                wants_motion_detector(cfg) or wants_object_detector(cfg))
            if reader is None or (want and old is not None and old.source == cfg.sub_stream_url
                                  and old.model == detector_key(cfg)):
                return
            if not want and old is None:
                return
            entry.detector = None
            if want:
                entry.detector = self._new_detector(entry, reader, cfg)
                entry.detector.start()
        if old is not None:
            self._stop_detector(entry, old, self.settings.stop_deadline_seconds)

    def _new_detector(self, entry: _Stream, main: StreamReader,
                      cfg: StreamConfig) -> DetectorSlot:
        q = self._queue(entry, "detect", QueueRole.DETECTION, DETECTION_QUEUE_CAPACITY)
        zones = self._zones.get(cfg.name, ())
        thread: MotionDetectorThread | ObjectDetectorThread = (
            MotionDetectorThread(cfg, q, self._on_motion, self._level, motion_zones(zones))
            if wants_motion_detector(cfg) else
            ObjectDetectorThread(
                cfg, q, lambda c: self._models.engine(c.detection_model, c.detection_api_url),
                self._on_objects, self._level, zones))
        if self._heartbeats is not None:
            thread.watch(self._heartbeats, self.settings.consumer_heartbeat_seconds,
                         critical=False)  # detection is not worth a watchdog restart
        sub = None
        if cfg.sub_stream_url:
            sub = self._new_sub_reader(cfg, sub_reader_name(cfg.name), cfg.sub_stream_url)
        return DetectorSlot(thread, main, sub, cfg.sub_stream_url, detector_key(cfg))

    def _stop_detector(self, entry: _Stream, slot: DetectorSlot, timeout: float) -> None:
        slot.stop(timeout)
        self._forget_queue(entry, slot.thread.queue)
        if slot.sub is not None:
            self._forget_reader(slot.sub.name)

    def _on_motion(self, name: str, result: MotionResult, wall: float,
                   picture: Callable[[], bytes]) -> None:
        """Detector thread: motion extends the event recording like a pulse of one detection
        interval (the next sample decides whether it goes on); an event (cooldown passed)
        goes to the listener (events table, MQTT, detection rows) like a trigger's."""
        cfg = self._detected(name, wall)
        if cfg is None or not result.event:
            return
        x, y, w, h = result.box
        # confidence: how far past the minimum area the change is (0.5 at the minimum)
        conf = min(1.0, 0.5 * result.area / max(cfg.motion_min_area, 1e-6))
        log.info("stream %s: motion (%.1f%% of the picture, box %.2f,%.2f %.2fx%.2f)", name,
                 result.area * 100, x, y, w, h)
        self._emit(NvrEvent(EventKind.DETECTION, name, wall,
                            (DetectedObject("motion", round(conf, 3), x, y, w, h),),
                            MOTION_EVENT_DETAIL, self._event_snapshot(name, wall, picture)))

    def _event_snapshot(self, name: str, wall: float, picture: Callable[[], bytes]) -> str:
        """Detector thread, at an event: with [detection] event_snapshots, `picture()` - the
        frame the detector analysed, as a JPEG - saved (core/event_snapshots.py). Not the
        stream's newest keyframe: a detector lagging under load would show a later moment,
        after the motion. Its URL; "" when off, when there is no picture or when it cannot
        be written (logged)."""
        root = self.settings.event_snapshot_dir
        if not root:
            return ""
        try:
            jpeg = picture()
            return save_event_snapshot(root, name, wall, jpeg) if jpeg else ""
        except Exception:  # the event is worth more than its picture
            log.warning("stream %s: the event's snapshot was not saved", name, exc_info=True)
            return ""

    def _detected(self, name: str, wall: float) -> StreamConfig | None:
        """A detector of `name` saw something at `wall`: the event recording goes on like a
        pulse of one detection interval (a stream that records nothing gets a recorder now),
        and so do its followers'. The stream's config; None when it is gone."""
        with self._lock:
            entry = self._streams.get(name)
        if entry is None:
            return None
        cfg = entry.config
        was_active = entry.events.active(self._clock.wall())
        entry.events.trigger(True, wall, float(cfg.detection_interval),
                             float(cfg.post_detection_buffer),
                             self.settings.detection_grace_seconds)
        if not was_active:
            self._sync_recorder(entry)
        self._trigger_followers(name, wall, float(cfg.detection_interval))
        return cfg

    def _emit(self, event: NvrEvent) -> None:
        """Hand `event` to the listener (events table, MQTT); its failure is logged, never
        raised into a detector or an API call."""
        listener = self._listener
        if listener is None:
            return
        try:
            listener(event)
        except Exception:
            log.error("stream %s: the detection listener failed", event.stream, exc_info=True)

    def detection_models(self) -> list[ModelInfo]:
        """Every model under [models] path with its input size, layout and labels, or the
        reason it cannot load (detection/models.py; loaded models are shared with streams)."""
        return self._models.list_models()

    def _on_objects(self, name: str, objects: Sequence[ObjectBox], wall: float,
                    event: bool, picture: Callable[[], bytes]) -> None:
        """Object detector thread: objects extend the event recording like motion does
        (_on_motion); an event (cooldown passed) goes to the listener with every object."""
        if self._detected(name, wall) is None or not event:
            return
        log.info("stream %s: %s", name, ", ".join(f"{o.label} {o.confidence:.2f}"
                                                   for o in objects))
        self._emit(NvrEvent(EventKind.DETECTION, name, wall, tuple(
            DetectedObject(o.label, o.confidence, o.x, o.y, o.width, o.height)
            for o in objects), OBJECT_EVENT_DETAIL, self._event_snapshot(name, wall, picture)))

    def _trigger_followers(self, source: str, wall: float, duration: float) -> None:
        """LightNVR's cross-stream trigger: streams whose `motion_trigger_source` is `source`
        record (a detection clip with their own buffers) while it sees motion."""
        with self._lock:
            followers = [e for e in self._streams.values()
                         if e.config.motion_trigger_source == source and e.config.enabled]
        for f in followers:
            was_active = f.events.active(self._clock.wall())
            f.events.trigger(True, wall, duration, float(f.config.post_detection_buffer),
                             self.settings.detection_grace_seconds)
            if not was_active:
                self._sync_recorder(f)

    def _level(self) -> PressureLevel:
        g = self._governor
        return g.level if g is not None else PressureLevel.NORMAL

    def _watch(self, consumer: Recorder | LiveWriter) -> None:
        """Recorders and live writers beat a critical heartbeat (docs/architecture.md) and
        run on the stream CPUs."""
        consumer.cpu_affinity = self._cpus
        if self._heartbeats is not None:
            consumer.watch(self._heartbeats, self.settings.consumer_heartbeat_seconds)

    def _critical(self) -> bool:
        g = self._governor
        return g is not None and g.level >= PressureLevel.CRITICAL

    def _forget_queue(self, entry: _Stream, q: HandoffQueue[MediaPacket]) -> None:
        if self._governor is not None:
            self._governor.unregister_queue(q)
        with self._lock:
            if q in entry.queues:
                entry.queues.remove(q)
                entry.dropped_before += q.stats().dropped

    def _stop_stream(self, entry: _Stream) -> None:
        deadline = self.settings.stop_deadline_seconds
        reader, live, rec, det = entry.reader, entry.live, entry.recorder, entry.detector
        if det is not None:
            self._stop_detector(entry, det, deadline)
        if reader is not None:
            reader.stop(deadline)
        if live is not None:
            live.stop(deadline)
        if rec is not None:
            rec.stop(deadline)
            entry.segments_before += rec.segments_written
        for q in list(entry.queues):
            self._forget_queue(entry, q)
        with self._lock:
            entry.reader = entry.live = entry.recorder = entry.detector = None
        self._forget_reader(entry.config.name)

    # -- shutdown --------------------------------------------------------------------------
    def register_shutdown(self, coordinator: ShutdownCoordinator) -> None:
        """Readers (80; detectors first, in the same phase), live writers (70), recorders
        (60): see ARCHITECTURE.md."""
        d = self.settings.stop_deadline_seconds
        coordinator.register("video-readers", PRIORITY_READERS, self._stop_readers, d + 1)
        coordinator.register("video-live", PRIORITY_LIVE, self._stop_live, d + 1)
        coordinator.register("video-recorders", PRIORITY_RECORDERS, self._stop_recorders, d + 1)

    def _entries(self) -> list[_Stream]:
        with self._lock:
            return list(self._streams.values())

    def _stop_detectors(self, timeout: float) -> None:
        """First of all: no detector starts a recorder while the rest shuts down. Sub-stream
        readers are asked to stop all at once, so they stop in parallel."""
        self._stopping = True
        deadline = time.monotonic() + timeout
        slots = [(e, e.detector) for e in self._entries() if e.detector is not None]
        for _, slot in slots:
            slot.request_stop()
            slot.thread.queue.close()
        for e, slot in slots:
            self._stop_detector(e, slot, max(0.0, deadline - time.monotonic()))
            with self._lock:
                e.detector = None

    def _stop_readers(self, timeout: float) -> None:
        self._stopping = True
        deadline = time.monotonic() + timeout
        self._stop_detectors(max(0.0, (deadline - time.monotonic()) / 2))
        for starter in self._starters:
            starter.stop(max(0.0, min(1.0, deadline - time.monotonic())))
        readers = [e.reader for e in self._entries() if e.reader is not None]
        for r in readers:
            r.request_stop()  # all at once: they stop in parallel
        for r in readers:
            r.stop(max(0.0, deadline - time.monotonic()))

    def _stop_live(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        self._mse.stop(timeout / 2)
        for e in self._entries():
            if e.live is not None:
                e.live.queue.close()
        for e in self._entries():
            if e.live is not None:
                e.live.stop(max(0.0, deadline - time.monotonic()))

    def _stop_recorders(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for e in self._entries():
            if e.recorder is not None:
                e.recorder.queue.close()
        for e in self._entries():
            if e.recorder is not None:
                e.recorder.stop(max(0.0, deadline - time.monotonic()))
        for e in self._entries():
            self._forget_reader(e.config.name)

    def stop(self, timeout: float) -> None:
        """Everything, in shutdown order, within `timeout` seconds in total."""
        deadline = time.monotonic() + timeout
        self._stop_readers(max(0.0, (deadline - time.monotonic()) / 2))
        self._stop_live(max(0.0, (deadline - time.monotonic()) / 2))
        self._stop_recorders(max(0.0, deadline - time.monotonic()))
