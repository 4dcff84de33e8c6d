"""The motion detector (LightNVR's model "motion"): small grayscale frames in, motion out.

The approach follows LightNVR's src/video/motion_detection.c (grayscale, blur, background
model, grid scoring, sensitivity, minimum area, cooldown), reimplemented with numpy:

1. Blur (3x3 box) the small grayscale frame: sensor noise and the blocking of a compressed
   keyframe are mostly finer than a cell of the downscaled picture.
2. Compare with a background model (a running average, `BACKGROUND_ALPHA` per sample), after
   removing the median difference: a global brightness shift (dusk, a cloud, auto exposure)
   moves every pixel alike and so cancels, while an object changes only its own pixels.
3. A pixel changed when it differs by more than the sensitivity's threshold; the picture is
   cut into a GRID x GRID grid and a cell counts when at least `CELL_FILL` of its pixels
   changed (isolated noisy pixels never fill a cell).
4. Only changed pixels inside the include zones count (`set_mask`, detection/zones.py).
5. Motion when the counted cells' changed pixels cover at least `min_area` of the picture.
   Events are rate-limited by the cooldown; the caller still learns of every moving frame
   (recording is extended by each one).

Pure computation: no threads, no I/O, no clock (the caller passes the frame's time).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

GRID = 8
CELL_FILL = 0.15          # fraction of a cell's pixels that must change for the cell to count
BACKGROUND_ALPHA = 0.25   # weight of the newest sample in the background model
MIN_PIXEL_DELTA = 6.0     # gray levels at sensitivity 1.0
MAX_PIXEL_DELTA = 60.0    # gray levels at sensitivity 0.0

Gray = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class MotionSettings:
    """What a user tunes per stream (StreamConfig motion_* fields)."""

    sensitivity: float = 0.5   # 0..1, higher notices smaller brightness changes
    min_area: float = 0.01     # fraction of the picture that must change
    cooldown: float = 3.0      # seconds between two reported events

    @property
    def pixel_delta(self) -> float:
        s = min(1.0, max(0.0, self.sensitivity))
        return MAX_PIXEL_DELTA - (MAX_PIXEL_DELTA - MIN_PIXEL_DELTA) * s


@dataclass(frozen=True, slots=True)
class MotionResult:
    """One analysed frame. `box` (x, y, w, h, normalised 0..1) bounds the moving cells."""

    moving: bool        # enough of the picture changed
    event: bool         # moving, and the cooldown since the last event has passed
    area: float         # fraction of the picture that changed (in counted cells)
    box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    cells: tuple[tuple[int, int], ...] = ()  # (row, column) of the counted cells


def _blur(frame: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """3x3 box blur with edge replication (two 1-D passes)."""
    p = np.pad(frame, 1, mode="edge")
    rows = p[:-2, :] + p[1:-1, :] + p[2:, :]
    out: npt.NDArray[np.float32] = (rows[:, :-2] + rows[:, 1:-1] + rows[:, 2:]) / 9.0
    return out


class MotionDetector:
    """See the module doc. One per stream; used by one thread."""

    def __init__(self, settings: MotionSettings | None = None) -> None:
        self.settings = settings or MotionSettings()
        self._background: npt.NDArray[np.float32] | None = None
        self._last_event: float | None = None
        self._mask: npt.NDArray[np.bool_] | None = None

    def set_mask(self, mask: npt.NDArray[np.bool_] | None) -> None:
        """Pixels where motion may count (frame-shaped), None for everywhere."""
        self._mask = mask

    def reset(self) -> None:
        """Forget the background (new connection, new picture size)."""
        self._background = None

    def analyse(self, frame: Gray, now: float) -> MotionResult:
        """Compare `frame` (H x W uint8) with the background, then learn it; `now` in s."""
        current = _blur(frame.astype(np.float32))
        bg = self._background
        if bg is None or bg.shape != current.shape:
            self._background = current
            return MotionResult(False, False, 0.0)
        diff = current - bg
        diff -= np.median(diff)  # a global brightness change is not motion
        changed = np.abs(diff) > self.settings.pixel_delta
        if self._mask is not None and self._mask.shape == changed.shape:
            changed &= self._mask
        self._background = bg + (current - bg) * BACKGROUND_ALPHA
        return self._score(changed, now)

    def _score(self, changed: npt.NDArray[np.bool_], now: float) -> MotionResult:
        h, w = changed.shape
        ys = np.linspace(0, h, GRID + 1).astype(int)
        xs = np.linspace(0, w, GRID + 1).astype(int)
        counted: list[tuple[int, int]] = []
        pixels = 0
        for r in range(GRID):
            for c in range(GRID):
                cell = changed[ys[r]:ys[r + 1], xs[c]:xs[c + 1]]
                n = int(cell.sum())
                if cell.size and n >= CELL_FILL * cell.size:
                    counted.append((r, c))
                    pixels += n
        area = pixels / float(h * w)
        if not counted or area < self.settings.min_area:
            return MotionResult(False, False, area)
        rows = [r for r, _ in counted]
        cols = [c for _, c in counted]
        x0, x1 = float(xs[min(cols)]) / w, float(xs[max(cols) + 1]) / w
        y0, y1 = float(ys[min(rows)]) / h, float(ys[max(rows) + 1]) / h
        event = self._last_event is None or now - self._last_event >= self.settings.cooldown
        if event:
            self._last_event = now
        return MotionResult(True, event, area, (x0, y0, x1 - x0, y1 - y0), tuple(counted))
