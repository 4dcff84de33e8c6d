"""Retention over 40 days and several streams: days, overrides, quotas, protected rows."""

from __future__ import annotations

import os

from lightnvr.core.recordings_store import TriggerType
from lightnvr.database.recordings import Recording
from lightnvr.storage.manager import StorageManager
from lightnvr.storage.retention import effective_days
from tests.fixtures.db import TestDb

DAY = 86400.0
KB = 1024


def _fill(t: TestDb) -> dict[str, list[Recording]]:
    t.streams.update(t.stream.replace(detection_retention_days=10))       # days -1 -> 30
    t.add_stream("back", retention_days=7)                                # detection -1 -> 30
    t.add_stream("garage", retention_days=0, detection_retention_days=0,  # unlimited days,
                 max_storage_mb=1)                                        # but 1 MiB quota
    out: dict[str, list[Recording]] = {}
    for stream in ("front", "back", "garage", "gone"):  # "gone": rows but no stream row
        recs = []
        for day in range(40):
            trig: TriggerType = ("detection" if day % 3 == 0 else
                                 "manual" if day % 7 == 0 else "scheduled")
            recs.append(t.add_recording(stream=stream, start=t.now - (day + 0.5) * DAY,
                                        duration=600, size=100 * KB, trigger=trig))
        out[stream] = recs
    return out


def test_day_rules_overrides_quota_and_protection(testdb: TestDb) -> None:
    recs = _fill(testdb)
    front, back, garage, gone = recs["front"], recs["back"], recs["garage"], recs["gone"]
    # protected: kept whatever their age or quota
    testdb.recordings.set_protected([front[35].id, back[20].id, garage[39].id], True)
    # overrides: 60 days keeps a 36.5-day-old one; 2 days drops a 5.5-day-old one that its
    # stream would keep; 0 keeps a 39.5-day-old one forever
    testdb.recordings.set_retention_override(front[36].id, 60)
    testdb.recordings.set_retention_override(front[5].id, 2)
    testdb.recordings.set_retention_override(gone[39].id, 0)
    before = {r.id: r for r in testdb.recordings.all()}

    result = StorageManager(testdb.storage_config(retention_days=30), testdb.db).run_retention()

    after = {r.id: r for r in testdb.recordings.all()}
    removed = set(before) - set(after)
    assert result.deleted == len(removed) and result.errors == 0
    assert result.freed_bytes == 100 * KB * len(removed)
    for rid, rec in before.items():  # every removed row's file is gone, every kept one stays
        assert os.path.exists(rec.file_path) == (rid in after), rec

    def kept(rec: Recording) -> bool:
        return rec.id in after

    def age(rec: Recording) -> float:
        return (testdb.now - rec.start_time) / DAY

    # front: continuous 30 days (inherited), detection 10 days
    for r in front:
        if r.id in (front[35].id, front[36].id):
            assert kept(r)
        elif r.id == front[5].id:
            assert not kept(r)
        else:
            limit = 10 if r.trigger_type == "detection" else 30
            assert kept(r) == (age(r) < limit), (r, age(r))
    # back: continuous 7 days, detection inherits 30
    for r in back:
        limit = 30 if r.trigger_type == "detection" else 7
        assert kept(r) == (age(r) < limit or r.id == back[20].id), (r, age(r))
    # gone (no stream row): global 30 days for both kinds; override 0 keeps forever
    for r in gone:
        assert kept(r) == (age(r) < 30 or r.id == gone[39].id), (r, age(r))
    # garage: no day limit, 1 MiB quota -> the newest unprotected that fit, oldest went first
    kept_garage = [r for r in garage if kept(r)]
    assert testdb.recordings.total_size("garage") <= 1024 * KB
    unprotected = [r for r in kept_garage if not after[r.id].protected]
    assert len(unprotected) == 1024 // 100 - 1  # the protected one uses quota too
    assert [r.id for r in unprotected] == [r.id for r in garage[:len(unprotected)]]
    assert garage[39].id in after

    # a second pass has nothing left to do
    again = StorageManager(testdb.storage_config(retention_days=30), testdb.db).run_retention()
    assert again.deleted == 0


def test_global_max_size_keeps_protected_and_goes_oldest_first(testdb: TestDb) -> None:
    testdb.add_stream("back")
    recs = [testdb.add_recording(stream=("front", "back")[i % 2],
                                 start=testdb.now - (20 - i) * 3600, size=50 * KB,
                                 protected=(i == 0)) for i in range(20)]
    cfg = testdb.storage_config(retention_days=0, max_size=500 * KB)
    StorageManager(cfg, testdb.db).run_retention()
    left = {r.id for r in testdb.recordings.all()}
    assert testdb.recordings.total_size() <= 500 * KB
    assert recs[0].id in left  # the oldest, but protected
    # exactly the newest 9 unprotected + the protected one remain (10 x 50 KB = 500 KB)
    assert left == {recs[0].id} | {r.id for r in recs[-9:]}


def test_effective_days_tristate() -> None:
    assert effective_days(-1, 30) == 30
    assert effective_days(0, 30) == 0
    assert effective_days(5, 30) == 5


def test_incomplete_recordings_are_never_removed_by_retention(testdb: TestDb) -> None:
    rec = testdb.add_recording(start=testdb.now - 90 * DAY, complete=False)
    StorageManager(testdb.storage_config(retention_days=1), testdb.db).run_retention()
    assert testdb.recordings.get(rec.id) is not None  # a recorder is still writing it


def test_detections_past_retention_go_unless_their_recording_stays(testdb: TestDb) -> None:
    """Retention step 7 (docs/storage.md): old detections whose recording is gone are pruned."""
    from lightnvr.database.detections import DetectionsRepo, NewDetection

    now = testdb.now
    testdb.add_stream("short", retention_days=3, detection_retention_days=2)
    testdb.add_stream("forever", retention_days=0)
    kept = testdb.add_recording("short", start=now - 10 * DAY, protected=True)
    repo = DetectionsRepo(testdb.db)
    repo.add_many([
        NewDetection("short", now - 10 * DAY, "person"),                      # old, no recording
        NewDetection("short", now - 10 * DAY, "car", recording_id=kept.id),   # old, protected rec
        NewDetection("short", now - 1 * DAY, "dog"),                          # recent
        NewDetection("forever", now - 400 * DAY, "cat"),                      # unlimited stream
    ])
    StorageManager(testdb.storage_config(retention_days=30), testdb.db).run_retention()
    left = {d.label for name in ("short", "forever")
            for d in repo.in_range(name, 0, now + DAY)}
    assert left == {"car", "dog", "cat"}
