# LightNVR (C) database formats (lightnvr/database/lightnvr_import_formats.py): recognising
# its file, and its PBKDF2 password hashes, which the login path checks and upgrades.
import sqlite3

LIGHTNVR_PBKDF2_SCHEME: str
LIGHTNVR_PBKDF2_ITERATIONS: int
IMPORT_COMMAND: str
OLDEST_IMPORTABLE: str   # '0022': the oldest LightNVR migration the importer reads
NEWEST_KNOWN: str        # '0046'

class LightNVRDatabase(Exception): ...

def lightnvr_schema_version(conn: sqlite3.Connection) -> str | None: ...   # '0046', or None: not LightNVR's
def lightnvr_database_message(path: str, version: str) -> str: ...        # one line naming the import command
def importable(version: str) -> bool: ...                               # version >= OLDEST_IMPORTABLE
def too_old_message(path: str, version: str) -> str: ...                # names it and what to do
def encode_lightnvr_hash(hash_hex: str, iterations: int = ...) -> str: ...
def is_lightnvr_hash(encoded: str) -> bool: ...
def verify_lightnvr_password(password: str, encoded: str, salt_hex: str) -> bool: ...
