"""Daemon in-process: main loop, watchdog gating by heartbeats, signals, shutdown exit codes."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lightnvr.core.config import load_config, parse_config_text
from lightnvr.core.daemon import EXIT_FAILURE, EXIT_OK, Daemon
from lightnvr.core.logger import setup_logging, teardown_logging
from lightnvr.core.notify import Notifier
from lightnvr.core.shutdown import PRIORITY_DATABASE, PRIORITY_READERS, ShutdownReport
from tests.core.notify_socket import NotifySocket
from tests.fixtures.wait import wait_until


class Worker:
    """A dummy component: a named thread with a stop event, like a real reader."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            pass

    def stop(self, timeout: float) -> None:
        self._stop.set()
        self._thread.join(timeout)
        self.log.append(self.name)


def run_in_thread(daemon: Daemon) -> tuple[threading.Thread, list[int]]:
    result: list[int] = []
    t = threading.Thread(target=lambda: result.append(daemon.run()), name="test-daemon")
    t.start()
    return t, result


@pytest.fixture
def notify(tmp_path: Path) -> Iterator[NotifySocket]:
    sock = NotifySocket(tmp_path)
    yield sock
    sock.close()


def test_start_stop_five_times_leaves_no_threads() -> None:
    before = threading.active_count()
    for _ in range(5):
        stopped: list[str] = []
        d = Daemon(parse_config_text("", environ={}), notifier=Notifier({}), period=0.01)
        for i, prio in enumerate([PRIORITY_READERS, PRIORITY_READERS, PRIORITY_DATABASE]):
            w = Worker(f"worker:{i}", stopped)
            w.start()
            d.coordinator.register(w.name, prio, w.stop, deadline=2)
        t, result = run_in_thread(d)
        d.request_stop("test")
        t.join(5)
        assert result == [EXIT_OK]
        assert stopped == ["worker:1", "worker:0", "worker:2"]
        assert threading.active_count() == before


def test_until_stopped_event_ends_the_loop() -> None:
    d = Daemon(parse_config_text("", environ={}), notifier=Notifier({}), period=0.01)
    ev = threading.Event()
    result: list[int] = []
    t = threading.Thread(target=lambda: result.append(d.run(ev)), name="test-daemon")
    t.start()
    threading.Event().wait(0.05)
    assert t.is_alive()
    ev.set()
    t.join(5)
    assert result == [EXIT_OK] and d.coordinator.stopping


