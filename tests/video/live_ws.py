"""A minimal WebSocket client for the live fMP4 feed (wsproto over a plain socket), for tests.

    with LiveClient(port, "cam", auth=d.auth) as c:
        header = c.header()          # the JSON text header
        init, frags = c.collect(3.0) # init segment and ~3 s of fragments
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)


class Rejected(Exception):
    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"{status}: {body[:200]!r}")
        self.status = status
        self.body = body


class LiveClient:
    def __init__(self, port: int, stream: str, auth: str | None = None, sub: bool = False,
                 origin: str | None = None, rcvbuf: int | None = None,
                 timeout: float = 10.0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:  # before connect: a small window makes a paused reader real
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        self.ws = WSConnection(ConnectionType.CLIENT)
        headers = []
        if auth:
            headers.append((b"Authorization", auth.encode()))
        if origin:
            headers.append((b"Origin", origin.encode()))
        target = f"/api/live/{stream}/mse" + ("?sub=1" if sub else "")
        self.sock.sendall(self.ws.send(Request(host=f"127.0.0.1:{port}", target=target,
                                               extra_headers=headers)))
        self.messages: list[str | bytes] = []
        self.closed = False
        self._partial = bytearray()
        self._accepted = False
        status, body = 0, bytearray()
        deadline = time.monotonic() + timeout
        while not self._accepted and time.monotonic() < deadline:
            data = self.sock.recv(65536)
            self.ws.receive_data(data or None)
            for ev in self.ws.events():
                if isinstance(ev, AcceptConnection):
                    self._accepted = True
                elif isinstance(ev, RejectConnection):
                    status = ev.status_code
                elif isinstance(ev, RejectData):
                    body += ev.data
                    if ev.body_finished:
                        self.sock.close()
                        raise Rejected(status, bytes(body))
                else:
                    self._event(ev)
            if not data:
                break
        if not self._accepted:
            self.sock.close()
            raise Rejected(status, bytes(body))

    def _event(self, ev: Any) -> None:
        if isinstance(ev, BytesMessage):
            self._partial += ev.data
            if ev.message_finished:
                self.messages.append(bytes(self._partial))
                self._partial.clear()
        elif isinstance(ev, TextMessage):
            self.messages.append(ev.data)
        elif isinstance(ev, CloseConnection):
            self.closed = True

    def pump(self, seconds: float) -> None:
        """Read for `seconds` (or until the server closes)."""
        deadline = time.monotonic() + seconds
        while not self.closed and (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                return
            except OSError:
                self.closed = True
                return
            if not data:
                self.closed = True
                return
            self.ws.receive_data(data)
            for ev in self.ws.events():
                self._event(ev)

    def header(self, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while not self.messages and not self.closed and time.monotonic() < deadline:
            self.pump(0.2)
        assert self.messages and isinstance(self.messages[0], str), self.messages[:1]
        return dict(json.loads(self.messages[0]))

    def collect(self, seconds: float) -> tuple[bytes, list[bytes]]:
        """The init segment after the first header and the fragments received in `seconds`."""
        self.pump(seconds)
        binary = [m for m in self.messages if isinstance(m, bytes)]
        assert binary, "no init segment"
        return binary[0], binary[1:]

    def close(self) -> None:
        try:
            self.sock.sendall(self.ws.send(CloseConnection(code=1000)))
        except Exception:
            pass
        self.sock.close()

    def __enter__(self) -> LiveClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
