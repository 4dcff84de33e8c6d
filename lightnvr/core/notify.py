"""systemd notifications (READY, STATUS, WATCHDOG, STOPPING) via sdnotify; no-op without systemd."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Mapping

import sdnotify

log = logging.getLogger(__name__)


class Notifier:
    """Sends sd_notify messages to NOTIFY_SOCKET (from `environ`, default os.environ).

    Without NOTIFY_SOCKET every method does nothing, so code calls it unconditionally.
    Sending errors are logged once and never raised: systemd going away must not stop
    recording.
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self._address = env.get("NOTIFY_SOCKET", "")
        self._watchdog_usec = env.get("WATCHDOG_USEC", "")
        self._watchdog_pid = env.get("WATCHDOG_PID", "")
        self._lock = threading.Lock()
        self._warned = False
        self._sd: sdnotify.SystemdNotifier | None = None
        if self._address:
            # sdnotify's constructor connects to os.environ's socket; we want the one from
            # `environ`, so build the object without it and hand it our connected socket.
            self._sd = sdnotify.SystemdNotifier.__new__(sdnotify.SystemdNotifier)
            self._sd.debug = True  # raise, so that _send can log the first failure
            self._sd.socket = self._connect(self._address)

    @staticmethod
    def _connect(address: str) -> socket.socket | None:
        target = "\0" + address[1:] if address.startswith("@") else address
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            sock.connect(target)
        except OSError as e:
            log.warning("NOTIFY_SOCKET %s unusable: %s", address, e)
            sock.close()
            return None
        return sock

    @property
    def enabled(self) -> bool:
        return self._sd is not None and self._sd.socket is not None

    def watchdog_interval(self) -> float | None:
        """Half of WATCHDOG_USEC in seconds, or None when systemd wants no pings from us."""
        if not self._watchdog_usec:
            return None
        if self._watchdog_pid and self._watchdog_pid != str(os.getpid()):
            return None
        try:
            usec = int(self._watchdog_usec)
        except ValueError:
            return None
        return usec / 2 / 1e6 if usec > 0 else None

    def _send(self, message: str) -> None:
        if not self.enabled:
            return
        assert self._sd is not None and self._sd.socket is not None
        try:
            with self._lock:
                self._sd.notify(message)
        except (OSError, UnicodeError) as e:
            if not self._warned:
                self._warned = True
                log.warning("sd_notify %r failed: %s", message.split("=", 1)[0], e)

    def ready(self) -> None:
        self._send("READY=1")

    def status(self, text: str) -> None:
        # STATUS is one line; a newline would start another (bogus) assignment.
        self._send("STATUS=" + " ".join(text.split()))

    def watchdog(self) -> None:
        self._send("WATCHDOG=1")

    def stopping(self) -> None:
        self._send("STOPPING=1")

    def close(self) -> None:
        """Release the socket (after STOPPING=1)."""
        if self._sd is not None and self._sd.socket is not None:
            self._sd.socket.close()
            self._sd.socket = None
