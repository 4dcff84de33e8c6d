"""Notifier against a real AF_UNIX datagram socket; no-op without NOTIFY_SOCKET."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from lightnvr.core.notify import Notifier
from tests.core.notify_socket import NotifySocket


def test_no_socket_is_a_no_op() -> None:
    n = Notifier({})
    assert not n.enabled and n.watchdog_interval() is None
    n.ready()
    n.status("x")
    n.watchdog()
    n.stopping()


def test_messages_arrive(tmp_path: Path) -> None:
    sock = NotifySocket(tmp_path)
    try:
        n = Notifier({"NOTIFY_SOCKET": sock.path, "WATCHDOG_USEC": "4000000"})
        assert n.enabled and n.watchdog_interval() == 2.0
        n.ready()
        n.status("2 streams up,\n1 recording")
        n.watchdog()
        n.stopping()
        got = [sock.receive(1) for _ in range(4)]
        assert got == ["READY=1", "STATUS=2 streams up, 1 recording", "WATCHDOG=1",
                       "STOPPING=1"]
        n.close()
        n.ready()  # closed: silently nothing
    finally:
        sock.close()


def test_watchdog_pid_other_process_means_no_pings(tmp_path: Path) -> None:
    env = {"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": str(os.getpid() + 1)}
    assert Notifier(env).watchdog_interval() is None
    env["WATCHDOG_PID"] = str(os.getpid())
    assert Notifier(env).watchdog_interval() == 0.5


def test_vanished_socket_is_logged_not_raised(tmp_path: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    sock = NotifySocket(tmp_path)
    n = Notifier({"NOTIFY_SOCKET": sock.path})
    sock.close()
    os.unlink(sock.path)
    with caplog.at_level(logging.WARNING, logger="lightnvr.core.notify"):
        n.ready()
        n.watchdog()
        n.stopping()
    failures = [r for r in caplog.records if "sd_notify" in r.getMessage()]
    # logged once, with the message kind and the cause; the later sends stay quiet
    assert len(failures) == 1, [r.getMessage() for r in caplog.records]
    assert "'READY'" in failures[0].getMessage() and failures[0].levelno == logging.WARNING


def test_missing_socket_path_disables(tmp_path: Path) -> None:
    n = Notifier({"NOTIFY_SOCKET": str(tmp_path / "nope.sock")})
    assert not n.enabled
    n.ready()
