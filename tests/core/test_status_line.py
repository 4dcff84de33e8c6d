"""systemd's STATUS= line of the whole daemon follows its streams (taken from the event hub's
once-a-second snapshot, not from a second pass over every stream)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.core.notify_socket import NotifySocket
from tests.fixtures.daemon import start_daemon

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def notify(tmp_path: Path) -> Iterator[NotifySocket]:
    sock = NotifySocket(tmp_path)
    yield sock
    sock.close()


def test_status_line_counts_a_stream_that_comes_up(tmp_path: Path, notify: NotifySocket,
                                                   rtsp_camera: Any) -> None:
    d = start_daemon(tmp_path / "daemon", {"general": {"demo_mode": False}},
                     env={"NOTIFY_SOCKET": notify.path})
    try:
        assert notify.wait_for("STATUS=0/0 streams up, 0 recording", 30), notify.messages
        status, body = d.call("POST", "/api/streams", {
            "name": "porch", "url": rtsp_camera.url("file264"), "record": True,
            "streaming_enabled": False})
        assert status in (200, 201), body[:300]
        assert notify.wait_for("STATUS=1/1 streams up, 1 recording", 60), notify.messages
        status, _ = d.call("DELETE", "/api/streams/porch")
        assert status in (200, 204)
        assert notify.wait_for("STATUS=0/0 streams up, 0 recording", 30), notify.messages
    finally:
        assert d.stop(30) == 0
