"""A retention pass held inside (its pass lock taken) does not hold up POST /api/settings
(reconfigure), the status endpoints (health) or the API's cleanup and sync: those answer while
it runs, the queued work runs after it, and the running pass keeps the rules it started with."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, TypeVar

import pytest

from lightnvr.storage.manager import RetentionResult, StorageManager
from lightnvr.storage.sync import SyncResult
from tests.fixtures.db import TestDb
from tests.fixtures.wait import wait_until
from tests.fixtures.web import LiveWeb

FREE_PCT = 50.0  # what the injected statvfs reports: no pressure under the default lines
T = TypeVar("T")


@dataclass
class Gate:
    """An injected statvfs. Once armed, the storage thread's next call stops here until
    `release` is set: statvfs runs inside a retention pass (free space after the age and quota
    steps), so the pass is held inside, its pass lock taken."""

    armed: threading.Event = field(default_factory=threading.Event)
    inside: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def __call__(self, path: str) -> Any:
        if self.armed.is_set() and threading.current_thread().name == "storage":
            self.armed.clear()
            self.inside.set()
            self.release.wait(120)  # long: a request that waits for the pass fails its join
        return SimpleNamespace(f_blocks=100_000, f_bavail=int(1000 * FREE_PCT), f_frsize=4096)


def answered_while_held(gate: Gate, call: Callable[[], T]) -> T:
    """`call()` from another thread (a web worker): it must return while the pass is held."""
    box: list[T] = []
    worker = threading.Thread(target=lambda: box.append(call()), name="test-worker")
    worker.start()
    worker.join(20)  # generous on a busy machine; a call waiting for the pass never returns
    assert not worker.is_alive(), "the call waited for the running retention pass"
    assert not gate.release.is_set() and gate.inside.is_set()
    return box[0]


def _hold(manager: StorageManager, gate: Gate) -> None:
    assert wait_until(lambda: manager.health().last_retention_at is not None, 10)
    gate.armed.set()
    manager.request_retention()
    assert gate.inside.wait(20), "the storage thread never reached the held pass"


@pytest.fixture
def held(testdb: TestDb) -> Iterator[tuple[StorageManager, Gate, list[str | None]]]:
    """A started manager whose requested retention pass is held inside."""
    gate = Gate()
    paused: list[str | None] = []
    manager = StorageManager(testdb.storage_config(retention_days=1), testdb.db,
                             pause_recording=paused.append, statvfs=gate)
    manager.start()
    try:
        _hold(manager, gate)
        yield manager, gate, paused
    finally:
        gate.release.set()
        assert manager.stop(10)


def test_reconfigure_and_status_answer_during_a_pass_which_keeps_its_rules(
        testdb: TestDb, held: tuple[StorageManager, Gate, list[str | None]]) -> None:
    manager, gate, paused = held
    before = manager.health()
    # The new rules put 50 % free below every pressure line: a pass run with them pauses
    # recording (disk full), one with the old rules (5 % emergency line) does not.
    full = testdb.storage_config(retention_days=1, pressure_warning_pct=99.0,
                                 pressure_critical_pct=99.0, pressure_emergency_pct=99.0)
    answered_while_held(gate, lambda: manager.reconfigure(full))
    assert manager.config is full
    assert answered_while_held(gate, manager.health) == before
    gate.release.set()
    assert wait_until(lambda: manager.health().last_retention_at != before.last_retention_at,
                      20)
    assert paused == [], "the held pass switched to rules it did not start with"
    manager.run_retention()  # the next pass has the new rules
    assert len(paused) == 1 and paused[0] is not None and "disk full" in paused[0]


def test_api_cleanup_and_sync_are_queued_behind_a_running_pass(
        testdb: TestDb, held: tuple[StorageManager, Gate, list[str | None]]) -> None:
    manager, gate, _ = held
    old = [testdb.add_recording(start=testdb.now - 3 * 86400 - 60 * i) for i in range(50)]
    orphan = testdb.add_recording(start=testdb.now - 7200, write_file=False)  # file gone
    assert answered_while_held(gate, lambda: manager.cleanup_now(0.2)) is None
    assert answered_while_held(gate, lambda: manager.sync_now(0.2)) is None
    assert testdb.recordings.get(orphan.id) is not None  # nothing ran yet
    gate.release.set()
    # the queued jobs run after the held pass; asking again joins or follows them
    cleaned = manager.cleanup_now(20)
    synced = manager.sync_now(20)
    assert isinstance(cleaned, RetentionResult) and isinstance(synced, SyncResult)
    assert all(testdb.recordings.get(r.id) is None for r in old)
    assert testdb.recordings.get(orphan.id) is None  # the sync removed the row of no file


def test_without_a_running_thread_the_caller_runs_the_pass(testdb: TestDb) -> None:
    """Before start() and after stop() nothing would run a queued job: the caller does."""
    manager = StorageManager(testdb.storage_config(retention_days=1), testdb.db)
    old = testdb.add_recording(start=testdb.now - 3 * 86400)
    result = manager.cleanup_now(0.0)
    assert result is not None and result.deleted == 1
    assert testdb.recordings.get(old.id) is None
    manager.start()
    assert manager.stop(10)
    orphan = testdb.add_recording(start=testdb.now - 7200, write_file=False)
    synced = manager.sync_now(0.0)
    assert synced is not None and synced.rows_removed == 1
    assert testdb.recordings.get(orphan.id) is None


def test_over_http_settings_cleanup_and_sync_answer_during_a_pass(
        web_factory: Callable[..., LiveWeb]) -> None:
    """The real web server: POST /api/settings, /api/storage/health, /api/storage/cleanup and
    /api/recordings/sync answer while the daemon's storage thread is inside a pass; cleanup
    and sync say 202 queued, then run after it."""
    web = web_factory()
    gate = Gate()
    manager = StorageManager(web.testdb.storage_config(retention_days=1), web.testdb.db,
                             statvfs=gate)
    web.ctx.storage = manager  # the daemon's manager runs its thread; the harness's does not
    manager.start()
    try:
        _hold(manager, gate)
        old = web.testdb.add_recording(start=web.testdb.now - 3 * 86400)
        r = answered_while_held(gate, lambda: web.api.post("/api/settings",
                                                           json={"retention_days": 2}))
        assert r.status == 200 and "retention_days" in r.json["applied_live"], r.json
        assert manager.config.retention_days == 2
        r = answered_while_held(gate, lambda: web.api.get("/api/storage/health"))
        assert r.status == 200
        for path in ("/api/storage/cleanup", "/api/recordings/sync"):
            r = answered_while_held(gate, lambda p=path: web.api.post(p))  # type: ignore[misc]
            assert r.status == 202 and r.json["queued"] is True and r.json["success"], r.json
        assert web.testdb.recordings.get(old.id) is not None
        gate.release.set()
        assert wait_until(lambda: web.testdb.recordings.get(old.id) is None, 20)  # it ran
        r = web.api.post("/api/storage/cleanup")  # an idle thread: the figures at once
        assert r.status == 200 and r.json["success"] and r.json["deleted"] == 0, r.json
    finally:
        gate.release.set()
        assert manager.stop(10)
