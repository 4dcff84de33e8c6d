# Detection zones per stream (lightnvr/database/zones.py). Coordinates are normalized 0..1.
from collections.abc import Mapping, Sequence
from typing import Any

from lightnvr.core.field_error import FieldError
from lightnvr.database.manager import Database

MAX_ZONES_PER_STREAM: int
MAX_ZONE_POINTS: int

class InvalidZone(FieldError): ...

class Zone:
    id: str
    stream_name: str
    name: str
    enabled: bool
    color: str
    polygon: tuple[tuple[float, float], ...]
    filter_classes: str             # comma-separated labels; "" = every label
    min_confidence: float
    exclude: bool                   # exclude zone (API "type": "include" | "exclude")
    def to_dict(self) -> dict[str, Any]: ...   # LightNVR API shape (polygon as [{x, y}])
    def accepts(self, label: str, confidence: float) -> bool: ...

def zone_from_json(stream_name: str, data: Mapping[str, Any], index: int = 0) -> Zone: ...  # InvalidZone

class ZonesRepo:
    def __init__(self, db: Database) -> None: ...
    def list(self, stream_name: str) -> list[Zone]: ...
    def replace(self, stream_name: str, zones: Sequence[Zone]) -> None: ...   # one transaction
    def delete_all(self, stream_name: str) -> int: ...
