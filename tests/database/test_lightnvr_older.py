"""`lightnvr import-lightnvr` on databases of older LightNVR versions (docs/migrate.md, "Older
LightNVR databases"): from migration 0022 on they import, the columns they lack taking
LightNVR's defaults and named in the report; older ones are refused with what to do.

The files are tests/fixtures/lightnvr_db.py's install rolled back to that migration.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from lightnvr.cli import main
from lightnvr.core.config import load_config
from lightnvr.database.lightnvr_import_formats import LightNVRDatabase
from lightnvr.database.manager import Database
from lightnvr.database.recordings import RecordingsRepo
from lightnvr.database.streams import StreamsRepo
from lightnvr.database.users import UsersRepo
from lightnvr.web.auth import verify_password
from tests.fixtures.daemon import free_port, write_config
from tests.fixtures.lightnvr_db import build_lightnvr_install


def _import(tmp_path: Path, migration: str) -> tuple[int, str, str, Any]:
    """(exit code, stdout, stderr, install) of importing an install at `migration`."""
    inst = build_lightnvr_install(tmp_path / "c" / "lightnvr.db", tmp_path / "rec",
                                  migration=migration)
    config = write_config(tmp_path, free_port())
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["import-lightnvr", str(inst.db_path), "-c", str(config), "--json"])
    return code, out.getvalue(), err.getvalue(), inst


def _open_target(tmp_path: Path) -> Database:
    db = Database(load_config(str(tmp_path / "lightnvr.conf")).database.path)
    db.open()
    return db


def test_a_database_ten_migrations_old_imports_with_lightnvr_defaults(tmp_path: Path) -> None:
    code, out, err, inst = _import(tmp_path, "0036")
    assert code == 0, err
    report = json.loads(out)
    assert report["source_schema_version"] == "0036"
    added = {t: r["defaults_applied"] for t, r in report["tables"].items()}
    # what 0037..0046 added and we keep: named with its migration and LightNVR's default
    assert set(added["streams"]) == {"sub_stream_url", "motion_trigger_source"}
    assert "0040" in added["streams"]["sub_stream_url"]
    assert set(added["users"]) == {"allowed_login_cidrs"}
    assert "0037" in added["users"]["allowed_login_cidrs"]
    db = _open_target(tmp_path)
    try:
        streams = {s.name: s for s in StreamsRepo(db).list()}
        assert set(streams) == {"front", "back-yard"}
        front = streams["front"]
        assert front.tags == "outdoor,gate" and front.sub_stream_url == ""
        assert front.recording_schedule == "0" * 24 + "1" * 24 * 5 + "0" * 24
        admin = UsersRepo(db).get_by_username("admin")
        assert admin is not None and admin.allowed_login_cidrs is None
        assert verify_password(inst.admin_password, admin.password_hash, admin.salt)
        recs = RecordingsRepo(db)
        assert sorted(recs.tags(inst.recordings["event"])) == ["delivery", "reviewed"]
        with db.reader() as c:  # 0046's detection columns absent: the detection still comes
            assert [r[0] for r in c.execute("SELECT label FROM detections")] == ["person"]
    finally:
        db.close()


def test_the_oldest_importable_migration_imports(tmp_path: Path) -> None:
    code, out, err, inst = _import(tmp_path, "0022")
    assert code == 0, err
    report = json.loads(out)
    assert {"tags", "record_on_schedule", "recording_schedule"} <= set(
        report["tables"]["streams"]["defaults_applied"])
    assert "recording_tags" not in report["tables"]  # before 0032: no such table, no tags
    db = _open_target(tmp_path)
    try:
        front = StreamsRepo(db).get("front")
        assert front is not None and front.tags == "" and not front.record_on_schedule
        assert front.recording_schedule == ""  # LightNVR's NULL: record around the clock
        viewer = UsersRepo(db).get_by_username("viewer")
        assert viewer is not None and viewer.totp_secret == inst.totp_secret
        assert viewer.allowed_tags is None
        assert len(RecordingsRepo(db).all()) == 5
    finally:
        db.close()


def test_an_older_database_is_refused_with_what_to_do(tmp_path: Path) -> None:
    code, out, err, inst = _import(tmp_path, "0021")
    sha = hashlib.sha256(inst.db_path.read_bytes()).hexdigest()
    assert code == 1 and out == ""
    assert "migrations up to 0021" in err and "0022" in err
    assert "Start a current LightNVR once" in err
    db = _open_target(tmp_path)
    try:
        assert StreamsRepo(db).list() == []  # nothing written
    finally:
        db.close()
    assert hashlib.sha256(inst.db_path.read_bytes()).hexdigest() == sha
    # Opened in place, the daemon's one line says the same first step.
    with pytest.raises(LightNVRDatabase, match="first start a current LightNVR once"):
        Database(str(inst.db_path)).open()
