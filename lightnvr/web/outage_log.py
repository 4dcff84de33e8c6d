"""Log a failure that repeats on every request once per outage: the cause when it starts, one
line when it ends.

A status endpoint that the UI polls every few seconds must not hide a broken database or
storage path (the answer only says "unavailable"), nor repeat the same traceback thousands of
times while it lasts.
"""

from __future__ import annotations

import logging
import threading


class OutageLog:
    """Tracks one dependency (`what`, e.g. "database") of request handlers on many threads."""

    def __init__(self, logger: logging.Logger, what: str) -> None:
        self._log = logger
        self._what = what
        self._lock = threading.Lock()
        self._failing = False

    @property
    def failing(self) -> bool:
        """True from the first failure until the next success."""
        with self._lock:
            return self._failing

    def failed(self, exc: BaseException, consequence: str) -> None:
        """Record a failure; the first of an outage is logged at ERROR with its traceback."""
        with self._lock:
            first, self._failing = not self._failing, True
        if first:
            self._log.error("%s failed (%s): %s", self._what, consequence, exc, exc_info=exc)

    def succeeded(self) -> None:
        """Record a success; ending an outage logs one INFO line."""
        with self._lock:
            ended, self._failing = self._failing, False
        if ended:
            self._log.info("%s works again", self._what)
