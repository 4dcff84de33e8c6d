"""What a LightNVR (C) database looks like: how to recognise one, and its password hashes.

LightNVR keeps ``schema_migrations(version TEXT, applied_at)`` with versions as the text of
its migration numbers (``'0001'`` .. ``'0046'``); ours holds INTEGER versions. That column
type, not the number, tells the two apart: LightNVR's numbers are far above ours, so without
this check its file would be refused as "written by a newer lightnvr".

LightNVR hashes passwords with PBKDF2-HMAC-SHA256, 10 000 iterations, a 16-byte random salt,
32-byte output; ``users.password_hash`` and ``users.salt`` hold their lowercase hex
(``src/database/db_auth.c``). The importer stores such a hash as
``lightnvr-pbkdf2-sha256$<iterations>$<hash hex>`` beside the unchanged salt, so the login path
can check it and replace it with our scrypt hash at the first successful login.
"""

from __future__ import annotations

import hashlib
import hmac
import sqlite3

# The oldest LightNVR migration the importer reads: from 0022 on (which rebuilt
# detection_zones) LightNVR's migrations only add columns and tables, and the importer fills
# the ones an older file lacks with LightNVR's defaults. Older files, and those from before
# its migration table, are LightNVR's to bring forward first.
OLDEST_IMPORTABLE = "0022"
NEWEST_KNOWN = "0046"  # the newest LightNVR migration this importer was written against
LIGHTNVR_PBKDF2_SCHEME = "lightnvr-pbkdf2-sha256"
LIGHTNVR_PBKDF2_ITERATIONS = 10000
IMPORT_COMMAND = "lightnvr import-lightnvr"


class LightNVRDatabase(Exception):
    """The file is a LightNVR (C) database: it is imported, never opened in place."""


def lightnvr_schema_version(conn: sqlite3.Connection) -> str | None:
    """LightNVR's newest applied migration (``'0046'``) when ``conn`` is a LightNVR database,
    else None. Reads only ``sqlite_master`` and ``schema_migrations``: never writes."""
    cols = conn.execute("SELECT name, type FROM pragma_table_info('schema_migrations')"
                        ).fetchall()
    types = {str(r[0]): str(r[1]).upper() for r in cols}
    if types.get("version") == "TEXT":
        row = conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return str(row[0]) if row and row[0] is not None else "none"
    if types:
        return None  # ours: INTEGER versions
    # LightNVR before its migration table (legacy schema versions): its streams table has
    # columns ours never had.
    stream_cols = {str(r[0]) for r in conn.execute(
        "SELECT name FROM pragma_table_info('streams')")}
    if stream_cols & {"is_onvif", "buffer_strategy", "ptz_enabled"}:
        return "legacy"
    return None


def importable(version: str) -> bool:
    """The importer reads a LightNVR database whose newest migration is `version`."""
    return version.isdigit() and version >= OLDEST_IMPORTABLE


def too_old_message(path: str, version: str) -> str:
    """Why a LightNVR database too old to import is refused, and what the user does."""
    found = ("no migrations recorded" if version in ("none", "legacy")
             else f"migrations up to {version}")
    return (f"{path} is a LightNVR database from an old LightNVR ({found}); "
            f"the import reads databases from LightNVR's migration {OLDEST_IMPORTABLE} on "
            f"(current: {NEWEST_KNOWN}). Start a current LightNVR once with this database so "
            "its migrations bring it up to date, stop it, then import again")


def lightnvr_database_message(path: str, version: str) -> str:
    """The one line that says a LightNVR database was found and how to bring it across."""
    first = "" if importable(version) else (
        f"It is too old to import as it is: first start a current LightNVR once with it "
        f"(its migrations bring it from {version} to {NEWEST_KNOWN}). ")
    return (f"database {path} is a LightNVR (C) database (its migrations up to {version}); "
            f"lightnvr does not open it in place. {first}Point [database] path at a new file "
            f"and import it with: {IMPORT_COMMAND} {path} -c <your config> "
            "(the LightNVR file is only read, never changed; see docs/migrate.md)")


def encode_lightnvr_hash(hash_hex: str, iterations: int = LIGHTNVR_PBKDF2_ITERATIONS) -> str:
    """Our ``password_hash`` text for a LightNVR PBKDF2 hash (its salt column is kept as is)."""
    return f"{LIGHTNVR_PBKDF2_SCHEME}${iterations}${hash_hex.lower()}"


def is_lightnvr_hash(encoded: str) -> bool:
    """True for a hash imported from LightNVR (to be upgraded at the next login)."""
    return encoded.startswith(LIGHTNVR_PBKDF2_SCHEME + "$")


def verify_lightnvr_password(password: str, encoded: str, salt_hex: str) -> bool:
    """Constant-time check of ``password`` against an imported LightNVR hash."""
    try:
        scheme, iterations, want = encoded.split("$")
        if scheme != LIGHTNVR_PBKDF2_SCHEME:
            return False
        dk = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), bytes.fromhex(salt_hex),
                                 int(iterations), dklen=len(want) // 2)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(dk.hex(), want.lower())
