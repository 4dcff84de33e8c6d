"""Migrations: from empty, from every earlier version, newer DB refused, failed one rolls back."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from lightnvr.database.manager import (
    MIGRATIONS_DIR,
    Database,
    MigrationFailed,
    SchemaTooNew,
    available_migrations,
    split_statements,
)

TABLES = {"streams", "recordings", "detections", "detection_zones", "users", "sessions",
          "events", "recording_tags", "system_settings", "schema_migrations"}


def _schema(path: Path) -> set[tuple[str, str]]:
    conn = sqlite3.connect(path)
    try:
        return {(r[0], r[1]) for r in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL "
            "AND name NOT LIKE 'sqlite_%'")}
    finally:
        conn.close()


def _open(path: Path, migrations: Path = MIGRATIONS_DIR) -> Database:
    db = Database(str(path))
    db.migrations_dir = migrations
    db.open()
    return db


def test_from_empty_creates_lightnvr_schema_with_pragmas(tmp_path: Path) -> None:
    db = _open(tmp_path / "a.db")
    try:
        latest = available_migrations()[-1][0]
        assert db.schema_version == latest
        with db.reader() as c:
            tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master "
                                              "WHERE type='table'")}
            indexes = {r[0] for r in c.execute("SELECT name FROM sqlite_master "
                                               "WHERE type='index'")}
            applied = [r[0] for r in c.execute("SELECT version FROM schema_migrations "
                                               "ORDER BY version")]
        assert tables >= TABLES
        assert {"idx_recordings_stream_start", "idx_recordings_protected",
                "idx_recordings_trigger"} <= indexes
        assert applied == [v for v, _ in available_migrations()]
        with db.writer() as c:
            assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert c.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
            assert c.execute("PRAGMA foreign_keys").fetchone()[0] == 1
            assert c.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    finally:
        db.close()


@pytest.mark.parametrize("upto", [v for v, _ in available_migrations()][:-1] or [0])
def test_from_every_earlier_version(tmp_path: Path, upto: int) -> None:
    partial = tmp_path / "partial"
    partial.mkdir()
    for version, script in available_migrations():
        if version <= upto:
            shutil.copy(script, partial / script.name)
    old = tmp_path / "old.db"
    db = _open(old, partial)
    assert db.schema_version == upto
    with db.writer() as c:  # data written by the old version survives the upgrade
        c.execute("INSERT INTO streams(name, url) VALUES ('cam', 'rtsp://x')")
    db.close()

    db = _open(old)
    try:
        assert db.schema_version == available_migrations()[-1][0]
        with db.reader() as c:
            assert c.execute("SELECT url FROM streams WHERE name='cam'").fetchone()[0] \
                == "rtsp://x"
    finally:
        db.close()
    fresh = tmp_path / "fresh.db"
    _open(fresh).close()
    assert _schema(old) == _schema(fresh)


def test_newer_database_refuses_to_start(tmp_path: Path) -> None:
    path = tmp_path / "n.db"
    _open(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_migrations(version, applied_at) VALUES (9999, 0)")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaTooNew, match=r"9999.*newer lightnvr"):
        _open(path)


def test_failed_migration_leaves_database_unchanged(tmp_path: Path) -> None:
    migrations = tmp_path / "m"
    shutil.copytree(MIGRATIONS_DIR, migrations)
    path = tmp_path / "f.db"
    _open(path, migrations).close()
    before = _schema(path)
    version = available_migrations()[-1][0] + 1
    (migrations / f"{version:04d}_broken.sql").write_text(
        "CREATE TABLE half_done (x INTEGER);\n"
        "ALTER TABLE recordings ADD COLUMN extra INTEGER;\n"
        "INSERT INTO no_such_table VALUES (1);\n")
    with pytest.raises(MigrationFailed, match=r"broken.*unchanged"):
        _open(path, migrations)
    assert _schema(path) == before
    db = _open(path)  # the real code still opens it
    try:
        assert db.schema_version == version - 1
    finally:
        db.close()


def test_upgrade_is_all_or_nothing(tmp_path: Path) -> None:
    """Several pending migrations run in one transaction: a failing last one undoes all."""
    migrations = tmp_path / "m"
    shutil.copytree(MIGRATIONS_DIR, migrations)
    version = available_migrations()[-1][0] + 1
    (migrations / f"{version:04d}_broken.sql").write_text("SELECT no_such_function();\n")
    path = tmp_path / "empty.db"
    with pytest.raises(MigrationFailed):
        _open(path, migrations)
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name IN "
                            "('streams', 'recordings')").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] == 0
    finally:
        conn.close()


def test_split_statements_keeps_triggers_and_comments_whole() -> None:
    sql = ("-- a comment; with a semicolon\n"
           "CREATE TABLE t (x TEXT DEFAULT 'a;b');\n"
           "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n"
           "  UPDATE t SET x = 'c;d';\n"
           "END;\n"
           "-- trailing comment\n")
    parts = split_statements(sql)
    assert len(parts) == 2
    assert parts[0].strip().endswith("DEFAULT 'a;b');")
    assert "END;" in parts[1]
    conn = sqlite3.connect(":memory:")
    for p in parts:
        conn.execute(p)
    conn.execute("INSERT INTO t DEFAULT VALUES")
    assert conn.execute("SELECT x FROM t").fetchone()[0] == "c;d"
