"""A real AF_UNIX datagram socket standing in for systemd's NOTIFY_SOCKET (test helper)."""

from __future__ import annotations

import socket
import time
from pathlib import Path


class NotifySocket:
    def __init__(self, directory: Path) -> None:
        self.path = str(directory / "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages: list[str] = []

    def receive(self, timeout: float) -> str | None:
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096)
        except TimeoutError:
            return None
        text = data.decode()
        self.messages.append(text)
        return text

    def wait_for(self, wanted: str, timeout: float) -> bool:
        """Receive until a message equal to `wanted` (or starting with it) arrives."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            msg = self.receive(left)
            if msg is not None and msg.startswith(wanted):
                return True
        return False

    def collect(self, seconds: float) -> list[str]:
        out = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            msg = self.receive(left)
            if msg is not None:
                out.append(msg)
        return out

    def close(self) -> None:
        self.sock.close()
