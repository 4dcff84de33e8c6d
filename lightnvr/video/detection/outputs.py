"""Model outputs to boxes: the layouts people's models have, quantisation, NMS and letterbox.

Shared by every in-process engine (onnx_engine.py, litert_engine.py), so a layout decodes the
same whatever runs the model. Layouts (`guess_layout` picks one from the output shapes):

- ``end2end``: one output [1, N, 6] of rows (x1, y1, x2, y2, score, class) - what LightNVR's
  LiteRT engine requires (NMS already done by the model).
- ``yolov5``: one output [1, N, 5 + classes] of (cx, cy, w, h, objectness, class scores...).
- ``yolov8``: one output [1, 4 + classes, N] of (cx, cy, w, h, class scores...) per column
  (Ultralytics' export; [1, N, 4 + classes] is read too when the labels say so).
- ``ssd``: three or four outputs: boxes [1, N, 4] (ymin, xmin, ymax, xmax), classes [1, N],
  scores [1, N] and optionally the count [1] (TensorFlow's detection post-processing).

Coordinates are in the model's input pixels, or normalised to it (every coordinate <= 1.5
means normalised). Raw YOLO heads get class-wise non-maximum suppression here (numpy).
Integer outputs are dequantised with their (scale, zero point) first.

Pure computation: no threads, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from lightnvr.video.detection.engine import EngineError, Letterbox, ObjectBox, label_of

LAYOUTS = ("end2end", "yolov5", "yolov8", "ssd")
NMS_IOU = 0.45
MAX_BOXES = 100
LETTERBOX_FILL = 114  # the gray YOLO trains its padding with

Floats = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Quant:
    """A tensor's quantisation: real = scale * (q - zero_point); scale 0 means none."""

    scale: float = 0.0
    zero_point: int = 0


def letterbox(inner: npt.NDArray[np.uint8], box: Letterbox) -> npt.NDArray[np.uint8]:
    """`inner` (the frame already scaled to `box.inner`, H x W x 3) padded to the input."""
    out = np.full((box.height, box.width, 3), LETTERBOX_FILL, dtype=np.uint8)
    h, w = inner.shape[:2]
    out[box.pad_y:box.pad_y + h, box.pad_x:box.pad_x + w] = inner
    return out


def dequantise(a: npt.NDArray[np.generic], q: Quant) -> Floats:
    """Integer tensors to real values with their quantisation; floats pass unchanged."""
    if np.issubdtype(a.dtype, np.integer) and q.scale > 0:
        return ((a.astype(np.float32) - q.zero_point) * q.scale).astype(np.float32)
    return a.astype(np.float32)


def quantise_input(rgb: npt.NDArray[np.uint8], dtype: str, q: Quant
                   ) -> npt.NDArray[np.generic]:
    """The input tensor's values from 0..255 pixels: float32 as 0..1; uint8 as the pixels;
    int8 as pixel - 128 (both with the input's quantisation when it has one, real = 0..1)."""
    if dtype == "float32":
        return (rgb.astype(np.float32) / 255.0).astype(np.float32)
    if q.scale > 0:
        real = rgb.astype(np.float32) / 255.0
        v = np.round(real / q.scale + q.zero_point)
    else:
        v = rgb.astype(np.int32) - (128 if dtype == "int8" else 0)
    if dtype == "int8":
        return np.clip(v, -128, 127).astype(np.int8)
    return np.clip(v, 0, 255).astype(np.uint8)


def guess_layout(shapes: Sequence[Sequence[int]], n_labels: int) -> str:
    """The layout of outputs with these shapes (see the module doc); EngineError if none."""
    dims = [[int(d) if isinstance(d, int) and d > 0 else -1 for d in s] for s in shapes]
    if len(dims) in (3, 4) and any(len(s) == 3 and s[-1] == 4 for s in dims):
        return "ssd"
    if len(dims) == 1 and len(dims[0]) == 3:
        _, a, b = dims[0]
        if b == 6:
            return "end2end"
        if a > 4 and b > a and (n_labels == 0 or a == 4 + n_labels):
            return "yolov8"
        if b > 6 and n_labels and b == 4 + n_labels:
            return "yolov8"
        if b > 6:
            return "yolov5"
    raise EngineError(
        f"output layout not supported: output shapes {[list(s) for s in shapes]}; expected "
        "[1,N,6] (x1,y1,x2,y2,score,class), YOLOv5 [1,N,5+classes], YOLOv8 [1,4+classes,N] "
        "or SSD boxes [1,N,4] + classes [1,N] + scores [1,N]")


def _to_pixels(xyxy: Floats, width: int, height: int) -> Floats:
    if xyxy.size and float(np.abs(xyxy).max()) <= 1.5:
        return xyxy * np.array([width, height, width, height], dtype=np.float32)
    return xyxy


