"""A socket pair that wakes a thread sleeping in select/epoll from another thread (the accept
loop in web/server.py, the head gate in web/head_gate.py, the live-view sockets in
web/live_socket.py).

Sockets rather than a pipe: a wake() after close() fails instead of writing to a reused file
descriptor. The pair is non-blocking: a full pair means a wake-up is pending anyway.
"""

from __future__ import annotations

import math
import socket


class Waker:
    """`wake()` from any thread; the sleeping thread watches `reader` and calls `drain()`.

    `last_used` is for the accept loop, which keeps the waker among cheroot's kept-alive
    connections: it never expires there."""

    last_used = math.inf

    def __init__(self) -> None:
        self.reader, self._writer = socket.socketpair()
        self.reader.setblocking(False)
        self._writer.setblocking(False)

    def fileno(self) -> int:
        return self.reader.fileno()

    def wake(self) -> None:
        try:
            self._writer.send(b"\0")
        except OSError:  # the pair is full (a wake-up is pending anyway) or closed (stopping)
            pass

    def drain(self) -> None:
        try:
            while self.reader.recv(4096):
                pass
        except OSError:
            pass

    def close(self) -> None:
        self.reader.close()
        self._writer.close()
