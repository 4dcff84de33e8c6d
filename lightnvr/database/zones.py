"""Detection zones: per-stream polygons (normalized 0..1) that filter what detections are kept."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from lightnvr.core.field_error import FieldError

if TYPE_CHECKING:
    from lightnvr.database.manager import Database

MAX_ZONES_PER_STREAM = 16  # as in the C project
MAX_ZONE_POINTS = 32
_MAX_TEXT = 64
_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_ZONE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class InvalidZone(FieldError):
    """A zone field is out of range; `field` names it (e.g. `zones[1].polygon`)."""


@dataclass(frozen=True, slots=True)
class Zone:
    """One detection zone of a stream."""

    id: str
    stream_name: str
    name: str
    enabled: bool
    color: str
    polygon: tuple[tuple[float, float], ...]
    filter_classes: str  # comma-separated labels; "" = every label
    min_confidence: float
    exclude: bool = False  # an exclude zone: detections inside it do not count (motion)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "stream_name": self.stream_name, "name": self.name,
            "enabled": self.enabled, "color": self.color,
            "polygon": [{"x": x, "y": y} for x, y in self.polygon],
            "filter_classes": self.filter_classes, "min_confidence": self.min_confidence,
            "type": "exclude" if self.exclude else "include",
        }

    def accepts(self, label: str, confidence: float) -> bool:
        """True when a whole-frame detection of `label` passes this zone's class filter."""
        if not self.enabled or confidence < self.min_confidence:
            return False
        classes = {c.strip().lower() for c in self.filter_classes.split(",") if c.strip()}
        return not classes or label.lower() in classes


def _text(data: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise InvalidZone(f"{where}.{key}", "must be a string")
    if len(value) > _MAX_TEXT * 4:
        raise InvalidZone(f"{where}.{key}", f"at most {_MAX_TEXT * 4} characters")
    return value


def _number(value: Any, field: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidZone(field, "must be a number")
    if not lo <= float(value) <= hi:
        raise InvalidZone(field, f"must be between {lo:g} and {hi:g}")
    return float(value)


def _polygon(value: Any, where: str) -> tuple[tuple[float, float], ...]:
    if not isinstance(value, list) or not 3 <= len(value) <= MAX_ZONE_POINTS:
        raise InvalidZone(f"{where}.polygon", f"must be a list of 3..{MAX_ZONE_POINTS} points")
    points: list[tuple[float, float]] = []
    for i, p in enumerate(value):
        field = f"{where}.polygon[{i}]"
        if isinstance(p, Mapping):
            x, y = p.get("x"), p.get("y")
        elif isinstance(p, list) and len(p) == 2:
            x, y = p
        else:
            raise InvalidZone(field, "must be {x, y} or [x, y]")
        points.append((_number(x, field + ".x", 0.0, 1.0), _number(y, field + ".y", 0.0, 1.0)))
    return tuple(points)


def zone_from_json(stream_name: str, data: Mapping[str, Any], index: int = 0) -> Zone:
    """Build a Zone from an API object; InvalidZone names the offending field."""
    where = f"zones[{index}]"
    if not isinstance(data, Mapping):
        raise InvalidZone(where, "must be an object")
    zone_id = _text(data, "id", where, f"zone_{index}")
    if not _ZONE_ID.match(zone_id):
        raise InvalidZone(f"{where}.id", "1..64 characters of letters, digits, '_', '.', ':', '-'")
    name = _text(data, "name", where, zone_id)
    if not name or len(name) > _MAX_TEXT:
        raise InvalidZone(f"{where}.name", f"must be 1..{_MAX_TEXT} characters")
    color = _text(data, "color", where, "#ff0000")
    if not _COLOR.match(color):
        raise InvalidZone(f"{where}.color", "must look like #rrggbb")
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        raise InvalidZone(f"{where}.enabled", "must be true or false")
    classes = data.get("filter_classes", "")
    if isinstance(classes, list) and all(isinstance(c, str) for c in classes):
        classes = ",".join(classes)
    if not isinstance(classes, str) or len(classes) > _MAX_TEXT * 4:
        raise InvalidZone(f"{where}.filter_classes", "must be a comma-separated string")
    conf = _number(data.get("min_confidence", 0.0), f"{where}.min_confidence", 0.0, 1.0)
    kind = data.get("type", "include")
    if kind not in ("include", "exclude"):
        raise InvalidZone(f"{where}.type", "must be include or exclude")
    return Zone(zone_id, stream_name, name, enabled, color, _polygon(data.get("polygon"), where),
                classes, conf, kind == "exclude")


def _row_id(stream_name: str, zone_id: str) -> str:
    # detection_zones.id is one key space for all streams while clients (the C UI) number zones
    # per stream ("zone_1" on every camera); stream names cannot contain '/', so this is unique.
    return f"{stream_name}/{zone_id}"


def _api_id(stream_name: str, row_id: str) -> str:
    prefix = stream_name + "/"
    return row_id[len(prefix):] if row_id.startswith(prefix) else row_id


class ZonesRepo:
    """Rows of `detection_zones`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def list(self, stream_name: str) -> list[Zone]:
        with self._db.reader() as conn:
            rows = conn.execute(
                "SELECT id, stream_name, name, enabled, color, polygon, filter_classes,"
                " min_confidence, zone_type FROM detection_zones WHERE stream_name = ?"
                " ORDER BY created_at, id", (stream_name,)).fetchall()
        out = []
        for r in rows:
            try:
                pts = tuple((float(p["x"]), float(p["y"])) for p in orjson.loads(r[5]))
            except (orjson.JSONDecodeError, TypeError, KeyError, ValueError):
                pts = ()  # a hand-edited row; show the zone, without its shape
            out.append(Zone(_api_id(stream_name, str(r[0])), str(r[1]), str(r[2]),
                            bool(r[3]), str(r[4]), pts, str(r[6]), float(r[7]),
                            r[8] == "exclude"))
        return out

    def replace(self, stream_name: str, zones: Sequence[Zone]) -> None:
        """Make `zones` the stream's whole set, in one transaction."""
        ids = [z.id for z in zones]
        if len(set(ids)) != len(ids):
            raise InvalidZone("zones", "zone ids must be unique")
        if len(zones) > MAX_ZONES_PER_STREAM:
            raise InvalidZone("zones", f"at most {MAX_ZONES_PER_STREAM} zones per stream")
        with self._db.writer() as conn:
            conn.execute("DELETE FROM detection_zones WHERE stream_name = ?", (stream_name,))
            for z in zones:
                conn.execute(
                    "INSERT INTO detection_zones (id, stream_name, name, enabled, color, polygon,"
                    " filter_classes, min_confidence, zone_type)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (_row_id(stream_name, z.id), stream_name, z.name, int(z.enabled), z.color,
                     orjson.dumps([{"x": x, "y": y} for x, y in z.polygon]).decode(),
                     z.filter_classes, z.min_confidence, "exclude" if z.exclude else "include"))

    def delete_all(self, stream_name: str) -> int:
        with self._db.writer() as conn:
            cur = conn.execute("DELETE FROM detection_zones WHERE stream_name = ?",
                               (stream_name,))
            return int(cur.rowcount)
