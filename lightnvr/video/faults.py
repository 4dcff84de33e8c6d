"""Fault injection for end-to-end tests: a recorder write that hangs (test_watchdog.py).

Only the tests set ``LIGHTNVR_TEST_HANG_FILE=<path>``; without it ``write_hang()`` is None
and the recorder checks nothing. With it, while ``<path>`` exists, a recorder about to write
a packet blocks exactly as a write to a hung disk would: it stops beating and does not
answer ``stop()``. It first writes ``<path>.blocked`` (its thread name) so the test knows
when the hang began; removing ``<path>`` lets it go on.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping

HANG_FILE_ENV = "LIGHTNVR_TEST_HANG_FILE"
_POLL_SECONDS = 0.05


def write_hang(environ: Mapping[str, str] | None = None) -> Callable[[], None] | None:
    """The hook a recorder calls before each write, or None outside the tests."""
    path = (environ if environ is not None else os.environ).get(HANG_FILE_ENV, "")
    if not path:
        return None

    def hang() -> None:
        if not os.path.exists(path):
            return
        with open(path + ".blocked", "w", encoding="utf-8") as f:
            f.write(threading.current_thread().name)
        released = threading.Event()  # never set: the wait only paces the existence check
        while os.path.exists(path):
            released.wait(_POLL_SECONDS)

    return hang
