"""An HTTP client for the security tests that can speak from any loopback address.

Linux routes all of 127.0.0.0/8 to the loopback interface, so binding the client socket to
127.0.0.2, 127.0.0.3, ... gives a test several distinct client addresses against one daemon.

    c = Client(d.port, source="127.0.0.2")         # keeps one connection open (keep-alive)
    status, body = c.call("POST", "/api/auth/login", {"username": "a", "password": "b"})
    status, body = c.call("GET", "/api/auth/verify", basic=("admin", pw),
                          headers={"X-Forwarded-For": "203.0.113.7"})
    c.close()

Unsafe methods always send a JSON body (`{}` when none is given) with
`Content-Type: application/json` and `X-Requested-With`, as the UI does.
"""

from __future__ import annotations

import base64
import http.client
from typing import Any

import orjson


def basic_header(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


class Client:
    """One keep-alive connection from `source` to the daemon on 127.0.0.1:`port`."""

    def __init__(self, port: int, source: str = "127.0.0.1", timeout: float = 30.0) -> None:
        self.port = port
        self.source = source
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout,
                                                    source_address=(self.source, 0))
        return self._conn

    def call(self, method: str, path: str, body: object = None,
             basic: tuple[str, str] | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """(status, body); reconnects once if the server closed the idle connection."""
        h: dict[str, str] = {"X-Requested-With": "test"}
        data = None
        if body is not None or method not in ("GET", "HEAD"):
            data = orjson.dumps({} if body is None else body)
            h["Content-Type"] = "application/json"
        if basic is not None:
            h["Authorization"] = basic_header(*basic)
        h.update(headers or {})
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, path, body=data, headers=h)
                resp = conn.getresponse()
                payload = resp.read()
                if resp.getheader("connection", "").lower() == "close":
                    self.close()
                return resp.status, payload
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, body: object = None,
             basic: tuple[str, str] | None = None) -> tuple[int, Any]:
        status, payload = self.call(method, path, body, basic)
        return status, (orjson.loads(payload) if payload else None)

    def login(self, username: str, password: str,
              headers: dict[str, str] | None = None) -> int:
        """POST /api/auth/login; the status (200 ok, 401 wrong, 429 locked)."""
        return self.call("POST", "/api/auth/login",
                         {"username": username, "password": password}, headers=headers)[0]

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
