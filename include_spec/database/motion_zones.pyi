# lightnvr/database/motion_zones.py: which stored detection zones the built-in motion detector
# honours (enabled, 3+ points, class filter accepting "motion"), as plain polygons for
# StreamManager.set_motion_zones (app.py at start-up, web/api/streams.py on every change).
from collections.abc import Sequence
from lightnvr.database.zones import Zone

MOTION_LABEL: str   # "motion"

def motion_polygons(zones: Sequence[Zone], exclude: bool = False
                    ) -> list[tuple[tuple[float, float], ...]]: ...   # include (or exclude) polygons
