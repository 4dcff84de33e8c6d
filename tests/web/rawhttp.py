"""Raw HTTP/1.1 over a socket, for requests http.client refuses to send (NUL, odd paths)."""

from __future__ import annotations

import socket


def raw_request(port: int, data: bytes, timeout: float = 10.0) -> tuple[int, bytes]:
    """Send `data` as-is, read until close; (status, whole response)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    resp = b"".join(chunks)
    try:
        status = int(resp.split(b" ", 2)[1])
    except (IndexError, ValueError):
        status = 0
    return status, resp


def get(port: int, path: bytes, headers: bytes = b"") -> tuple[int, bytes]:
    return raw_request(port, b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers
                       + b"Connection: close\r\n\r\n")
