"""Import a LightNVR (C) database into ours: `lightnvr import-lightnvr` (docs/migrate.md).

The source is opened read-only (``mode=ro`` URI) and never written. Everything lands in ONE
write transaction of the target: an import that fails leaves the target as it was. A second
import into the same target is refused (the ``lightnvr_import`` setting records the first).

Columns are copied by name wherever both schemas have them (ours was modelled on LightNVR's);
the values whose form differs are converted (schedules, password hashes, API keys, zone ids,
trigger types), and every LightNVR column or table that has no place here is listed in the
report with the reason. Where recordings' files are is not this module's business: the
caller passes ``locate`` (storage/lightnvr_layout.locate_imported), which finds a row's file
under our storage path and returns its canonical stored path.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from lightnvr.core.stream_config import STREAM_FIELDS, InvalidStreamConfig, StreamConfig
from lightnvr.database.lightnvr_import_formats import (
    encode_lightnvr_hash,
    importable,
    lightnvr_schema_version,
    too_old_message,
)
from lightnvr.database.manager import Database

IMPORT_MARKER_KEY = "lightnvr_import"
_USER_FLAGS = frozenset({"is_active", "totp_enabled", "password_change_locked"})
_TRIGGERS = {"scheduled": "scheduled", "detection": "detection", "manual": "manual",
             "motion": "detection", "continuous": "scheduled"}

# LightNVR columns with no place here, and why (anything else missing: "no such field here").
_WHY_NOT: dict[str, str] = {
    "is_onvif": "ONVIF is not supported here",
    "onvif_username": "ONVIF is not supported here",
    "onvif_password": "ONVIF is not supported here",
    "onvif_profile": "ONVIF is not supported here",
    "onvif_port": "ONVIF is not supported here",
    "ptz_enabled": "PTZ is not supported here",
    "ptz_max_x": "PTZ is not supported here",
    "ptz_max_y": "PTZ is not supported here",
    "ptz_max_z": "PTZ is not supported here",
    "ptz_has_home": "PTZ is not supported here",
    "backchannel_enabled": "two-way audio is not supported here",
    "go2rtc_source_override": "there is no go2rtc here (live view is our own HLS)",
    "buffer_strategy": "one pre-detection buffer (memory packets) here",
    "tier_critical_multiplier": "no tiered retention here: retention_days and overrides apply",
    "tier_important_multiplier": "no tiered retention here: retention_days and overrides apply",
    "tier_ephemeral_multiplier": "no tiered retention here: retention_days and overrides apply",
    "storage_priority": "no tiered retention here: retention_days and overrides apply",
    "retention_tier": "no tiered retention here: retention_days and overrides apply",
    "disk_pressure_eligible": "under disk pressure the oldest unprotected recordings go first",
    "schedule_restricted": "not recorded here",
    "privacy_mode": "no privacy pause here; disable the stream instead",
    "audio_voice_enhancement": "audio is copied as it is, never filtered",
    "detection_url": "detection reads the main stream or sub_stream_url here",
    "detection_object_filter": "zones' filter_classes filter detections here",
    "detection_object_filter_list": "zones' filter_classes filter detections here",
    "admin_url": "no such field here",
    "detection_record_on_schedule": "converted into detection_schedule",
    "detection_recording_schedule": "converted into detection_schedule",
    "track_id": "no object tracking here",
    "source": "no external detection sources here",
    "event_end_time": "detections are points in time here",
    "updated_at": "not kept here",
}
# Columns LightNVR's migrations added after OLDEST_IMPORTABLE that have a place here:
# (migration, LightNVR's default). An older file lacks them; its rows get that default, as
# LightNVR's own ALTER TABLE ... ADD COLUMN would have given them (db/migrations/00NN_*.sql).
_ADDED_LATER: dict[str, dict[str, tuple[str, Any]]] = {
    "streams": {"record_on_schedule": ("0026", 0), "recording_schedule": ("0026", None),
                "tags": ("0028", ""), "motion_trigger_source": ("0039", ""),
                "sub_stream_url": ("0040", "")},
    "users": {"allowed_tags": ("0029", None), "allowed_login_cidrs": ("0037", None)},
}
# Whole LightNVR tables with no place here, and why.
_TABLES_NOT_IMPORTED: dict[str, str] = {
    "sessions": "sign-in sessions are not carried over: everyone signs in again",
    "trusted_devices": "trusted devices are not carried over: TOTP users confirm a code "
                       "once and trust the browser again",
    "motion_settings": "an early table LightNVR itself no longer reads; motion settings "
                       "are per-stream fields here",
    "motion_recording_config": "LightNVR's ONVIF motion recording settings; detection-based "
                               "recording is per-stream here",
    "motion_recordings": "LightNVR's ONVIF motion recordings table; its files, if under the "
                         "storage path, are adopted by start-up reconciliation",
    "storage_daily_stats": "statistics; ours are computed from the recordings",
    "schema_migrations": "LightNVR's migration history; ours is separate",
    "sqlite_sequence": "SQLite's own bookkeeping",
}


class ImportRefused(Exception):
    """The import cannot be done (not a LightNVR database, already imported, ...)."""


class LocatedLike(Protocol):
    """Where a row's file is now (storage/lightnvr_layout.LocatedFile)."""

    @property
    def file_path(self) -> str: ...
    @property
    def size_bytes(self) -> int: ...


