# `lightnvr import-lightnvr` (lightnvr/database/lightnvr_import.py): a LightNVR (C) database
# copied into ours in one transaction; the source is opened read-only and never written.
import sqlite3
from collections.abc import Callable
from typing import Any, Protocol

from lightnvr.database.manager import Database

IMPORT_MARKER_KEY: str   # system_settings key recording the import (a second one is refused)

class ImportRefused(Exception): ...

class LocatedLike(Protocol):
    @property
    def file_path(self) -> str: ...     # canonical stored path (relative to [storage] path)
    @property
    def size_bytes(self) -> int: ...

Locate = Callable[[str], LocatedLike | None]

class TableReport:
    imported: int
    skipped: list[dict[str, str]]          # {"row": ..., "why": ...}
    fields_not_imported: dict[str, str]    # LightNVR column -> why
    defaults_applied: dict[str, str]       # column an older file lacks -> LightNVR's default
    def skip(self, what: str, why: str) -> None: ...

class ImportReport:
    source: str
    target: str
    source_version: str
    tables: dict[str, TableReport]
    tables_not_imported: dict[str, str]
    def table(self, name: str) -> TableReport: ...
    def to_dict(self) -> dict[str, Any]: ...
    def to_text(self) -> str: ...

def open_source(path: str) -> sqlite3.Connection: ...   # mode=ro
def schedule_text(value: object) -> str: ...            # "1,0,..." -> 168 '0'/'1'
def import_lightnvr(source: str, target: Database, locate: Locate) -> ImportReport: ...
