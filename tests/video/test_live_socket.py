"""The `web:live` thread (web/live_socket.py): named, beating, and stopped within its deadline
even while a viewer's socket is full and a feed keeps producing."""

from __future__ import annotations

import socket
import threading
import time

from wsproto.connection import Connection, ConnectionType

from lightnvr.core.heartbeat import HeartbeatRegistry
from lightnvr.video.live_mse import LiveMessage, LiveSubscription
from lightnvr.web.live_socket import THREAD_NAME, LiveSockets
from tests.fixtures.wait import wait_until


def test_live_thread_beats_and_stops_within_its_deadline_with_a_stuck_viewer() -> None:
    registry = HeartbeatRegistry()
    live = LiveSockets()
    live.start(registry)
    server, client = socket.socketpair()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    closed = threading.Event()
    try:
        assert THREAD_NAME in [t.name for t in threading.enumerate()]
        assert THREAD_NAME in registry.ages()
        assert live.reserve()
        wake: list = []
        feed = LiveSubscription("cam", lambda: wake[0]() if wake else None)
        wake.append(live.attach(server, Connection(ConnectionType.SERVER), feed, b"",
                                closed.set))
        for _ in range(200):  # the client never reads: the socket fills up
            feed.put(LiveMessage(b"x" * 16384, keyframe=True))
        # 3 MiB at a viewer that reads nothing: its feed must have skipped (bounded)
        assert wait_until(lambda: feed.skips > 0, 5)
        assert live.viewer_count() == 1
        started = time.monotonic()
        assert live.stop(2.0)
        assert time.monotonic() - started < 2.0
        assert THREAD_NAME not in [t.name for t in threading.enumerate()]
        assert THREAD_NAME not in registry.ages()
        assert closed.is_set(), "the viewer's on_close (unsubscribe) must run on stop"
        assert live.viewer_count() == 0
        client.settimeout(2)
        while client.recv(65536):  # drains what was sent, then sees the close
            pass
    finally:
        live.stop(1.0)
        client.close()