Locate = Callable[[str], LocatedLike | None]


@dataclass
class TableReport:
    """What happened to one LightNVR table."""

    imported: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    fields_not_imported: dict[str, str] = field(default_factory=dict)
    # columns an older LightNVR file lacks -> what every row got instead
    defaults_applied: dict[str, str] = field(default_factory=dict)

    def skip(self, what: str, why: str) -> None:
        self.skipped.append({"row": what, "why": why})


@dataclass
class ImportReport:
    """Everything imported and everything not, with reasons (printed, or JSON)."""

    source: str
    target: str
    source_version: str
    tables: dict[str, TableReport] = field(default_factory=dict)
    tables_not_imported: dict[str, str] = field(default_factory=dict)

    def table(self, name: str) -> TableReport:
        return self.tables.setdefault(name, TableReport())

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "target": self.target,
            "source_schema_version": self.source_version,
            "tables": {name: {"imported": t.imported, "skipped": t.skipped,
                              "fields_not_imported": t.fields_not_imported,
                              "defaults_applied": t.defaults_applied}
                       for name, t in self.tables.items()},
            "tables_not_imported": self.tables_not_imported,
        }

    def to_text(self) -> str:
        lines = [f"imported LightNVR database {self.source} (migrations up to "
                 f"{self.source_version}) into {self.target}"]
        for name, t in self.tables.items():
            lines.append(f"{name}: {t.imported} imported, {len(t.skipped)} not imported")
            lines += [f"  not imported: {s['row']}: {s['why']}" for s in t.skipped]
            lines += [f"  field {col} not imported: {why}"
                      for col, why in t.fields_not_imported.items()]
            lines += [f"  field {col} not in this database: {what}"
                      for col, what in t.defaults_applied.items()]
        for name, why in self.tables_not_imported.items():
            lines.append(f"table {name} not imported: {why}")
        return "\n".join(lines)


