"""The System page's Recordings card and its Storage per stream table count the same rows:
the segment being written is in both (the card read 1 while the table read 2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.fixtures.camera import TestCamera
from tests.fixtures.daemon import DaemonProcess
from tests.fixtures.wait import wait_until


def test_recordings_card_counts_the_open_segment_like_the_per_stream_table(
        daemon_factory: Callable[..., DaemonProcess], rtsp_camera: TestCamera) -> None:
    d = daemon_factory()
    status, body = d.call("POST", "/api/streams", {"name": "cam", "segment_duration": 600,
                                                   "url": rtsp_camera.url("live264")})
    assert status == 201, body

    def per_stream() -> int:
        rows: Any = d.json("/api/storage/streams")
        rows = rows.get("streams", rows) if isinstance(rows, dict) else rows
        return sum(int(r["count"]) for r in rows)

    # only the open segment exists (600 s segments): nothing complete yet
    assert wait_until(lambda: per_stream() >= 1, 60), d.json("/api/storage/streams")
    assert d.json("/api/system/info")["recordings"]["count"] == per_stream()
    assert d.stop() == 0
