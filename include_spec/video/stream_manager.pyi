# Stream manager (lightnvr/video/stream_manager.py): owns every stream's reader, recorder,
# live writer and motion detector threads. The web layer and the daemon use only this contract.
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import NamedTuple

from lightnvr.core.clock import Clock
from lightnvr.core.heartbeat import HeartbeatRegistry
from lightnvr.core.memory.governor import MemoryGovernor
from lightnvr.core.memory.pool import BufferPool
from lightnvr.core.nvr_events import NvrEvent
from lightnvr.core.recordings_store import RecordingsStore
from lightnvr.core.shutdown import ShutdownCoordinator
from lightnvr.core.stream_config import StreamConfig
from lightnvr.video.detection.detector import LiveMotion
from lightnvr.video.detection.engine import ModelInfo
from lightnvr.video.detection.slot import DetectorSlot
from lightnvr.video.detection.zones import StoredZone
from lightnvr.video.live import LiveWriter
from lightnvr.video.live_mse import LiveSubscription
from lightnvr.video.reader import StreamReader
from lightnvr.video.recorder import Recorder

MOTION_EVENT_DETAIL: str  # NvrEvent.detail of the built-in motion detector's DETECTION events
OBJECT_EVENT_DETAIL: str  # NvrEvent.detail of object detectors' DETECTION events (boxes, labels)

class StreamState(StrEnum):
    INACTIVE = "inactive"
    STARTING = "starting"
    ACTIVE = "active"
    RECONNECTING = "reconnecting"
    STOPPING = "stopping"
    ERROR = "error"

class VideoSettings:
    storage_path: str                # recordings root ([storage] path)
    hls_path: str                    # live HLS root ([storage] path_hls)
    mp4_directory_format: str        # year_month_day | year_month | flat
    fsync_interval_seconds: float
    stagger_seconds: float
    reconnect_backoff_initial_seconds: float   # 0.5
    reconnect_backoff_max_seconds: float       # 3.0
    stall_timeout_seconds: float               # 10.0
    queue_budget_bytes: int                    # per-consumer queue budget ([memory] buffer_size KB)
    # (added by the video issue; VideoSettings is a dataclass: storage_path and hls_path are
    # required, every other field has the default shown in lightnvr/video/stream_manager.py)
    open_timeout_seconds: float                # 5.0: connect + DESCRIBE limit
    error_retry_seconds: float                 # 30.0: slow retry after 401/403/404/no video
    hls_segment_seconds: float                 # 2.0
    hls_list_size: int                         # 5 segments in the live playlist
    stop_deadline_seconds: float               # 5.0 per shutdown phase
    detection_grace_seconds: float             # 2.0: [detection] grace_period; closer events merge
    consumer_heartbeat_seconds: float          # 10.0: recorder/live heartbeat max_age (app.py: <= 0.4 x WatchdogSec)
    allow_demo: bool                           # True: [general] demo_mode (demo:// may open)
    models_path: str                           # "": [models] path (object detection models)
    api_detection_url: str                     # "": [api_detection] url
    api_detection_backend: str                 # "onnx": [api_detection] backend
    event_snapshot_dir: str                    # "": [detection] event_snapshots on: <[storage] path>/snapshots
    cpu_affinity: str                          # [streams] cpu_affinity: auto | off | CPU list

class StreamBrief(NamedTuple):                 # what the event hub compares every second
    name: str
    state: StreamState
    recording: bool
    last_error: str

class StreamStatus:
    name: str
    state: StreamState
    last_error: str                  # "" when none; readable, names the camera's answer
    packets: int
    bytes: int
    dropped: int                     # all queue drops for this stream
    reconnects: int
    timestamp_repairs: int
    recording: bool                  # a segment file is open right now
    recording_paused_reason: str     # "" unless recording is paused (e.g. disk emergency,
                                     # or "outside recording schedule")
    segments_written: int
    video_codec: str
    width: int
    height: int
    fps: float
    audio_codec: str
    bitrate_bps: int
    last_packet_age: float | None    # seconds since the last packet, None before the first
    detection_recording: bool        # a detection event (or its post buffer) is being
                                     # recorded as a "detection" clip (False when continuous
                                     # or manual recording already covers it)
    detection: str                   # built-in motion detector: "" (none), "running", or
                                     # "paused" (governor CRITICAL)
    detection_frames: int            # frames it analysed since the stream (re)started
    detection_events: int            # motion events it reported
    detection_moving: int            # analysed frames that showed motion (or objects)
    detection_error: str             # object detector: why it is not working (a missing
                                     # runtime, a model that cannot load, a detection service
                                     # that does not answer); detection is then "error"