def open_source(path: str) -> sqlite3.Connection:
    """A read-only connection to the LightNVR file (``mode=ro``: SQLite refuses writes)."""
    if not os.path.isfile(path):
        raise ImportRefused(f"{path}: no such file")
    conn = sqlite3.connect(Path(path).absolute().as_uri() + "?mode=ro", uri=True,
                           isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [str(r[1]) for r in conn.execute(f"PRAGMA table_info({table})")]


def _tables(conn: sqlite3.Connection) -> list[str]:
    return [str(r[0]) for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]


def schedule_text(value: object) -> str:
    """LightNVR's ``"1,0,1,..."`` (168 hours, missing ones = 1) as our 168 '0'/'1' characters."""
    if value is None or str(value).strip() == "":
        return ""
    hours: list[str] = []
    for token in str(value).split(","):
        try:
            hours.append("1" if int(token.strip() or "0") else "0")
        except ValueError:
            hours.append("1")
    hours = (hours + ["1"] * 168)[:168]
    return "".join(hours)


class _Importer:
    """One import run: source rows -> target rows inside the caller's transaction."""

    def __init__(self, src: sqlite3.Connection, dst: sqlite3.Connection, locate: Locate,
                 report: ImportReport) -> None:
        self.src, self.dst, self.locate, self.report = src, dst, locate, report
        self.recording_ids: dict[int, int] = {}
        self.streams: set[str] = {str(r[0]) for r in dst.execute("SELECT name FROM streams")}

    def _shared(self, table: str, ours: str | None = None,
                handled: tuple[str, ...] = ()) -> list[str]:
        """Columns both tables have; the source's others are reported as not imported."""
        theirs = _columns(self.src, table)
        mine = set(_columns(self.dst, ours or table))
        t = self.report.table(table)
        for col in theirs:
            if col not in mine and col not in handled and col != "id":
                t.fields_not_imported[col] = _WHY_NOT.get(col, "no such field here")
        return [c for c in theirs if c in mine and c != "id"]

    def _older_defaults(self, table: str) -> dict[str, Any]:
        """LightNVR's defaults for the columns of `table` this (older) file lacks."""
        theirs = set(_columns(self.src, table))
        out: dict[str, Any] = {}
        for col, (migration, default) in _ADDED_LATER.get(table, {}).items():
            if col not in theirs:
                out[col] = default
                self.report.table(table).defaults_applied[col] = (
                    f"added by LightNVR migration {migration}; LightNVR's default "
                    f"{default!r} applied")
        return out

    def _insert(self, table: str, values: dict[str, Any], keep_id: int | None = None) -> int:
        if keep_id is not None and not self.dst.execute(
                f"SELECT 1 FROM {table} WHERE id = ?", (keep_id,)).fetchone():
            values = {"id": keep_id, **values}  # LightNVR's ids stay valid where free
        cols = list(values)
        cur = self.dst.execute(
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [values[c] for c in cols])
        return int(cur.lastrowid or 0)

    # -- streams -------------------------------------------------------------------------
    def streams_table(self) -> None:
        t = self.report.table("streams")
        shared = self._shared("streams", handled=("detection_record_on_schedule",
                                                  "detection_recording_schedule"))
        src_cols = set(_columns(self.src, "streams"))
        older = self._older_defaults("streams")
        for row in self.src.execute("SELECT * FROM streams ORDER BY id"):
            name = str(row["name"] or "")
            values = {**older, **{c: row[c] for c in shared if row[c] is not None}}
            if "recording_schedule" in values:
                values["recording_schedule"] = schedule_text(values["recording_schedule"])
            if ("detection_schedule" in _columns(self.dst, "streams")
                    and "detection_recording_schedule" in src_cols
                    and row["detection_record_on_schedule"]):
                values["detection_schedule"] = schedule_text(row["detection_recording_schedule"])
            if name in self.streams:
                t.skip(f"stream {name}", "a stream with this name exists here already")
                continue
            problem = _stream_problem(values)
            if problem is not None:
                t.skip(f"stream {name}", problem)
                continue
            self._insert("streams", values)
            self.streams.add(name)
            t.imported += 1

    # -- users ---------------------------------------------------------------------------
    def users_table(self) -> None:
        t = self.report.table("users")
        shared = self._shared("users")
        older = self._older_defaults("users")
        taken = {str(r[0]) for r in self.dst.execute("SELECT username FROM users")}
        for row in self.src.execute("SELECT * FROM users ORDER BY id"):
            username = str(row["username"])
            if username in taken:
                t.skip(f"user {username}", "a user with this name exists here already")
                continue
            try:
                role = int(row["role"])  # LightNVR binds a number into its TEXT column
            except (TypeError, ValueError):
                role = -1
            if role not in (0, 1, 2, 3):
                t.skip(f"user {username}", f"role {row['role']!r} is not 0..3")
                continue
            salt, digest = str(row["salt"] or ""), str(row["password_hash"] or "")
            try:
                if len(bytes.fromhex(salt)) != 16 or len(bytes.fromhex(digest)) != 32:
                    raise ValueError
            except ValueError:
                t.skip(f"user {username}", "password hash is not LightNVR's PBKDF2 form")
                continue
            values = {**older, **{c: row[c] for c in shared if row[c] is not None}}
            values.update(role=role, salt=salt, password_hash=encode_lightnvr_hash(digest))
            for flag in _USER_FLAGS & set(values):
                values[flag] = int(bool(values[flag]))  # ours CHECK these to be 0 or 1
            if _val(row, "api_key"):
                # stored as web/auth.api_key_digest stores keys: the SHA-256 hex digest
                values["api_key"] = hashlib.sha256(str(row["api_key"]).encode()).hexdigest()
            self._insert("users", values, keep_id=int(row["id"]))
            taken.add(username)
            t.imported += 1

    # -- recordings, their tags and detections -------------------------------------------
    def recordings_table(self) -> None:
        t = self.report.table("recordings")
        shared = self._shared("recordings")
        known = {str(r[0]) for r in self.dst.execute("SELECT file_path FROM recordings")}
        for row in self.src.execute("SELECT * FROM recordings ORDER BY id"):
            what = f"recording {row['id']} ({row['file_path']})"
            found = self.locate(str(row["file_path"] or ""))
            if found is None:
                t.skip(what, "its file is not under the storage path")
                continue
            if found.file_path in known:
                t.skip(what, "a recording of this file exists here already")
                continue
            values = {c: row[c] for c in shared if row[c] is not None}
            trigger = str(_val(row, "trigger_type") or "scheduled")
            values.update(file_path=found.file_path, start_time=float(row["start_time"]),
                          trigger_type=_TRIGGERS.get(trigger, "scheduled"))
            if values.get("is_complete"):
                values["size_bytes"] = found.size_bytes  # the file is the truth (check inv. 6)
            if trigger not in _TRIGGERS:
                t.fields_not_imported[f"trigger_type={trigger}"] = "imported as 'scheduled'"
            self.recording_ids[int(row["id"])] = self._insert("recordings", values,
                                                              keep_id=int(row["id"]))
            known.add(found.file_path)
            t.imported += 1

    def recording_tags_table(self) -> None:
        t = self.report.table("recording_tags")
        self._shared("recording_tags")
        for row in self.src.execute("SELECT recording_id, tag FROM recording_tags"):
            rid = self.recording_ids.get(int(row["recording_id"]))
            if rid is None:
                t.skip(f"tag {row['tag']} of recording {row['recording_id']}",
                       "its recording was not imported")
                continue
            self.dst.execute("INSERT OR IGNORE INTO recording_tags (recording_id, tag) "
                             "VALUES (?, ?)", (rid, row["tag"]))
            t.imported += 1

    def detections_table(self) -> None:
        t = self.report.table("detections")
        shared = self._shared("detections", handled=("created_at",))
        t.fields_not_imported.setdefault("created_at", "not kept here")
        for row in self.src.execute("SELECT * FROM detections ORDER BY id"):
            values = {c: row[c] for c in shared if row[c] is not None}
            if _val(row, "recording_id") is not None:
                rid = self.recording_ids.get(int(row["recording_id"]))
                if rid is None:
                    values.pop("recording_id", None)  # its recording stays behind
                else:
                    values["recording_id"] = rid
            if values.get("zone_id") == "":
                del values["zone_id"]
            values["timestamp"] = float(row["timestamp"])
            self._insert("detections", values)
            t.imported += 1

    # -- zones, events, settings ---------------------------------------------------------
    def zones_table(self) -> None:
        t = self.report.table("detection_zones")
        shared = self._shared("detection_zones")
        for row in self.src.execute("SELECT * FROM detection_zones"):
            stream, zone = str(row["stream_name"]), str(row["id"])
            if stream not in self.streams:
                t.skip(f"zone {zone}", f"its stream {stream} was not imported")
                continue
            try:
                points = json.loads(str(row["polygon"]))
                if not isinstance(points, list) or len(points) < 3:
                    raise ValueError
            except ValueError:
                t.skip(f"zone {zone} of {stream}", "its polygon is not a list of 3+ points")
                continue
            values = {c: row[c] for c in shared if row[c] is not None}
            # ours key zones per stream as "<stream>/<zone id>" (database/zones.py)
            values["id"] = zone if zone.startswith(stream + "/") else f"{stream}/{zone}"
            self.dst.execute(
                f"INSERT OR IGNORE INTO detection_zones ({', '.join(values)}) "
                f"VALUES ({', '.join('?' * len(values))})", list(values.values()))
            t.imported += 1

    def events_table(self) -> None:
        t = self.report.table("events")
        shared = self._shared("events")
        for row in self.src.execute("SELECT * FROM events ORDER BY id"):
            values = {c: row[c] for c in shared if row[c] is not None}
            self._insert("events", values)
            t.imported += 1

    def settings_table(self) -> None:
        t = self.report.table("system_settings")
        for row in self.src.execute("SELECT key, value FROM system_settings ORDER BY key"):
            cur = self.dst.execute(
                "INSERT OR IGNORE INTO system_settings (key, value, updated_at) "
                "VALUES (?, ?, ?)", (row["key"], str(row["value"] or ""), int(time.time())))
            if cur.rowcount:
                t.imported += 1
            else:
                t.skip(f"setting {row['key']}", "this database has its own value already")


def _val(row: sqlite3.Row, column: str) -> Any:
    """``row[column]``, or None for a column an older LightNVR schema did not have yet."""
    return row[column] if column in row.keys() else None  # noqa: SIM118 (Row: in = values)


def _stream_problem(values: dict[str, Any]) -> str | None:
    """Why the stream cannot be kept here (our StreamConfig rules), or None."""
    kwargs: dict[str, Any] = {}
    defaults = StreamConfig(name="x", url="x")
    for f in STREAM_FIELDS:
        if f in values:
            default = getattr(defaults, f)
            v = values[f]
            kwargs[f] = bool(v) if isinstance(default, bool) else type(default)(v)
    try:
        StreamConfig(**kwargs).validate()
    except InvalidStreamConfig as e:
        return f"{e} (not accepted here)"
    except (TypeError, ValueError) as e:
        return f"a field has a value of the wrong type: {e}"
    return None


_STEPS = (("streams", "streams_table"), ("users", "users_table"),
          ("recordings", "recordings_table"), ("recording_tags", "recording_tags_table"),
          ("detections", "detections_table"), ("detection_zones", "zones_table"),
          ("events", "events_table"), ("system_settings", "settings_table"))


def import_lightnvr(source: str, target: Database, locate: Locate) -> ImportReport:
    """Copy the LightNVR database at ``source`` into the open ``target`` in one transaction.

    Raises ImportRefused (nothing written) when ``source`` is not a LightNVR database or
    ``target`` already holds an import.
    """
    if os.path.realpath(source) == os.path.realpath(target.path):
        raise ImportRefused(f"{source} is the target database itself: set [database] path "
                            "to a new file and import from the LightNVR one")
    leftovers = [source + s for s in ("-wal", "-shm") if not os.path.exists(source + s)]
    src = open_source(source)
    try:
        try:
            version = lightnvr_schema_version(src)
        except sqlite3.DatabaseError as e:
            raise ImportRefused(f"{source} cannot be read as an SQLite database: {e}") from e
        if version is None:
            raise ImportRefused(f"{source} is not a LightNVR database (its schema_migrations "
                                "table does not hold LightNVR's text versions)")
        if not importable(version):
            raise ImportRefused(too_old_message(source, version))
        report = ImportReport(os.path.abspath(source), target.path, version)
        # one read snapshot: a LightNVR still running cannot make tags or detections point
        # at recordings this run did not see
        src.execute("BEGIN")
        with target.writer() as dst:
            done = dst.execute("SELECT value FROM system_settings WHERE key = ?",
                               (IMPORT_MARKER_KEY,)).fetchone()
            if done is not None:
                raise ImportRefused(
                    f"{target.path} already holds an import ({done[0]}); nothing was done. "
                    "To import again, start from a new database file")
            present = set(_tables(src))
            importer = _Importer(src, dst, locate, report)
            for table, step in _STEPS:
                if table in present:
                    getattr(importer, step)()
            for table in sorted(present):
                if table not in dict(_STEPS):
                    report.tables_not_imported[table] = _TABLES_NOT_IMPORTED.get(
                        table, "no such table here")
            marker = json.dumps({"source": report.source, "schema_version": version,
                                 "at": int(time.time())})
            dst.execute("INSERT INTO system_settings (key, value) VALUES (?, ?)",
                        (IMPORT_MARKER_KEY, marker))
        return report
    finally:
        src.close()
        _remove_own_leftovers(leftovers)


def _remove_own_leftovers(paths: list[str]) -> None:
    """SQLite makes an empty -wal/-shm beside a WAL file even to read it; remove the ones this
    run created (none existed before, so no LightNVR process was using them)."""
    wal = next((p for p in paths if p.endswith("-wal")), None)
    if wal is not None and os.path.exists(wal) and os.path.getsize(wal) > 0:
        return  # something wrote to it meanwhile: not ours to remove
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(p)
