# The object detector contract (lightnvr/video/detection/engine.py): what every engine - ONNX
# Runtime, LiteRT, LightNVR's HTTP detection API - gives the detector thread, and what
# GET /api/detection/models shows of a model. Boxes are normalised to the frame (0..1, x right,
# y down); engines never filter by class or zone (the thread does, the same for every engine).
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

Rgb = npt.NDArray[np.uint8]  # H x W x 3

class EngineError(Exception): ...
# An engine or model that cannot be used (missing runtime naming its package, corrupt file,
# unknown output layout); the message is for the user (stream status, models list).

class ObjectBox:
    label: str
    confidence: float            # 0..1
    x: float
    y: float
    width: float
    height: float
    track_id: int                # -1: none (the HTTP API's optional track_id)
    @property
    def centre(self) -> tuple[float, float]: ...

class ModelInfo:
    name: str                    # file name under [models] path, or "api-detection"
    path: str                    # (an API URL with its credentials masked)
    engine: str                  # onnx | litert | api
    input_width: int
    input_height: int
    input_type: str              # float32 | uint8 | int8
    layout: str                  # end2end | yolov5 | yolov8 | ssd (outputs.py)
    labels: tuple[str, ...]
    error: str                   # non-empty: the model cannot be used, and why

class Letterbox:
    width: int                   # the model's input size
    height: int
    scale_x: float               # the frame's share of the input width
    scale_y: float
    pad_x: int                   # input pixels left of / above the frame
    pad_y: int
    @staticmethod
    def fit(frame_w: int, frame_h: int, width: int, height: int) -> Letterbox: ...
    @property
    def inner(self) -> tuple[int, int]: ...
    def to_frame(self, x1: float, y1: float, x2: float, y2: float
                 ) -> tuple[float, float, float, float]: ...

class ObjectEngine(Protocol):
    info: ModelInfo
    @property
    def input_size(self) -> tuple[int, int]: ...   # (0, 0): the frame as it is (HTTP API)
    def detect(self, rgb: Rgb, threshold: float, box: Letterbox) -> list[ObjectBox]: ...
    # Thread-safe (one engine per model, shared by streams). EngineError: the engine cannot
    # work at all; any other exception: this frame failed.

def threshold_fraction(value: float) -> float: ...   # LightNVR's percent (>1) or 0..1 -> 0..1
def label_of(labels: Sequence[str], cls: int) -> str: ...  # "class<N>" past the labels file
