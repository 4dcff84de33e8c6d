"""Storage API: health in the C project's keys plus ours, and an on-demand retention pass."""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Any

import pytest

from lightnvr.storage.manager import StorageManager
from lightnvr.web.http import Role
from tests.web.api_support import ApiEnv

pytestmark = pytest.mark.api_env(ini="[storage]\nretention_days = 1\n")


def test_health_reports_disk_and_recordings(env: ApiEnv) -> None:
    env.add_recording("cam", time.time() - 60)
    status, body = env.admin.json("GET", "/api/storage/health")
    assert status == 200
    st = os.statvfs(env.storage_path)
    assert body["total_space_bytes"] == st.f_blocks * st.f_frsize
    assert abs(body["free_space_pct"] - 100.0 * st.f_bavail / st.f_blocks) < 1.0
    assert body["used_space_bytes"] == body["total_space_bytes"] - body["free_space_bytes"]
    assert body["recordings_count"] == 1 and body["recordings_bytes"] > 0
    assert body["path"] == str(env.storage_path)


def test_cleanup_runs_retention_now(env: ApiEnv) -> None:
    old = env.add_recording("cam", time.time() - 3 * 86400)
    kept = env.add_recording("cam", time.time() - 60)
    protected = env.add_recording("cam", time.time() - 4 * 86400)
    env.recordings.set_protected([protected], True)
    viewer = env.user("v", Role.VIEWER)
    assert viewer.json("POST", "/api/storage/cleanup")[0] == 403
    status, body = env.admin.json("POST", "/api/storage/cleanup")
    assert status == 200 and body["success"] and body["deleted"] == 1
    assert env.recordings.get(old) is None
    assert env.recordings.get(kept) is not None and env.recordings.get(protected) is not None


@pytest.mark.parametrize("band", ["normal", "warning"])
def test_health_level_follows_the_real_disk(env: ApiEnv, band: str) -> None:
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
    cfg = dataclasses.replace(env.config.storage, **lines)
    env.ctx.storage = StorageManager(cfg, env.db)
    status, body = env.admin.json("GET", "/api/storage/health")
    assert status == 200
    assert (body["pressure_level"], body["pressure_level_num"]) == (
        band, {"normal": 0, "warning": 1}[band])
