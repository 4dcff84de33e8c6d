"""The object detector thread of one stream: a model (or LightNVR's HTTP API) looks at frames.

Design: `ObjectDetectorThread` owns one thread, `detect:<stream>`, fed like the motion
detector's (detector.py) by a small HandoffQueue that drops when full (governor role
DETECTION), so a slow model or a hung detection service costs detections, never recording.
Each packet goes through the FrameSampler (frames.py: at most one frame per
`detection_interval`, decoded only as needed), which gives the engine the frame in colour at
the model's input size, letterboxed (`model_input`), or as a picture of at most
api_engine.MAX_WIDTH for the HTTP API. The engine (engine.py contract; shared by every
stream that uses the model, models.py) answers boxes; the thread keeps those scoring at least
the stream's `detection_threshold` whose label passes the stream's class filter
(`detection_object_filter` / `_list`, LightNVR's) and whose
centre counts in its zones (zones.object_counts: an include zone may name the labels it
applies to, LightNVR's `filter_classes`), and reports them to
`on_objects(stream, objects, wall, event, picture)` (`event`: the cooldown since the last
reported event has passed; `picture()`: the analysed frame as a JPEG, for event snapshots;
the stream manager extends the event recording for every frame with objects and emits an
event when `event`).

The engine is fetched on this thread (`engine_for`, loading a model can take seconds); an
engine that cannot work (missing runtime, corrupt model, unknown layout) is kept as `error`
(shown on the stream's status) and asked for again every RETRY_SECONDS, so a fixed model
file is picked up; packets meanwhile are released unlooked-at. A detection service that is
down leaves its message in `error` too and the engine backs off (api_engine.py). Under
PRESSURE the interval triples, at CRITICAL nothing is decoded; outside the detection
schedule nothing is looked at. The stream manager starts and stops it (its loop is
loop.DetectorThread's, shared with motion) and swaps settings in with `update_config()` /
`set_zones()`.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence

from lightnvr.core.memory.governor import PressureLevel
from lightnvr.core.memory.handoff import HandoffQueue
from lightnvr.core.redact import redact_text
from lightnvr.core.stream_config import StreamConfig
from lightnvr.video.detection.api_engine import MAX_WIDTH, ServiceUnavailable
from lightnvr.video.detection.detector import MOTION_MODEL, PRESSURE_INTERVAL_FACTOR, LiveMotion
from lightnvr.video.detection.engine import (
    EngineError,
    Letterbox,
    ObjectBox,
    ObjectEngine,
    threshold_fraction,
)
from lightnvr.video.detection.frames import FrameSampler, frame_jpeg, frame_rgb, model_input
from lightnvr.video.detection.loop import DetectorThread
from lightnvr.video.detection.zones import ZoneShape, object_counts
from lightnvr.video.packet import MediaPacket
from lightnvr.video.schedule import schedule_allows

log = logging.getLogger(__name__)

RETRY_SECONDS = 30.0  # how often an engine that could not load is asked for again

def wants_object_detector(config: StreamConfig) -> bool:
    """A stream runs an object detector when detection-based recording uses a model other
    than the built-in motion detector (an empty model or "none" means no detection)."""
    model = config.detection_model.strip().lower()
    return (config.enabled and config.detection_based_recording
            and model not in ("", "none", MOTION_MODEL))


def detector_key(config: StreamConfig) -> str:
    """What the stream's detector thread is made for: another value needs another thread."""
    return f"{config.detection_model.strip()} {config.detection_api_url.strip()}"


# (stream, objects, wall, event, picture): `picture()` encodes the analysed frame as a JPEG
# (only called when the stream manager saves event snapshots)
ObjectsCallback = Callable[[str, Sequence[ObjectBox], float, bool, Callable[[], bytes]], None]
EngineFactory = Callable[[StreamConfig], ObjectEngine]


def class_filter(config: StreamConfig) -> tuple[bool, frozenset[str]]:
    """LightNVR's per-stream class filter as (exclude?, labels): `include` keeps only the
    listed labels, `exclude` every label but those; `none` or an empty list keeps all."""
    mode = config.detection_object_filter
    labels = frozenset(x.strip().lower() for x in config.detection_object_filter_list.split(",")
                       if x.strip())
    if mode not in ("include", "exclude"):
        return False, frozenset()
    return mode == "exclude", labels


