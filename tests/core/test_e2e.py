"""The real daemon process: sd_notify sequence over a real socket, SIGTERM, pid file, CLI."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest

from tests.core.notify_socket import NotifySocket
from tests.fixtures.wait import wait_until

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_conf(tmp_path: Path, extra: str = "") -> Path:
    """A config whose every path is in tmp_path and whose web port is free, so the test also
    holds once lightnvr.app (the full daemon) exists. `extra` may repeat a section: later
    values win."""
    conf = tmp_path / "test.conf"
    conf.write_text(
        "[web]\n"
        f"port = {free_port()}\nbind_ip = 127.0.0.1\nroot = {ROOT / 'www'}\n"
        "[general]\n"
        f"pid_file = {tmp_path / 'lightnvr.pid'}\n"
        f"log_file = {tmp_path / 'lightnvr.log'}\n"
        "log_level = 3\n"
        "[storage]\n"
        f"path = {tmp_path / 'rec'}\n"
        f"path_hls = {tmp_path / 'hls'}\n"
        "[database]\n"
        f"path = {tmp_path / 'db.sqlite'}\n" + extra)
    return conf


def env_for(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")
           and not k.startswith("LIGHTNVR_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def lightnvr(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """A short-lived CLI run whose output the test reads with communicate()."""
    return subprocess.Popen([sys.executable, "-m", "lightnvr", *args], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


@contextmanager
def running_daemon(tmp_path: Path, *args: str,
                   env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """A long-running daemon, killed on the way out if the test left it running; its output
    goes to files (a full pipe would block it)."""
    with open(tmp_path / "stdout.txt", "ab") as out, open(tmp_path / "stderr.txt", "ab") as err:
        proc = subprocess.Popen([sys.executable, "-m", "lightnvr", *args], cwd=ROOT,
                                stdout=out, stderr=err, env=env)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def stderr_of(tmp_path: Path) -> str:
    return (tmp_path / "stderr.txt").read_text(errors="replace")[-3000:]


def wait_message(notify: NotifySocket, wanted: str, proc: subprocess.Popen[bytes],
                 timeout: float) -> bool:
    """Like notify.wait_for, but gives up as soon as the daemon has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if notify.wait_for(wanted, min(0.2, deadline - time.monotonic())):
            return True
        if proc.poll() is not None:
            return notify.wait_for(wanted, 0.05)
    return False


# The full daemon (lightnvr.app) and the core lifecycle alone must both behave.
MODES = [pytest.param([], id="full"), pytest.param(["--core-only"], id="core-only")]


@pytest.fixture
def notify(tmp_path: Path) -> Iterator[NotifySocket]:
    sock = NotifySocket(tmp_path)
    yield sock
    sock.close()


@pytest.mark.parametrize("mode", MODES)
def test_ready_watchdog_stopping_then_clean_exit(tmp_path: Path, notify: NotifySocket,
                                                 mode: list[str]) -> None:
    conf = write_conf(tmp_path)
    with running_daemon(tmp_path, "-c", str(conf), *mode,
                        env=env_for(NOTIFY_SOCKET=notify.path, WATCHDOG_USEC="2000000")) as proc:
        assert wait_message(notify, "READY=1", proc, 60), (notify.messages, stderr_of(tmp_path))
        assert wait_message(notify, "WATCHDOG=1", proc, 3), notify.messages
        assert wait_message(notify, "WATCHDOG=1", proc, 3), notify.messages
        assert (tmp_path / "lightnvr.pid").read_text().strip() == str(proc.pid)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert wait_message(notify, "STOPPING=1", proc, 5), notify.messages
        code = proc.wait(35)
        assert code == 0, stderr_of(tmp_path)
        assert time.monotonic() - t0 < 35
    order = [m for m in notify.messages if m in ("READY=1", "WATCHDOG=1", "STOPPING=1")]
    assert order[0] == "READY=1" and order[-1] == "STOPPING=1" and "WATCHDOG=1" in order
    assert not (tmp_path / "lightnvr.pid").exists()
    log = (tmp_path / "lightnvr.log").read_text()
    assert "ready" in log and "shutdown: done" in log and "exiting with code 0" in log
    assert "no threads left after shutdown" in log


def test_without_notify_socket_sigint_exits_zero(tmp_path: Path) -> None:
    conf = write_conf(tmp_path)
    with running_daemon(tmp_path, "-c", str(conf), "--core-only", env=env_for()) as proc:
        wait_ready(tmp_path)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0


