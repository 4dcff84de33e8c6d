"""Issue #10 item 15: the systemd watchdog sees a hung recorder, and only a hung one.

The real daemon runs with a real AF_UNIX datagram socket as NOTIFY_SOCKET and WATCHDOG_USEC
set, as systemd starts it (conf/lightnvr.service), recording the real RTSP test camera.

- Healthy: with a stream recording and live-streaming, and a second stream whose camera does
  not answer (its recorder and live writer idle with empty queues), WATCHDOG=1 keeps coming,
  never more than WatchdogSec apart.
- Hung: the recorder is made to block inside a packet write. The hang is the test-only hook
  of lightnvr/video/faults.py (``LIGHTNVR_TEST_HANG_FILE``): while the file exists the
  recorder's write does not return, exactly as a write to a hung disk would; it creates
  ``<file>.blocked`` when it starts blocking. No WATCHDOG=1 may arrive later than half of
  WatchdogSec after that, and the pings resume once the write returns.
- Orderly stops (a stream deleted, recording switched off) unregister the consumers'
  heartbeats, so the pings go on.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.core.notify_socket import NotifySocket
from tests.fixtures.camera import TestCamera
from tests.fixtures.daemon import DaemonProcess, free_port, start_daemon

WATCHDOG_SEC = 12.0            # systemd's WatchdogSec; the daemon pings every 6 s
PING_INTERVAL = WATCHDOG_SEC / 2
pause = threading.Event().wait  # polling helper (never set)


class Pings:
    """Reads the notify socket on a thread, stamping every message with the wall clock."""

    def __init__(self, sock: NotifySocket) -> None:
        self._sock = sock
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._messages: list[tuple[float, str]] = []
        self._thread = threading.Thread(target=self._run, name="notify-reader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                msg = self._sock.receive(0.2)
            except OSError:
                return
            if msg is not None:
                with self._lock:
                    self._messages.append((time.time(), msg))

    def watchdog_times(self, since: float = 0.0) -> list[float]:
        with self._lock:
            return [t for t, m in self._messages if m == "WATCHDOG=1" and t >= since]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)


@pytest.fixture
def watched_daemon(tmp_path: Path, rtsp_camera: TestCamera
                   ) -> Iterator[tuple[DaemonProcess, Pings, Path]]:
    sock = NotifySocket(tmp_path)
    pings = Pings(sock)
    hang = tmp_path / "hang"
    env = {"NOTIFY_SOCKET": sock.path, "WATCHDOG_USEC": str(int(WATCHDOG_SEC * 1e6)),
           "LIGHTNVR_TEST_HANG_FILE": str(hang)}
    d = start_daemon(tmp_path / "nvr", env=env)
    try:
        for name, url in (("cam", rtsp_camera.url("file264")),
                          ("dead", f"rtsp://127.0.0.1:{free_port()}/nothing")):
            status, body = d.call("POST", "/api/streams", {
                "name": name, "url": url, "record": True, "streaming_enabled": True,
                "segment_duration": 10})
            assert status == 201, body
        yield d, pings, hang
    finally:
        hang.unlink(missing_ok=True)  # a hung recorder would hold up the shutdown
        try:
            d.stop()
        finally:
            pings.close()
            sock.close()


def _log(d: DaemonProcess) -> str:
    return (d.base / "lightnvr.log").read_text(errors="replace")


def _wait_for(what: str, predicate: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        pause(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_hung_recorder_stops_the_pings_healthy_idle_daemon_keeps_them(
        watched_daemon: tuple[DaemonProcess, Pings, Path]) -> None:
    d, pings, hang = watched_daemon
    _wait_for("both streams' recorders and live writers",
              lambda: all(f"{kind}:{name} started" in _log(d)
                          for kind in ("recorder", "live") for name in ("cam", "dead")), 30)

    # healthy, one stream busy and one idle: pings keep coming, never WatchdogSec apart
    start = time.time()
    pause(2 * PING_INTERVAL + 2)
    healthy = [start, *pings.watchdog_times(start), time.time()]
    assert len(healthy) >= 4, f"too few pings while healthy: {healthy}\n{d.log_tail()}"
    gaps = [b - a for a, b in itertools.pairwise(healthy)]
    assert max(gaps) < WATCHDOG_SEC, (gaps, d.log_tail())

    # the recorder of "cam" hangs inside a write
    hang.touch()
    blocked = Path(f"{hang}.blocked")
    _wait_for("the recorder to block in a write", blocked.exists, 60)
    assert blocked.read_text() == "recorder:cam"
    t0 = blocked.stat().st_mtime
    pause(WATCHDOG_SEC / 2 + 2 * PING_INTERVAL)
    late = [t - t0 for t in pings.watchdog_times(t0 + WATCHDOG_SEC / 2)]
    assert not late, f"WATCHDOG=1 still sent {late} s after the recorder hung\n{d.log_tail()}"
    assert "stale heartbeat(s): recorder:cam" in _log(d)

    # the write returns: the recorder beats again and so do the pings
    released = time.time()
    os.unlink(hang)
    _wait_for("pings to resume", lambda: pings.watchdog_times(released), 2 * PING_INTERVAL + 5)

    # consumers stopped in order take their heartbeats with them: a removed stream, and a
    # recorder switched off, must not leave a beat behind that goes stale
    assert d.call("DELETE", "/api/streams/dead")[0] in (200, 204)
    status, body = d.call("PUT", "/api/streams/cam", {"record": False})
    assert status == 200, body
    _wait_for("the recorders to exit", lambda: all(
        f"recorder:{name} exited" in _log(d) for name in ("cam", "dead")), 30)
    settled = time.time()
    pause(2 * PING_INTERVAL + 2)
    after = [settled, *pings.watchdog_times(settled), time.time()]
    assert len(after) >= 4 and max(b - a for a, b in itertools.pairwise(after)) < WATCHDOG_SEC, (
        after, d.log_tail())
    assert d.proc.poll() is None