class ProbeResult:
    ok: bool
    error: str
    video_codec: str
    width: int
    height: int
    fps: float
    audio_codec: str

class StreamPipeline:                # a snapshot of one stream's threads (None: not running)
    reader: StreamReader | None      # compare with a later snapshot by identity: restarted?
    recorder: Recorder | None
    live: LiveWriter | None
    detector: DetectorSlot | None

class StreamManager:
    def __init__(self, settings: VideoSettings, pool: BufferPool, recordings: RecordingsStore,
                 governor: MemoryGovernor | None = None,
                 heartbeats: HeartbeatRegistry | None = None,
                 clock: Clock | None = None) -> None: ...
    def register_shutdown(self, coordinator: ShutdownCoordinator) -> None: ...  # readers, live, recorders
    def start(self, streams: Sequence[StreamConfig]) -> None: ...   # staggered, returns at once
    def apply(self, config: StreamConfig) -> None: ...   # add or update; restarts only if needed
    def remove(self, name: str) -> None: ...
    def names(self) -> list[str]: ...
    def configs(self) -> list[StreamConfig]: ...        # sorted by name (go2rtc follows it)
    def pipeline(self, name: str) -> StreamPipeline | None: ...   # None: unknown stream
    def status(self, name: str) -> StreamStatus | None: ...
    def statuses(self) -> list[StreamStatus]: ...
    def briefs(self) -> list[StreamBrief]: ...   # cheap: no queue stats, no schedule check
    def snapshot_jpeg(self, name: str) -> bytes | None: ...   # latest keyframe decoded, cached ~1 s
    def hls_dir(self, name: str) -> str: ...                   # directory holding index.m3u8
    def live_subscribe(self, name: str, sub: bool,
                       on_ready: Callable[[], None]) -> LiveSubscription | None: ...
    # a viewer of the stream's fMP4 live feed (video/live_mse.py; `sub`: the sub-stream when
    # it has one); None when unknown, stopped or streaming_enabled is off. on_ready: the feed
    # has messages (called from the muxer thread; must not block)
    def live_unsubscribe(self, subscription: LiveSubscription) -> None: ...   # never blocks
    def live_viewers(self) -> dict[str, int]: ...   # viewers per running muxer ("s", "s/sub")
    def set_manual_recording(self, name: str, on: bool) -> bool: ...   # False: unknown stream
    def manual_recording(self, name: str) -> bool: ...
    def set_recording_paused(self, reason: str | None) -> None: ...  # storage emergency; None resumes
    def trigger_detection(self, name: str, active: bool,
                          duration: float | None = None,
                          objects: Sequence[tuple[str, float]] = ()) -> bool: ...
    # A detection event: start (active), stop (not active) or pulse (active, `duration` s).
    # Records "detection" segments with pre_detection_buffer s before the trigger and
    # post_detection_buffer s after the end, unless continuous recording covers it.
    # False: unknown stream. `objects` ((label, confidence)) reach the event listener.
    def set_detection_zones(self, name: str, zones: Sequence[StoredZone]) -> None: ...
    # the stream's stored zones (database/zones.py's Zone): from the next analysed frame the
    # motion detector counts motion only inside the enabled include zones whose class filter
    # takes "motion" (none: anywhere) and outside such exclude zones; an object detector
    # counts a box when its centre is in an include zone listing its label (empty list: any)
    # and in no exclude zone for its label; may be called before the stream starts
    def live_motion(self, name: str) -> LiveMotion | None: ...
    def detection_models(self) -> list[ModelInfo]: ...
    # Every model file under [models] path: input size, output layout, labels, or `error`.
    # the latest analysed frame of the motion detector: .wall (its time), .moving, .area,
    # .box and .cells ((x, y, width, height), normalised 0..1; cells empty when nothing
    # moved); None when no detector runs or it is paused
    def set_event_listener(self, listener: Callable[[NvrEvent], None] | None) -> None: ...
    # every detection start/pulse (DETECTION) and stop (DETECTION_END), and the motion
    # detector's events (DETECTION, detail MOTION_EVENT_DETAIL, one object "motion" with the
    # box of the moving cells); must not block
    def probe(self, url: str, protocol: int = 0, timeout: float = 10.0) -> ProbeResult: ...
    def stop(self, timeout: float) -> None: ...                # everything, in shutdown order
