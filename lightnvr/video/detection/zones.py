"""Detection zones as pixel masks: where in the sampled picture motion may count.

Zones are polygons in normalised coordinates (0..1, x to the right, y down), as stored by
database/zones.py and drawn by the UI. A pixel of the small sampled picture belongs to a
polygon when its centre does (even-odd rule), so a zone means the same at every picture size.
The detector counts motion only inside the union of the include zones (when there are any)
and outside every exclude zone; the mask is built once per zone change and picture size,
then it costs one boolean AND per frame.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Polygon = tuple[tuple[float, float], ...]
Mask = npt.NDArray[np.bool_]
Zones = tuple[tuple[Polygon, ...], tuple[Polygon, ...]]  # (include, exclude)


def polygon_mask(polygon: Sequence[tuple[float, float]], width: int, height: int) -> Mask:
    """Pixels (height x width) whose centre lies inside `polygon` (even-odd rule)."""
    xs = (np.arange(width, dtype=np.float64) + 0.5) / width
    ys = (np.arange(height, dtype=np.float64) + 0.5) / height
    px, py = np.meshgrid(xs, ys)
    inside = np.zeros((height, width), dtype=bool)
    n = len(polygon)
    for i in range(n):
        x0, y0 = polygon[i]
        x1, y1 = polygon[(i + 1) % n]
        if y0 == y1:
            continue  # a horizontal edge never crosses a horizontal ray
        crosses = (py >= min(y0, y1)) & (py < max(y0, y1))
        x_at = x0 + (py - y0) * (x1 - x0) / (y1 - y0)
        inside ^= crosses & (px < x_at)
    return inside


def zone_mask(include: Sequence[Polygon], exclude: Sequence[Polygon], width: int,
              height: int) -> Mask | None:
    """Where motion counts: inside the union of `include` (everywhere when it is empty) and
    outside every `exclude` polygon. None: no zones, the whole picture counts."""
    inc = [p for p in include if len(p) >= 3]
    exc = [p for p in exclude if len(p) >= 3]
    if not inc and not exc:
        return None
    mask = np.zeros((height, width), dtype=bool) if inc else np.ones((height, width), bool)
    for p in inc:
        mask |= polygon_mask(p, width, height)
    for p in exc:
        mask &= ~polygon_mask(p, width, height)
    return mask


def point_in(polygon: Sequence[tuple[float, float]], x: float, y: float) -> bool:
    """True when (x, y) lies inside `polygon` (even-odd rule, as `polygon_mask`)."""
    inside = False
    n = len(polygon)
    for i in range(n):
        x0, y0 = polygon[i]
        x1, y1 = polygon[(i + 1) % n]
        if y0 == y1:
            continue
        if min(y0, y1) <= y < max(y0, y1) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


def centre_counts(include: Sequence[Polygon], exclude: Sequence[Polygon], x: float,
                  y: float) -> bool:
    """An object box counts when its centre (x, y) is inside an include polygon (anywhere
    when there is none) and inside no exclude polygon."""
    inc = [p for p in include if len(p) >= 3]
    if inc and not any(point_in(p, x, y) for p in inc):
        return False
    return not any(point_in(p, x, y) for p in exclude if len(p) >= 3)
