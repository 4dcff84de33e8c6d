"""The object detector contract: what every engine (ONNX, LiteRT, the HTTP API) gives the thread.

An engine takes one RGB picture (H x W x 3, uint8) and answers boxes normalised to that
picture (0..1, x right, y down) with a label and a confidence (0..1). Engines never filter by
class or zone: the detector thread does that (objects.py), the same way for every engine.
An engine that cannot work (a missing runtime, a corrupt model, an output layout we do not
know) raises `EngineError` with a message that says what is wrong and what to do; that message
is shown on the stream's status and in GET /api/detection/models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

Rgb = npt.NDArray[np.uint8]  # H x W x 3


class EngineError(Exception):
    """An engine or model that cannot be used; the message is meant for the user."""


@dataclass(frozen=True, slots=True)
class ObjectBox:
    """One detected object: box normalised to the picture (x, y top-left; width, height)."""

    label: str
    confidence: float
    x: float
    y: float
    width: float
    height: float
    track_id: int = -1  # the HTTP API's optional tracker id; -1: none

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.width / 2.0, self.y + self.height / 2.0


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What GET /api/detection/models shows of a model (or of why it cannot load)."""

    name: str              # file name under [models] path, or the API URL's engine name
    path: str
    engine: str            # "onnx", "litert" or "api"
    input_width: int = 0
    input_height: int = 0
    input_type: str = ""   # float32, uint8 or int8
    layout: str = ""       # outputs.py's layout names: end2end, yolov5, yolov8, ssd
    labels: tuple[str, ...] = ()
    error: str = ""        # non-empty: the model cannot be used, and why


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How a frame was fitted into the model's input: scaled by `scale`, then offset by
    (`pad_x`, `pad_y`) input pixels; `width` x `height` is the input size."""

    width: int
    height: int
    scale_x: float
    scale_y: float
    pad_x: int
    pad_y: int

    @staticmethod
    def fit(frame_w: int, frame_h: int, width: int, height: int) -> Letterbox:
        """The aspect-keeping fit of a frame_w x frame_h picture, centred in width x height."""
        s = min(width / max(1, frame_w), height / max(1, frame_h))
        nw = max(1, min(width, round(frame_w * s)))
        nh = max(1, min(height, round(frame_h * s)))
        return Letterbox(width, height, nw / width, nh / height,
                         (width - nw) // 2, (height - nh) // 2)

    @property
    def inner(self) -> tuple[int, int]:
        """(w, h) of the scaled picture inside the input."""
        return round(self.width * self.scale_x), round(self.height * self.scale_y)

    def to_frame(self, x1: float, y1: float, x2: float, y2: float
                 ) -> tuple[float, float, float, float]:
        """Input-pixel corners -> (x, y, w, h) normalised to the frame, clipped to it."""
        iw, ih = self.inner
        fx1 = min(1.0, max(0.0, (x1 - self.pad_x) / iw))
        fx2 = min(1.0, max(0.0, (x2 - self.pad_x) / iw))
        fy1 = min(1.0, max(0.0, (y1 - self.pad_y) / ih))
        fy2 = min(1.0, max(0.0, (y2 - self.pad_y) / ih))
        return fx1, fy1, max(0.0, fx2 - fx1), max(0.0, fy2 - fy1)


class ObjectEngine(Protocol):
    """One loaded model (shared by every stream that uses it: `detect` must be thread-safe)."""

    info: ModelInfo

    @property
    def input_size(self) -> tuple[int, int]:
        """(width, height) of the picture `detect` takes; (0, 0): the frame as it is (the
        HTTP API)."""
        ...

    def detect(self, rgb: Rgb, threshold: float, box: Letterbox) -> list[ObjectBox]:
        """Objects scoring at least `threshold` (0..1) in `rgb`, the frame fitted into the
        input as `box` says; boxes normalised to the frame. Raises EngineError when the
        engine cannot work at all, any other exception for one frame it could not do."""
        ...


def threshold_fraction(value: float) -> float:
    """A detection threshold as 0..1: LightNVR's percent (above 1, up to 100) or a fraction."""
    v = float(value)
    if v > 1.0:
        v /= 100.0
    return min(1.0, max(0.0, v))


def label_of(labels: Sequence[str], cls: int) -> str:
    """The label of class index `cls`; `class<N>` when the labels file has no such line."""
    if 0 <= cls < len(labels):
        return labels[cls]
    return f"class{cls}"
