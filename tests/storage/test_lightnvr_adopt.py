"""LightNVR's recordings are adopted where they lie (docs/migrate.md): files in its layout
(``mp4/<sanitized stream>/YYYY/MM/DD/recording_*.mp4``) are recognised by reconciliation and
the rebuild tool, and imported rows find their files even when the storage path moved."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from lightnvr.cli import main
from lightnvr.core.config import load_config
from lightnvr.database.manager import Database
from lightnvr.database.recordings import RecordingsRepo
from lightnvr.storage.probe import probe_segment
from lightnvr.storage.rebuild import rebuild
from lightnvr.storage.sync import Reconciler
from tests.fixtures.daemon import free_port, write_config
from tests.fixtures.db import TestDb, make_clip
from tests.fixtures.lightnvr_db import build_lightnvr_install, lightnvr_path


def _lightnvr_file(root: str, stream_dir: str, start: int, kind: str) -> Path:
    path = lightnvr_path(Path(root), stream_dir, start, kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    make_clip(path, frames=10)
    return path


def test_files_without_rows_are_registered_under_their_stream(testdb: TestDb,
                                                             real_clip: bytes) -> None:
    # a LightNVR stream named "Front Door" keeps its files in mp4/Front_Door/
    testdb.add_recording(stream="Front Door", content=real_clip)
    start = int(testdb.now) - 7200
    plain = _lightnvr_file(testdb.storage_path, "Front_Door", start, "recording")
    event = _lightnvr_file(testdb.storage_path, "Front_Door", start + 600, "detection")
    orphan = _lightnvr_file(testdb.storage_path, "garage", start, "recording")

    result = Reconciler(testdb.recordings, testdb.storage_path, probe_segment, time.time(),
                        startup=True).run()

    assert result.files_registered == 3 and result.errors == 0
    rows = {r.file_path: r for r in testdb.recordings.all()}
    rel = {p: str(p.relative_to(testdb.storage_path)) for p in (plain, event, orphan)}
    assert rows[rel[plain]].stream_name == "Front Door"
    assert rows[rel[plain]].trigger_type == "scheduled"
    assert rows[rel[event]].stream_name == "Front Door"
    assert rows[rel[event]].trigger_type == "detection"
    assert rows[rel[orphan]].stream_name == "garage"  # no such stream here: the directory
    assert abs(rows[rel[plain]].start_time - start) < 1  # the time in LightNVR's file name
    assert rows[rel[event]].start_time - rows[rel[plain]].start_time == 600


def test_rebuild_tool_recognises_the_layout(testdb: TestDb) -> None:
    start = int(testdb.now) - 3600
    _lightnvr_file(testdb.storage_path, "front", start, "detection")
    result, _ = rebuild(testdb.db, testdb.storage_path, wipe=True)
    assert result.files_registered == 1
    (row,) = testdb.recordings.all()
    assert (row.stream_name, row.trigger_type) == ("front", "detection")


def test_imported_rows_follow_a_moved_storage_path_and_survive_reconciliation(
        tmp_path: Path) -> None:
    # LightNVR recorded under <old>/mp4/...; the disk is now mounted at our [storage] path
    inst = build_lightnvr_install(tmp_path / "c" / "lightnvr.db", tmp_path / "old-mount")
    config = write_config(tmp_path, free_port())
    cfg = load_config(str(config))
    shutil.move(str(tmp_path / "old-mount"), cfg.storage.path)
    assert main(["import-lightnvr", str(inst.db_path), "-c", str(config)]) == 0

    db = Database(cfg.database.path)
    db.open()
    try:
        repo = RecordingsRepo(db)
        before = {r.id: (r.file_path, r.protected, r.trigger_type) for r in repo.all()}
        assert len(before) == 5
        assert all(p.startswith("mp4/front/") for p, _, _ in before.values())
        result = Reconciler(repo, cfg.storage.path, probe_segment, time.time(),
                            startup=True).run()
        assert (result.rows_removed, result.files_registered, result.errors) == (0, 0, 0)
        assert {r.id: (r.file_path, r.protected, r.trigger_type) for r in repo.all()} == before
    finally:
        db.close()
