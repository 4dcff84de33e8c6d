"""Which stored detection zones the built-in motion detector honours, as plain polygons.

A zone applies to motion when it is enabled, has a shape (3+ points) and its class filter
accepts the label "motion" (an empty filter accepts every label). The stream manager gets
the polygons (StreamManager.set_motion_zones) at start-up (app.py) and whenever the zones API
changes them (web/api/streams.py), so the video subsystem never reads the database.
"""

from __future__ import annotations

from collections.abc import Sequence

from lightnvr.database.zones import Zone

MOTION_LABEL = "motion"


def motion_polygons(zones: Sequence[Zone], exclude: bool = False
                    ) -> list[tuple[tuple[float, float], ...]]:
    """The include (or, with `exclude`, the exclude) polygons of `zones` that apply to the
    motion detector (see the module doc)."""
    return [z.polygon for z in zones
            if z.enabled and z.exclude == exclude and len(z.polygon) >= 3
            and z.accepts(MOTION_LABEL, 1.0)]