def nms(xyxy: Floats, scores: Floats, classes: npt.NDArray[np.int64],
        iou: float = NMS_IOU) -> list[int]:
    """Indices kept by class-wise greedy non-maximum suppression, best score first."""
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    area = np.maximum(0, xyxy[:, 2] - xyxy[:, 0]) * np.maximum(0, xyxy[:, 3] - xyxy[:, 1])
    suppressed = np.zeros(len(scores), dtype=bool)
    for i in order:
        if suppressed[i]:
            continue
        keep.append(int(i))
        if len(keep) >= MAX_BOXES:
            break
        xx1 = np.maximum(xyxy[i, 0], xyxy[:, 0])
        yy1 = np.maximum(xyxy[i, 1], xyxy[:, 1])
        xx2 = np.minimum(xyxy[i, 2], xyxy[:, 2])
        yy2 = np.minimum(xyxy[i, 3], xyxy[:, 3])
        inter = np.maximum(0, xx2 - xx1) * np.maximum(0, yy2 - yy1)
        union = area[i] + area - inter
        overlap = np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)
        suppressed |= (overlap > iou) & (classes == classes[i])
    return keep


def _cxcywh(a: Floats) -> Floats:
    out = np.empty_like(a)
    out[:, 0] = a[:, 0] - a[:, 2] / 2
    out[:, 1] = a[:, 1] - a[:, 3] / 2
    out[:, 2] = a[:, 0] + a[:, 2] / 2
    out[:, 3] = a[:, 1] + a[:, 3] / 2
    return out


def _rows(layout: str, outs: Sequence[Floats], n_labels: int, threshold: float
          ) -> tuple[Floats, Floats, npt.NDArray[np.int64], bool]:
    """(xyxy, scores, classes, needs_nms) of the candidates scoring >= threshold."""
    if layout == "ssd":
        boxes = next(o for o in outs if o.ndim == 3 and o.shape[-1] == 4)[0]
        flat = [o.reshape(-1) for o in outs if o.ndim == 2]
        if len(flat) < 2:
            raise EngineError("SSD layout: expected classes [1,N] and scores [1,N] outputs")
        a, b = flat[0], flat[1]
        # TensorFlow exports name them differently; the classes are the whole numbers
        classes_f, scores = (a, b) if np.all(np.equal(np.mod(a, 1), 0)) else (b, a)
        count = [o for o in outs if o.ndim <= 1 and o.size == 1]
        n = min(len(scores), int(count[0].reshape(-1)[0])) if count else len(scores)
        yxyx = boxes[:n]
        xyxy = np.stack([yxyx[:, 1], yxyx[:, 0], yxyx[:, 3], yxyx[:, 2]], axis=1)
        s, c = scores[:n], classes_f[:n].astype(np.int64)
        ok = s >= threshold
        return xyxy[ok], s[ok], c[ok], False
    (out,) = outs
    if layout == "end2end":
        rows = out.reshape(-1, 6)
        ok = rows[:, 4] >= threshold
        rows = rows[ok]
        return rows[:, :4], rows[:, 4], rows[:, 5].astype(np.int64), False
    if layout == "yolov8":
        m = out[0]
        if not (n_labels and m.shape[1] == 4 + n_labels and m.shape[0] != 4 + n_labels):
            m = m.T  # [4 + classes, N] -> [N, 4 + classes]
        cls_scores = m[:, 4:]
    elif layout == "yolov5":
        m = out[0]
        cls_scores = m[:, 5:] * m[:, 4:5]
    else:
        raise EngineError(f"unknown layout {layout!r}; one of {', '.join(LAYOUTS)}")
    c = np.argmax(cls_scores, axis=1) if cls_scores.shape[1] else np.zeros(len(m), np.int64)
    s = cls_scores[np.arange(len(m)), c] if cls_scores.shape[1] else m[:, 4]
    ok = s >= threshold
    return _cxcywh(m[ok, :4]), s[ok].astype(np.float32), c[ok].astype(np.int64), True


def decode(layout: str, outs: Sequence[Floats], labels: Sequence[str], threshold: float,
           box: Letterbox) -> list[ObjectBox]:
    """Boxes of dequantised outputs `outs` in `layout`, normalised to the original frame."""
    xyxy, scores, classes, needs_nms = _rows(layout, outs, len(labels), threshold)
    if not len(scores):
        return []
    xyxy = _to_pixels(xyxy.astype(np.float32), box.width, box.height)
    keep = nms(xyxy, scores, classes) if needs_nms else \
        list(np.argsort(-scores, kind="stable")[:MAX_BOXES])
    found: list[ObjectBox] = []
    for i in keep:
        x, y, w, h = box.to_frame(*(float(v) for v in xyxy[i]))
        if w <= 0 or h <= 0:
            continue
        found.append(ObjectBox(label_of(labels, int(classes[i])),
                               round(min(1.0, float(scores[i])), 4),
                               round(x, 4), round(y, 4), round(w, 4), round(h, 4)))
    return found
