"""docs/security.md, "Signing in": what it says of sessions, API keys and passwords at rest.

"Session tokens and API keys are stored only as SHA-256 digests, passwords as scrypt hashes
with a per-user salt. A password change ends the user's other sessions and cached Basic
credentials; API keys survive a password change." Checked over real HTTP against the real web
app, and in the real SQLite file (database and WAL bytes, and every cell of every table).
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from tests.fixtures.web import LiveWeb

BOB_PASSWORD = "bob-Password-1"


def _db_bytes(db_path: Path) -> bytes:
    """The database file and its WAL, as they lie on disk."""
    return b"".join(p.read_bytes() for p in (db_path, Path(f"{db_path}-wal")) if p.exists())


def _all_cells(db_path: Path) -> list[str]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return [str(cell) for t in tables for row in conn.execute(f'SELECT * FROM "{t}"')
                for cell in row if cell is not None]
    finally:
        conn.close()


def test_tokens_keys_and_passwords_are_stored_only_as_digests(web: LiveWeb) -> None:
    bob = web.make_user("bob", role=1, password=BOB_PASSWORD)
    assert bob.cookie
    r = bob.post(f"/api/auth/users/{bob.user_id}/api-key")  # type: ignore[attr-defined]
    assert r.status == 200, r.text
    key = r.json["api_key"]
    assert web.client(api_key=key).get("/api/auth/verify").status == 200
    db_path = Path(web.ctx.db.path)

    on_disk = _db_bytes(db_path)
    cells = _all_cells(db_path)
    for secret in (bob.cookie, key, BOB_PASSWORD):
        found = secret.encode() in on_disk
        assert not found, f"{secret[:4]}... is on disk in clear"
        assert not any(secret in c for c in cells)
    # ... and what is there is the SHA-256 digest of each (so the claim is about these rows)
    assert hashlib.sha256(bob.cookie.encode()).hexdigest() in cells
    assert hashlib.sha256(key.encode()).hexdigest() in cells

    # scrypt, salted per user: the same password gives another hash for another user
    carol = web.make_user("carol", role=2, password=BOB_PASSWORD, login=False)
    assert carol.user_id  # type: ignore[attr-defined]
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = dict(conn.execute("SELECT username, password_hash FROM users").fetchall())
    finally:
        conn.close()
    assert rows["bob"].startswith("scrypt$") and rows["carol"].startswith("scrypt$")
    assert rows["bob"] != rows["carol"]


def test_password_change_ends_other_sessions_and_basic_but_keeps_api_keys(web: LiveWeb) -> None:
    here = web.make_user("dave", role=1, password=BOB_PASSWORD)  # the session that changes it
    elsewhere = web.client()
    assert elsewhere.login("dave", BOB_PASSWORD).status == 200
    basic = web.client(basic=("dave", BOB_PASSWORD))
    key = here.post(f"/api/auth/users/{here.user_id}/api-key").json["api_key"]  # type: ignore[attr-defined]
    script = web.client(api_key=key)
    for c in (here, elsewhere, basic, script):
        assert c.get("/api/auth/verify").status == 200  # all four work (and Basic is cached)

    r = here.put(f"/api/auth/users/{here.user_id}/password",  # type: ignore[attr-defined]
                 json={"old_password": BOB_PASSWORD, "new_password": "dave-Password-2"})
    assert r.status == 200, r.text

    assert elsewhere.get("/api/auth/verify").status == 401  # the other session is over
    assert basic.get("/api/auth/verify").status == 401      # the cached Basic login too
    assert here.get("/api/auth/verify").status == 200       # the changing session stays
    assert script.get("/api/auth/verify").status == 200     # API keys survive (for scripts)
