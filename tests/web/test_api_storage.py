"""Storage API: health in the C project's keys plus ours, and an on-demand retention pass."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lightnvr.web.http import Role
from tests.web.api_support import ApiEnv


@pytest.fixture
def env(tmp_path: Path) -> Iterator[ApiEnv]:
    e = ApiEnv(tmp_path, "[storage]\nretention_days = 1\n")
    yield e
    e.close()


def test_health_reports_disk_and_recordings(env: ApiEnv) -> None:
    env.add_recording("cam", time.time() - 60)
    status, body = env.admin.json("GET", "/api/storage/health")
    assert status == 200
    assert body["pressure_level"] in ("normal", "warning", "critical", "emergency")
    assert body["total_space_bytes"] > 0 and 0 <= body["free_space_pct"] <= 100
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
