"""The detector thread of one stream: a consumer of the reader's fan-out that looks for motion.

Design: `MotionDetectorThread` owns one thread, `detect:<stream>`, fed by its HandoffQueue
(governor role DETECTION: under PRESSURE only keyframes arrive, under CRITICAL nothing; the
queue is small and drops when full, so the reader - and with it recording - never waits for
a detector). Each packet goes through the FrameSampler (frames.py: keyframes only, at most one
per `detection_interval`, small gray; every frame decoded when `detection_every_frame`) and
the MotionDetector (motion.py); every moving frame
is reported to `on_motion(stream, result, wall, picture)` (the stream manager extends the
event recording and emits an event when the cooldown allows; `picture()` encodes the analysed
frame as a JPEG, for the event's snapshot). Under PRESSURE the interval triples
(frames are skipped before anything else is shed); at CRITICAL the thread decodes nothing and
forgets its background. Outside the stream's `detection_schedule` it looks at nothing; zones
(`set_zones`, detection/zones.py) mask where motion counts. The stream manager starts and
stops it (consumer.ConsumerThread: closing the queue ends the loop) and swaps settings in
with `update_config()` and `set_zones()`: plain attribute swaps read at the next frame.
The outcome of the latest analysed frame is kept as `live` (a LiveMotion, swapped whole) for
the live view's overlay. The thread's loop is loop.DetectorThread's (shared with objects).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from lightnvr.core.memory.governor import PressureLevel
from lightnvr.core.memory.handoff import HandoffQueue
from lightnvr.core.stream_config import StreamConfig
from lightnvr.video.detection.frames import FrameSampler, frame_gray, frame_jpeg
from lightnvr.video.detection.loop import DetectorThread
from lightnvr.video.detection.motion import GRID, MotionDetector, MotionResult, MotionSettings
from lightnvr.video.detection.zones import Zones, zone_mask
from lightnvr.video.packet import MediaPacket, StreamInfo
from lightnvr.video.schedule import schedule_allows

MOTION_MODEL = "motion"  # LightNVR's detection_model value for the built-in detector
PRESSURE_INTERVAL_FACTOR = 3.0

# (stream, result, wall, picture): `picture()` is the analysed frame as a JPEG (not the
# stream's newest keyframe, which a lagging detector may already have left behind)
MotionCallback = Callable[[str, MotionResult, float, Callable[[], bytes]], None]


Box = tuple[float, float, float, float]  # x, y, width, height; normalised 0..1


@dataclass(frozen=True, slots=True)
class LiveMotion:
    """The latest analysed frame's motion, for a live overlay: `wall` is the frame's time,
    `cells` the grid cells where motion counted (empty when nothing moved), `box` their
    bounding box; all normalised to the picture (0..1, x right, y down)."""

    wall: float
    moving: bool
    area: float
    box: Box | None
    cells: tuple[Box, ...]


def live_motion(result: MotionResult, wall: float) -> LiveMotion:
    """`result`'s (row, column) cells as normalised boxes of the GRID x GRID grid."""
    side = 1.0 / GRID
    cells = tuple((c * side, r * side, side, side) for r, c in result.cells) \
        if result.moving else ()
    return LiveMotion(wall, result.moving, round(result.area, 4),
                      result.box if result.moving else None, cells)


def wants_motion_detector(config: StreamConfig) -> bool:
    """A stream runs the built-in detector when detection-based recording uses model motion
    (as in LightNVR, detection runs only with detection_based_recording)."""
    return (config.enabled and config.detection_based_recording
            and config.detection_model.strip().lower() == MOTION_MODEL)


def motion_settings(config: StreamConfig) -> MotionSettings:
    return MotionSettings(config.motion_sensitivity, config.motion_min_area,
                          float(config.motion_cooldown))


