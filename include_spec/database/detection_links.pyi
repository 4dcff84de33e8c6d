# lightnvr/database/detection_links.py: detections of the built-in detector stored from its
# hub events and linked to the recordings that cover them (app.py calls it on the hub thread).
from collections.abc import Iterable

from lightnvr.core.nvr_events import NvrEvent
from lightnvr.database.manager import Database

LINK_WINDOW_SECONDS: float   # how far back link_recent looks for unlinked detections

class DetectionLinks:
    def __init__(self, db: Database) -> None: ...
    def store(self, event: NvrEvent) -> int: ...   # rows stored for the event's objects
    # give detections of `streams` newer than `since` the recording covering their time;
    # rows changed (some may stay unlinked until their recording's row exists)
    def link_recent(self, streams: Iterable[str], since: float) -> int: ...
