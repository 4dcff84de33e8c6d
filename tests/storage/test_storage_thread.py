"""The "storage" thread: named, heartbeats, retention on request, stops within its deadline."""

from __future__ import annotations

import os
import threading
import time

from lightnvr.core.heartbeat import HeartbeatRegistry
from lightnvr.storage.manager import StorageLevel, StorageManager, level_for
from tests.fixtures.db import TestDb
from tests.fixtures.wait import wait_until


def test_thread_lifecycle_heartbeat_and_requested_retention(testdb: TestDb) -> None:
    before = threading.active_count()
    registry = HeartbeatRegistry()
    cfg = testdb.storage_config(retention_days=1, heartbeat_interval_seconds=0.05,
                                retention_interval_minutes=60)
    manager = StorageManager(cfg, testdb.db, heartbeats=registry)
    for cycle in range(3):  # start/stop repeatedly: no leaked thread
        manager.start()
        assert [t.name for t in threading.enumerate()].count("storage") == 1
        # the first pass
        assert wait_until(lambda: manager.health().last_retention_at is not None, 10, step=0.01)
        assert "storage" in registry.ages() and registry.stale() == []
        old = testdb.add_recording(start=testdb.now - 3 * 86400)
        manager.request_retention()
        assert wait_until(lambda o=old: testdb.recordings.get(o.id) is None,  # type: ignore[misc]
                          10, step=0.01), cycle
        t0 = time.monotonic()
        manager.stop(5)
        assert time.monotonic() - t0 < 1.0
        assert "storage" not in registry.ages()
        assert threading.active_count() == before
    h = manager.health()
    assert h.level == level_for(h.free_pct, cfg) and h.to_dict()["level"] == h.level.name.lower()
    # a pass asked for after stop() (an API call during shutdown) still does its work
    old = testdb.add_recording(start=testdb.now - 3 * 86400)
    assert manager.run_retention().deleted == 1


def test_levels_from_pressure_lines(testdb: TestDb) -> None:
    cfg = testdb.storage_config(pressure_warning_pct=20, pressure_critical_pct=10,
                                pressure_emergency_pct=5)
    assert level_for(50, cfg) is StorageLevel.NORMAL
    assert level_for(19.9, cfg) is StorageLevel.WARNING
    assert level_for(10, cfg) is StorageLevel.WARNING
    assert level_for(9.99, cfg) is StorageLevel.CRITICAL
    assert level_for(4.9, cfg) is StorageLevel.EMERGENCY


def test_user_delete_ignores_protection_and_unknown_id(testdb: TestDb) -> None:
    rec = testdb.add_recording(protected=True)
    manager = StorageManager(testdb.storage_config(), testdb.db)
    assert manager.delete_recording(rec.id)
    assert testdb.recordings.get(rec.id) is None
    assert not os.path.exists(rec.file_path)
    # the now-empty date directories went too (Deletion step 5); the stream directory stays
    assert os.listdir(os.path.join(testdb.storage_path, "front")) == []
    assert not manager.delete_recording(rec.id)
