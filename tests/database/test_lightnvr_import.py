"""`lightnvr import-lightnvr`: a LightNVR database at migration 0046 (built by
tests/fixtures/lightnvr_db.py from its schema's facts) is copied into ours, read-only.

One import per module (the CLI, in-process, with a real config file and real SQLite files);
each test reads what a user would find in the imported database.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lightnvr.cli import main
from lightnvr.core.config import load_config
from lightnvr.database.lightnvr_import_formats import LightNVRDatabase
from lightnvr.database.manager import Database
from lightnvr.database.recordings import RecordingsRepo
from lightnvr.database.settings import SettingsRepo
from lightnvr.database.streams import StreamsRepo
from lightnvr.database.users import UsersRepo
from lightnvr.database.zones import ZonesRepo
from lightnvr.storage.check import run_check
from lightnvr.web.auth import api_key_digest, verify_password
from tests.fixtures.daemon import free_port, write_config
from tests.fixtures.lightnvr_db import LightNVRInstall, build_lightnvr_install


@dataclass
class Imported:
    install: LightNVRInstall
    config: Path
    target: Database
    report: dict[str, Any]
    source_sha: str
    source_mtime: float


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Imported]:
    base = tmp_path_factory.mktemp("import")
    install = build_lightnvr_install(base / "lightnvr-c" / "lightnvr.db", base / "rec")
    os.unlink(install.files["override"])  # a row whose file is gone: reported, not imported
    sha, mtime = _sha(install.db_path), install.db_path.stat().st_mtime
    config = write_config(base, free_port())
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["import-lightnvr", str(install.db_path), "-c", str(config), "--json"])
    assert code == 0, buf.getvalue()
    target = Database(load_config(str(config)).database.path)
    target.open()
    try:
        yield Imported(install, config, target, json.loads(buf.getvalue()), sha, mtime)
    finally:
        target.close()


def test_source_file_is_never_written(imported: Imported) -> None:
    db_path = imported.install.db_path
    assert _sha(db_path) == imported.source_sha
    assert db_path.stat().st_mtime == imported.source_mtime
    assert sorted(os.listdir(db_path.parent)) == ["lightnvr.db"]  # no -wal/-shm left behind


def test_streams_keep_their_settings(imported: Imported) -> None:
    streams = {s.name: s for s in StreamsRepo(imported.target).list()}
    assert set(streams) == {"front", "back-yard"}
    front, back = streams["front"], streams["back-yard"]
    assert front.tags == "outdoor,gate" and front.retention_days == 30
    assert front.detection_retention_days == 60 and front.record_on_schedule
    # LightNVR's "0,0,...,1,..." (Sunday first) is our 168 characters: weekdays only
    assert front.recording_schedule == "0" * 24 + "1" * 24 * 5 + "0" * 24
    assert not back.enabled and back.detection_based_recording
    assert back.detection_model == "motion" and back.detection_threshold == pytest.approx(0.6)


def test_old_passwords_api_key_and_totp_carry_over(imported: Imported) -> None:
    users = UsersRepo(imported.target)
    admin, viewer = users.get_by_username("admin"), users.get_by_username("viewer")
    assert admin is not None and viewer is not None
    assert (admin.role, viewer.role) == (0, 2)
    inst = imported.install
    assert verify_password(inst.admin_password, admin.password_hash, admin.salt)
    assert not verify_password(inst.viewer_password, admin.password_hash, admin.salt)
    assert verify_password(inst.viewer_password, viewer.password_hash, viewer.salt)
    found = users.get_by_api_key_hash(api_key_digest(inst.api_key))
    assert found is not None and found.username == "admin"
    assert viewer.totp_enabled and viewer.totp_secret == inst.totp_secret


def test_recordings_with_protection_overrides_tags_and_detections(imported: Imported) -> None:
    repo = RecordingsRepo(imported.target)
    ids = imported.install.recordings
    rows = {r.id: r for r in repo.all()}
    assert set(rows) == {ids["recent"], ids["old"], ids["kept"], ids["event"]}
    for label in ("recent", "old", "kept", "event"):
        rec = rows[ids[label]]
        # stored relative to [storage] path, naming the very file LightNVR wrote
        expected = imported.install.files[label]
        assert Path(imported.install.storage_path, rec.file_path) == expected
        assert rec.size_bytes == expected.stat().st_size and rec.is_complete
    assert rows[ids["kept"]].protected and not rows[ids["old"]].protected
    assert rows[ids["event"]].trigger_type == "detection"
    assert rows[ids["recent"]].trigger_type == "scheduled"
    assert sorted(repo.tags(ids["event"])) == ["delivery", "reviewed"]
    with imported.target.reader() as c:
        det = c.execute("SELECT label, confidence, recording_id, zone_id FROM detections"
                        ).fetchall()
    assert [tuple(d) for d in det] == [("person", pytest.approx(0.87), ids["event"], "zone_1")]


def test_retention_override_kept(tmp_path: Path) -> None:
    inst = build_lightnvr_install(tmp_path / "c" / "lightnvr.db", tmp_path / "rec")
    config = write_config(tmp_path, free_port())
    assert main(["import-lightnvr", str(inst.db_path), "-c", str(config)]) == 0
    db = Database(load_config(str(config)).database.path)
    db.open()
    try:
        rec = RecordingsRepo(db).get(inst.recordings["override"])
        assert rec is not None and rec.retention_override_days == 365
    finally:
        db.close()


def test_zones_and_settings(imported: Imported) -> None:
    zones = ZonesRepo(imported.target).list("front")
    assert [(z.id, z.name, z.filter_classes) for z in zones] == [
        ("zone_1", "Driveway", "person,car")]
    assert zones[0].polygon == ((0.1, 0.1), (0.9, 0.1), (0.5, 0.9))
    assert SettingsRepo(imported.target).get("setup_complete") == "1"


def test_report_says_what_was_not_imported_and_why(imported: Imported) -> None:
    report = imported.report
    assert report["source_schema_version"] == "0046"
    tables = report["tables"]
    assert tables["streams"]["imported"] == 2 and tables["users"]["imported"] == 2
    assert "PTZ" in tables["streams"]["fields_not_imported"]["ptz_enabled"]
    assert "privacy_mode" in tables["streams"]["fields_not_imported"]
    skipped = tables["recordings"]["skipped"]
    assert len(skipped) == 1 and str(imported.install.files["override"]) in skipped[0]["row"]
    assert "not under the storage path" in skipped[0]["why"]
    assert "signs in again" in report["tables_not_imported"]["sessions"]


def test_second_import_is_refused(imported: Imported,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    before = len(RecordingsRepo(imported.target).all())
    code = main(["import-lightnvr", str(imported.install.db_path), "-c", str(imported.config)])
    assert code == 1
    assert "already holds an import" in capsys.readouterr().err
    assert len(RecordingsRepo(imported.target).all()) == before


def test_not_a_lightnvr_database_is_refused(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    ours = Database(str(tmp_path / "ours.db"))
    ours.open()
    ours.close()
    config = write_config(tmp_path, free_port())
    assert main(["import-lightnvr", str(tmp_path / "ours.db"), "-c", str(config)]) == 1
    assert "is not a LightNVR database" in capsys.readouterr().err


def test_opening_a_lightnvr_file_names_the_import_command(tmp_path: Path,
                                                          caplog: pytest.LogCaptureFixture
                                                          ) -> None:
    inst = build_lightnvr_install(tmp_path / "c" / "lightnvr.db", tmp_path / "rec")
    sha = _sha(inst.db_path)
    with pytest.raises(LightNVRDatabase) as err:
        Database(str(inst.db_path)).open()
    message = str(err.value)
    assert "LightNVR" in message and "lightnvr import-lightnvr" in message
    assert "newer" not in message
    assert any("import-lightnvr" in r.getMessage() for r in caplog.records)
    assert _sha(inst.db_path) == sha  # not even switched to our journal mode
    # `lightnvr check` says the same instead of "schema version 46"
    storage = load_config(str(write_config(tmp_path, free_port()))).storage
    report = run_check(storage, str(inst.db_path))
    assert any("import-lightnvr" in m for _, m in report.violations), report.violations


def test_target_may_not_be_the_source(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    inst = build_lightnvr_install(tmp_path / "db" / "lightnvr.db", tmp_path / "rec")
    sha = _sha(inst.db_path)
    config = write_config(tmp_path, free_port())  # [database] path is <tmp>/db/lightnvr.db
    assert main(["import-lightnvr", str(inst.db_path), "-c", str(config)]) == 2
    assert "point it at a new file" in capsys.readouterr().err
    assert _sha(inst.db_path) == sha
    shutil.rmtree(tmp_path / "rec")
    with sqlite3.connect(inst.db_path) as c:  # still LightNVR's, untouched
        assert c.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] == "0046"
