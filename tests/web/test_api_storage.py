"""Storage API: health in the C project's keys plus ours, and an on-demand retention pass."""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Any

import pytest

from lightnvr.storage.manager import StorageManager
from lightnvr.web.http import Role
from tests.fixtures.web import LiveWeb

pytestmark = pytest.mark.api_env(config={"storage": {"retention_days": 1}})


def test_health_reports_disk_and_recordings(env: LiveWeb) -> None:
    env.add_recording("cam", time.time() - 60)
    status, body = env.api.call("GET", "/api/storage/health")
    assert status == 200
    st = os.statvfs(env.storage_path)
    assert body["total_space_bytes"] == st.f_blocks * st.f_frsize
    assert abs(body["free_space_pct"] - 100.0 * st.f_bavail / st.f_blocks) < 1.0
    assert body["used_space_bytes"] == body["total_space_bytes"] - body["free_space_bytes"]
    assert body["recordings_count"] == 1 and body["recordings_bytes"] > 0
    assert body["path"] == str(env.storage_path)


def test_cleanup_runs_retention_now(env: LiveWeb) -> None:
    old = env.add_recording("cam", time.time() - 3 * 86400)
    kept = env.add_recording("cam", time.time() - 60)
    protected = env.add_recording("cam", time.time() - 4 * 86400)
    env.testdb.recordings.set_protected([protected], True)
    viewer = env.make_user("vic", Role.VIEWER)
    assert viewer.call("POST", "/api/storage/cleanup")[0] == 403
    status, body = env.api.call("POST", "/api/storage/cleanup")
    assert status == 200 and body["success"] and body["deleted"] == 1
    assert env.testdb.recordings.get(old) is None
    assert env.testdb.recordings.get(kept) is not None
    assert env.testdb.recordings.get(protected) is not None


@pytest.mark.parametrize("band", ["normal", "warning"])
def test_health_level_follows_the_real_disk(env: LiveWeb, band: str) -> None:
    """The level is what the configured lines make of the real disk's free space."""
    st = os.statvfs(env.storage_path)
    free_pct = 100.0 * st.f_bavail / st.f_blocks
    lines: dict[str, Any]
    if band == "normal":
        lines = {"min_free_pct": 0, "pressure_warning_pct": 0, "pressure_critical_pct": 0,
                 "pressure_emergency_pct": 0}
    else:  # warning: free space 3+ points under the warning line, 3+ over the critical one
        if not 4 <= free_pct <= 96:
            pytest.skip(f"the test disk is {free_pct:.0f} % free: no room for a warning band")
        lines = {"min_free_pct": 0, "pressure_warning_pct": min(100, int(free_pct) + 4),
                 "pressure_critical_pct": int(free_pct) - 3, "pressure_emergency_pct": 0}
    cfg = dataclasses.replace(env.ctx.config.storage, **lines)
    env.ctx.storage = StorageManager(cfg, env.testdb.db)
    status, body = env.api.call("GET", "/api/storage/health")
    assert status == 200
    assert (body["pressure_level"], body["pressure_level_num"]) == (
        band, {"normal": 0, "warning": 1}[band])
