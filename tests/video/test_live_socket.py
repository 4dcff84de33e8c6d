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


def test_idle_live_thread_serves_a_new_viewer_at_once_and_stops_promptly() -> None:
    """With no viewer the thread sleeps IDLE_SECONDS (10 s) between turns: a viewer attached
    then is woken for, not left to the next turn, and stop() wakes it as well."""
    registry = HeartbeatRegistry()
    live = LiveSockets()
    live.start(registry)
    server, client = socket.socketpair()
    try:
        assert wait_until(lambda: registry.ages()[THREAD_NAME] > 0.2, 5)  # asleep, idle
        assert live.reserve()
        wake: list = []
        feed = LiveSubscription("cam", lambda: wake[0]() if wake else None)
        wake.append(live.attach(server, Connection(ConnectionType.SERVER), feed,
                                b"HTTP/1.1 101 Switching Protocols\r\n\r\n", lambda: None))
        client.settimeout(5)  # half the idle turn: only a wake-up can answer in time
        assert client.recv(64).startswith(b"HTTP/1.1 101")
        assert live.viewer_count() == 1
        started = time.monotonic()
        assert live.stop(2.0)
        assert time.monotonic() - started < 2.0
    finally:
        live.stop(1.0)
        client.close()


def test_stop_is_prompt_while_idle() -> None:
    registry = HeartbeatRegistry()
    live = LiveSockets()
    live.start(registry)
    try:
        assert wait_until(lambda: registry.ages()[THREAD_NAME] > 0.2, 5)  # asleep, idle
        started = time.monotonic()
        assert live.stop(2.0)
        assert time.monotonic() - started < 2.0
        assert THREAD_NAME not in [t.name for t in threading.enumerate()]
    finally:
        live.stop(1.0)