def wait_ready(tmp_path: Path, timeout: float = 20) -> None:
    """Until the daemon logged that start-up is complete (its signal handlers are in place)."""
    log = tmp_path / "lightnvr.log"
    wait_until(lambda: log.exists()
               and "] MainThread lightnvr.core.daemon: ready" in log.read_text(),
               timeout, step=0.05, what="the daemon to log ready")


def _live_pid(pidfile: Path) -> int | None:
    try:
        text = pidfile.read_text().strip()
    except FileNotFoundError:
        return None
    return int(text) if text and psutil.pid_exists(int(text)) else None


def _wait_pid(pidfile: Path, timeout: float) -> int:
    pid = wait_until(lambda: _live_pid(pidfile), timeout, step=0.05,
                     what=f"a live pid in {pidfile}")
    assert pid is not None
    return pid


def _exited(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True


def _gone(pid: int, timeout: float) -> bool:
    return wait_until(lambda: _exited(pid), timeout, step=0.05)


def test_daemonize_pidfile_refuses_second_instance(tmp_path: Path) -> None:
    conf = write_conf(tmp_path)
    pidfile = tmp_path / "lightnvr.pid"
    first = lightnvr("-c", str(conf), "-d", "--core-only", env=env_for())
    assert first.wait(20) == 0          # the foreground parent returns at once
    pid = _wait_pid(pidfile, 20)
    wait_ready(tmp_path)
    try:
        assert pid != first.pid
        assert psutil.Process(pid).ppid() != first.pid
        second = lightnvr("-c", str(conf), "-d", "--core-only", env=env_for())
        _, err = second.communicate(timeout=20)
        assert second.returncode != 0
        assert "held by a running instance" in err and str(pid) in err
        # Foreground start is refused as well (same data, same pid file).
        third = lightnvr("-c", str(conf), "--core-only", env=env_for())
        _, err3 = third.communicate(timeout=20)
        assert third.returncode != 0 and "held by a running instance" in err3
        assert pidfile.read_text().strip() == str(pid)
    finally:
        os.kill(pid, signal.SIGTERM)
        assert _gone(pid, 10)
    assert not pidfile.exists()


def test_stale_pidfile_of_dead_process_is_taken_over(tmp_path: Path) -> None:
    conf = write_conf(tmp_path)
    (tmp_path / "lightnvr.pid").write_text("999999\n")
    with running_daemon(tmp_path, "-c", str(conf), "--core-only", env=env_for()) as proc:
        assert _wait_pid(tmp_path / "lightnvr.pid", 20) == proc.pid
        wait_ready(tmp_path)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0


def test_config_error_is_one_line_and_exit_2(tmp_path: Path) -> None:
    conf = write_conf(tmp_path, "[web]\nport = 99999\n")
    proc = lightnvr("-c", str(conf), env=env_for())
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert str(conf) in lines[0] and "[web] port" in lines[0] and "'99999'" in lines[0]
    assert "1 to 65535" in lines[0]


def test_check_config_prints_effective_config(tmp_path: Path) -> None:
    # [go2rtc] is one of LightNVR's sections now; [nosuch] is nobody's
    conf = write_conf(tmp_path, "[web]\npassword = s3cret\n[nosuch]\nx = 1\n")
    proc = lightnvr("check-config", str(conf), env=env_for(LIGHTNVR_WEB_PORT="8099"))
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "port = 8099" in out and "[mqtt]" in out and f"path = {tmp_path / 'rec'}" in out
    assert "s3cret" not in out and "password = ********" in out
    assert "unknown section [nosuch]" in err
    bad = lightnvr("check-config", str(tmp_path / "missing.conf"), env=env_for())
    _, err = bad.communicate(timeout=20)
    assert bad.returncode == 2 and "missing.conf" in err


def test_version_and_help() -> None:
    out = subprocess.run([sys.executable, "-m", "lightnvr", "--version"], cwd=ROOT,
                         capture_output=True, text=True, timeout=20, env=env_for())
    assert out.returncode == 0 and out.stdout.startswith("lightnvr ")
    out = subprocess.run([sys.executable, "-m", "lightnvr", "-h"], cwd=ROOT,
                         capture_output=True, text=True, timeout=20, env=env_for())
    assert out.returncode == 0
    for option in ("--config", "--daemon", "--version", "--verbose", "check-config"):
        assert option in out.stdout