def test_ready_status_watchdog_stopping_sequence(notify: NotifySocket) -> None:
    env = {"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "100000"}
    d = Daemon(parse_config_text("", environ={}), notifier=Notifier(env), period=1.0)
    d.set_status(lambda: "2 streams up, 2 recording")
    d.phase("opening database")
    t, result = run_in_thread(d)
    msgs = notify.collect(0.3)
    d.request_stop()
    t.join(5)
    msgs += notify.collect(0.1)
    assert msgs[0] == "STATUS=opening database"
    assert msgs[1] == "READY=1"
    assert msgs.count("STATUS=2 streams up, 2 recording") == 1   # sent when it changes
    assert msgs.count("WATCHDOG=1") >= 3                          # every 0.05 s
    assert msgs.index("STOPPING=1") > msgs.index("WATCHDOG=1")
    assert result == [EXIT_OK]


def test_watchdog_pings_stop_while_a_critical_heartbeat_is_stale(notify: NotifySocket) -> None:
    env = {"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "100000"}
    d = Daemon(parse_config_text("", environ={}), notifier=Notifier(env), period=1.0)
    hb = d.heartbeats.register("reader:front", max_age=0.5)
    beating = threading.Event()
    beating.set()
    quit_beater = threading.Event()

    def beater() -> None:
        while not quit_beater.wait(0.02):
            if beating.is_set():
                hb.beat()

    b = threading.Thread(target=beater, name="test-beater")
    b.start()
    t, result = run_in_thread(d)
    try:
        assert notify.wait_for("READY=1", 2)
        healthy = notify.collect(0.5)
        assert healthy.count("WATCHDOG=1") >= 3
        beating.clear()                 # the "reader" hangs
        notify.collect(0.7)             # heartbeat goes stale after max_age
        hung = notify.collect(0.6)
        assert "WATCHDOG=1" not in hung
        beating.set()                   # it recovers: pings resume
        assert notify.wait_for("WATCHDOG=1", 1)
    finally:
        quit_beater.set()
        b.join(2)
        d.request_stop()
        t.join(5)
    assert result == [EXIT_OK]


def test_overrun_gives_nonzero_exit_and_names_component(
        caplog: pytest.LogCaptureFixture) -> None:
    release = threading.Event()
    d = Daemon(parse_config_text("", environ={}), notifier=Notifier({}), period=0.01,
               global_deadline=2)
    d.coordinator.register("stuck-recorder", 60, lambda t: release.wait(10), deadline=0.2)
    t, result = run_in_thread(d)
    d.request_stop()
    with caplog.at_level(logging.ERROR):
        t.join(5)
    release.set()
    assert result == [EXIT_FAILURE]
    assert "stuck-recorder" in caplog.text


def test_global_deadline_overrun_exits_nonzero() -> None:
    release = threading.Event()
    d = Daemon(parse_config_text("", environ={}), notifier=Notifier({}), period=0.01,
               global_deadline=0.3)
    d.coordinator.register("slow", 60, lambda t: release.wait(10), deadline=5)
    d.coordinator.register("db", 40, lambda t: None, deadline=5)
    t, result = run_in_thread(d)
    t0 = time.monotonic()
    d.request_stop()
    t.join(5)
    release.set()
    assert result == [EXIT_FAILURE] and time.monotonic() - t0 < 2


def test_hard_watchdog_forces_exit_if_shutdown_hangs(monkeypatch: pytest.MonkeyPatch) -> None:
    from lightnvr.core import daemon as daemon_mod

    monkeypatch.setattr(daemon_mod, "HARD_WATCHDOG_GRACE", 0.1)
    exits: list[int] = []
    d = Daemon(parse_config_text("", environ={}), notifier=Notifier({}), period=0.01,
               global_deadline=0.2, exit_func=exits.append)
    release = threading.Event()
    real_shutdown = d.coordinator.shutdown

    def hanging_shutdown() -> ShutdownReport:
        # The coordinator itself hangs (not a component, which it would abandon).
        release.wait(3)
        return real_shutdown()

    monkeypatch.setattr(d.coordinator, "shutdown", hanging_shutdown)
    t, _ = run_in_thread(d)
    d.request_stop()
    for _ in range(100):
        if exits:
            break
        threading.Event().wait(0.02)
    release.set()
    t.join(5)
    assert exits == [EXIT_FAILURE]


def test_fail_means_nonzero_exit() -> None:
    d = Daemon(parse_config_text("", environ={}), notifier=Notifier({}), period=0.01)
    t, result = run_in_thread(d)
    d.fail("database corrupt")
    t.join(5)
    assert result == [EXIT_FAILURE]


def test_signals_sigterm_then_second_sigterm_exits_at_once() -> None:
    exits: list[int] = []
    d = Daemon(parse_config_text("", environ={}), notifier=Notifier({}), period=0.01,
               exit_func=exits.append)
    release = threading.Event()
    d.coordinator.register("slow", 60, lambda t: release.wait(5), deadline=5)
    d.install_signal_handlers()
    try:
        t, result = run_in_thread(d)
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(100):
            if d.coordinator.stopping:
                break
            threading.Event().wait(0.01)
        assert d.coordinator.stopping and exits == []
        os.kill(os.getpid(), signal.SIGINT)
        threading.Event().wait(0.05)   # let the main thread run the handler
        assert exits == [EXIT_FAILURE]
        release.set()
        t.join(5)
        assert result == [EXIT_OK]
    finally:
        d.restore_signal_handlers()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_sighup_reloads_log_level_and_reopens_files(tmp_path: Path) -> None:
    conf = tmp_path / "n.conf"
    log_file = tmp_path / "n.log"
    conf.write_text(f"[general]\nlog_level = 1\nlog_file = {log_file}\n")
    config = load_config(str(conf), environ={})
    setup_logging(config.general)
    root = logging.getLogger()
    d = Daemon(config, notifier=Notifier({}), period=0.01)
    d.install_signal_handlers()
    try:
        assert root.level == logging.WARNING
        t, result = run_in_thread(d)
        log_file.rename(tmp_path / "n.log.old")       # logrotate moved it
        conf.write_text(f"[general]\nlog_level = 3\nlog_file = {log_file}\n")
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(200):
            if root.level == logging.DEBUG:
                break
            threading.Event().wait(0.01)
        assert root.level == logging.DEBUG and d.config.general.log_level == 3
        logging.getLogger("lightnvr.test").debug("after hup")
        assert "after hup" in log_file.read_text()
        # A broken file on SIGHUP keeps the running level.
        conf.write_text("[general]\nlog_level = banana\n")
        os.kill(os.getpid(), signal.SIGHUP)
        threading.Event().wait(0.1)
        assert root.level == logging.DEBUG
        d.request_stop()
        t.join(5)
        assert result == [EXIT_OK]
    finally:
        d.restore_signal_handlers()
        teardown_logging()
        root.setLevel(logging.WARNING)


def test_fail_during_startup_skips_ready(notify: NotifySocket) -> None:
    d = Daemon(parse_config_text("", environ={}), notifier=Notifier({"NOTIFY_SOCKET": notify.path}),
               period=0.01)
    d.phase("opening database")
    d.fail("database unreadable")
    assert d.run() == EXIT_FAILURE
    msgs = notify.collect(0.1)
    assert "READY=1" not in msgs and "STOPPING=1" in msgs


def test_without_systemd_the_loop_sleeps_until_woken_and_skips_the_status() -> None:
    """No NOTIFY_SOCKET: STATUS= would go nowhere, so the status callback (a pass over every
    stream) is never called and the loop waits for a stop or a signal, however short the
    period; request_stop() still ends it at once."""
    d = Daemon(parse_config_text("", environ={}), notifier=Notifier({}), period=0.01)
    calls: list[float] = []

    def status() -> str:
        calls.append(time.monotonic())
        return "0/0 streams up, 0 recording"

    d.set_status(status)
    t, result = run_in_thread(d)
    try:
        assert not wait_until(lambda: calls, 0.3)  # 30 periods
    finally:
        d.request_stop("test")
        t.join(5)
    assert result == [EXIT_OK]  # stopped, not still asleep
    assert calls == []
