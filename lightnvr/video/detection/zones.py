"""Detection zones: where in the picture motion counts (pixel masks) and which boxes count.

Zones are polygons in normalised coordinates (0..1, x to the right, y down), as stored by
database/zones.py and drawn by the UI; each may name the labels it applies to (LightNVR's
`filter_classes`, comma-separated; empty: every label) and a minimum confidence. A pixel of
the small sampled picture belongs to a polygon when its centre does (even-odd rule), so a
zone means the same at every picture size. The motion detector counts motion only inside the
union of the include zones that apply to the label "motion" (when there are any) and outside
every such exclude zone; the mask is built once per zone change and picture size, then it
costs one boolean AND per frame. An object box counts by its centre and its label
(`object_counts`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

Polygon = tuple[tuple[float, float], ...]
Mask = npt.NDArray[np.bool_]
Zones = tuple[tuple[Polygon, ...], tuple[Polygon, ...]]  # (include, exclude)
MOTION_LABEL = "motion"  # the label of the built-in detector's detections


class StoredZone(Protocol):
    """What the video subsystem reads of a stored zone (database/zones.py's Zone)."""

    @property
    def polygon(self) -> Sequence[tuple[float, float]]: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def exclude(self) -> bool: ...
    @property
    def filter_classes(self) -> str: ...
    @property
    def min_confidence(self) -> float: ...


@dataclass(frozen=True, slots=True)
class ZoneShape:
    """One enabled zone as the detectors use it: `labels` lower case, empty for every label."""

    polygon: Polygon
    exclude: bool = False
    labels: frozenset[str] = frozenset()
    min_confidence: float = 0.0

    def applies_to(self, label: str, confidence: float = 1.0) -> bool:
        return (not self.labels or label.lower() in self.labels) \
            and confidence >= self.min_confidence


def zone_shapes(zones: Sequence[StoredZone]) -> tuple[ZoneShape, ...]:
    """The enabled zones with a shape (3+ points), as the detectors use them."""
    return tuple(
        ZoneShape(tuple((float(x), float(y)) for x, y in z.polygon), bool(z.exclude),
                  frozenset(c.strip().lower() for c in z.filter_classes.split(",")
                            if c.strip()),
                  float(z.min_confidence))
        for z in zones if z.enabled and len(z.polygon) >= 3)


def motion_zones(shapes: Sequence[ZoneShape]) -> Zones:
    """The (include, exclude) polygons of the zones that apply to motion."""
    mine = [z for z in shapes if z.applies_to(MOTION_LABEL)]
    return (tuple(z.polygon for z in mine if not z.exclude),
            tuple(z.polygon for z in mine if z.exclude))


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


def object_counts(shapes: Sequence[ZoneShape], label: str, confidence: float, x: float,
                  y: float) -> bool:
    """An object box (centre x, y) counts when, if there are include zones, its centre is in
    one that applies to its label and confidence (LightNVR's zone filter: a zone limited to
    `person` does not pass a car), and it is in no exclude zone that applies to its label."""
    include = [z for z in shapes if not z.exclude]
    if include and not any(z.applies_to(label, confidence) and point_in(z.polygon, x, y)
                           for z in include):
        return False
    return not any(z.exclude and z.applies_to(label) and point_in(z.polygon, x, y)
                   for z in shapes)