def keep_object(o: ObjectBox, threshold: float, classes: tuple[bool, frozenset[str]],
                zones: Sequence[ZoneShape]) -> bool:
    """The thread's filter: score, class filter, then the box centre and label in the
    zones."""
    if o.confidence < threshold:
        return False
    exclude, labels = classes
    if labels and (o.label.lower() in labels) == exclude:
        return False
    return object_counts(zones, o.label, o.confidence, *o.centre)


class ObjectDetectorThread(DetectorThread):
    """See the module doc. Counters are read by status and tests (plain ints, one writer)."""

    def __init__(self, config: StreamConfig, queue: HandoffQueue[MediaPacket],
                 engine_for: EngineFactory, on_objects: ObjectsCallback,
                 pressure: Callable[[], PressureLevel] | None = None,
                 zones: Sequence[ZoneShape] = ()) -> None:
        super().__init__()
        self.name = config.name
        self.queue = queue
        self.config = config
        self._zones = zones
        self._engine_for = engine_for
        self._on_objects = on_objects
        self._pressure = pressure
        self._sampler = FrameSampler(float(config.detection_interval),
                                     config.detection_every_frame)
        self._engine: ObjectEngine | None = None
        self._engine_retry = 0.0
        self._last_event: float | None = None
        self.samples = 0        # frames given to the engine
        self.moving = 0         # of which had objects that counted
        self.events = 0         # of which were reported as events (cooldown passed)
        self.error = ""         # why detection is not working right now ("" when it is)
        self.live: LiveMotion | None = None  # the motion overlay's: objects go through rows

    def update_config(self, config: StreamConfig) -> None:
        """New threshold/interval/cooldown from the next frame on; a new detection_model
        means a new thread (the stream manager restarts it)."""
        self.config = config
        self._sampler.interval = float(config.detection_interval)

    def set_zones(self, zones: Sequence[ZoneShape]) -> None:
        """The stream's zones (with their labels), from the next frame on."""
        self._zones = zones

    def _describe(self) -> str:
        # a URL may carry a password
        return (f"model {redact_text(self.config.detection_model)}, "
                f"every {self.config.detection_interval} s")

    def _handle(self, item: MediaPacket) -> None:
        try:
            self._look(item)
        except ServiceUnavailable as e:  # the service is down: said on the status, no trace
            self.error = str(e)

    def _get_engine(self) -> ObjectEngine | None:
        if self._engine is not None:
            return self._engine
        now = time.monotonic()
        if now < self._engine_retry:
            return None
        try:
            self._engine = self._engine_for(self.config)
            self.error = ""
        except EngineError as e:
            self._engine_retry = now + RETRY_SECONDS
            if str(e) != self.error:
                log.error("detect:%s: %s", self.name, e)
            self.error = str(e)
        return self._engine

    def _look(self, item: MediaPacket) -> None:
        if not item.is_video:
            return
        level = self._pressure() if self._pressure is not None else PressureLevel.NORMAL
        if level >= PressureLevel.CRITICAL:
            return
        if item.is_keyframe and not schedule_allows(self.config.detection_schedule, item.wall):
            return
        engine = self._get_engine()
        if engine is None:
            return
        interval = float(self.config.detection_interval)
        if level >= PressureLevel.PRESSURE:
            interval *= PRESSURE_INTERVAL_FACTOR
        self._sampler.set_every_frame(self.config.detection_every_frame
                                      and level < PressureLevel.PRESSURE)
        frame = self._sampler.sample_frame(item, interval)
        if frame is None:
            return
        w, h = engine.input_size
        if w and h:
            box = Letterbox.fit(frame.width, frame.height, w, h)
            rgb = model_input(frame, box)
        else:
            rgb = frame_rgb(frame, MAX_WIDTH)
            box = Letterbox(rgb.shape[1], rgb.shape[0], 1.0, 1.0, 0, 0)
        threshold = threshold_fraction(self.config.detection_threshold)
        try:
            found = engine.detect(rgb, threshold, box)
        except EngineError as e:  # the engine broke for good: fetch it again later
            self._engine, self._engine_retry, self.error = None, time.monotonic() + RETRY_SECONDS, \
                str(e)
            log.error("detect:%s: %s", self.name, e)
            return
        self.samples += 1
        self.error = ""
        classes = class_filter(self.config)
        kept = [o for o in found if keep_object(o, threshold, classes, self._zones)]
        if not kept:
            return
        self.moving += 1
        cooldown = float(self.config.motion_cooldown)
        event = self._last_event is None or item.wall - self._last_event >= cooldown
        if event:
            self._last_event = item.wall
            self.events += 1
        self._on_objects(self.name, kept, item.wall, event,
                         functools.partial(frame_jpeg, frame))