class MotionDetectorThread(DetectorThread):
    """See the module doc. Counters are read by status and tests (plain ints, one writer)."""

    def __init__(self, config: StreamConfig, queue: HandoffQueue[MediaPacket],
                 on_motion: MotionCallback,
                 pressure: Callable[[], PressureLevel] | None = None,
                 zones: Zones = ((), ())) -> None:
        super().__init__()
        self._zones = zones  # swapped whole by set_zones (any thread), read by this thread
        self._mask_for: tuple[Zones, tuple[int, int]] | None = None
        self.name = config.name
        self.queue = queue
        self.config = config
        self._on_motion = on_motion
        self._pressure = pressure
        self._sampler = FrameSampler(float(config.detection_interval),
                                     config.detection_every_frame)
        self._detector = MotionDetector(motion_settings(config))
        self._info: StreamInfo | None = None
        self.samples = 0        # frames analysed
        self.moving = 0         # of which showed motion
        self.events = 0         # of which were reported as events (cooldown passed)
        self.paused_packets = 0  # packets not looked at under CRITICAL
        self.off_schedule = 0    # keyframes not looked at outside the detection schedule
        self.live: LiveMotion | None = None  # the latest analysed frame (any thread reads)
        self._dropped_seen = 0  # the queue's drop count when this thread last looked

    def update_config(self, config: StreamConfig) -> None:
        """Apply new motion settings from the next frame on (no restart, no lost background;
        a change of `detection_every_frame` takes effect at the next keyframe)."""
        self.config = config
        self._sampler.interval = float(config.detection_interval)
        self._detector.settings = motion_settings(config)

    def set_zones(self, zones: Zones) -> None:
        """(include, exclude) polygons (normalised), from the next frame on: motion counts
        only inside an include polygon (anywhere when there is none) and outside every
        exclude polygon (detection/zones.py)."""
        self._zones = zones

    def _apply_zones(self, shape: tuple[int, int]) -> None:
        zones = self._zones
        if self._mask_for is not None and self._mask_for[0] is zones \
                and self._mask_for[1] == shape:
            return
        self._mask_for = (zones, shape)
        self._detector.set_mask(zone_mask(zones[0], zones[1], shape[1], shape[0]))

    def _describe(self) -> str:
        return f"motion, every {self.config.detection_interval} s"

    def _level(self) -> PressureLevel:
        return self._pressure() if self._pressure is not None else PressureLevel.NORMAL

    def _follow_mode(self, level: PressureLevel) -> None:
        """Every-frame decoding needs every packet: under PRESSURE the queue passes keyframes
        only, and a full queue drops packets; P-frames decoded after such a gap reference
        pictures the decoder never had (garbage the detector would call motion), so it runs
        in keyframe mode under pressure and starts again at a keyframe after a drop. Set
        here, not in update_config: the sampler belongs to this thread."""
        every = self.config.detection_every_frame and level < PressureLevel.PRESSURE
        self._sampler.set_every_frame(every)
        if every:
            dropped = self.queue.stats().dropped
            if dropped != self._dropped_seen:
                self._dropped_seen = dropped
                self._sampler.restart()

    def _handle(self, item: MediaPacket) -> None:
        level = self._level()
        if level >= PressureLevel.CRITICAL:
            self.paused_packets += 1
            self.live = None  # nothing current to draw
            self._detector.reset()  # a background older than the pause would see "motion"
            return
        if item.info is not self._info:
            self._info = item.info
            self._detector.reset()
        if item.is_keyframe and not schedule_allows(self.config.detection_schedule, item.wall):
            self.off_schedule += 1
            self.live = None  # nothing is being looked at
            self._detector.reset()  # a background from before the break would see "motion"
            return
        self._follow_mode(level)
        interval = float(self.config.detection_interval)
        if level >= PressureLevel.PRESSURE:
            interval *= PRESSURE_INTERVAL_FACTOR
        frame = self._sampler.sample_frame(item, interval)
        if frame is None:
            return
        gray = frame_gray(frame)
        self.samples += 1
        self._apply_zones((int(gray.shape[0]), int(gray.shape[1])))
        result = self._detector.analyse(gray, item.wall)
        self.live = live_motion(result, item.wall)
        if not result.moving:
            return
        self.moving += 1
        if result.event:
            self.events += 1
        self._on_motion(self.name, result, item.wall, functools.partial(frame_jpeg, frame))

