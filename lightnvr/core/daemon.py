"""Process lifecycle: signals, the main loop (sd_notify watchdog, status), shutdown, pid file, -d.

Design: the main thread owns the loop in `Daemon.run()`. Signal handlers only record the signal
(a SimpleQueue plus a wake-up Event); the loop acts on it: SIGTERM/SIGINT start the orderly
shutdown, a second SIGTERM/SIGINT exits at once (the only thing a handler does itself),
SIGHUP reloads the log level from the config file and re-opens log files. Every
`period` (at most half of WATCHDOG_USEC) the loop sends WATCHDOG=1 if no critical heartbeat
is stale, and STATUS= with the status callback's summary when it changed; without systemd
(no NOTIFY_SOCKET) neither goes anywhere, so the loop only waits for a signal or a stop
request to wake it (`IDLE_WAIT` at most) and never calls the status callback. On the way out it
sends STOPPING=1 and runs `ShutdownCoordinator.shutdown()`; a hard watchdog thread
`shutdown-watchdog` (started only then, joined after) forces exit if the shutdown itself
hangs past the global deadline plus a grace period. The exit code is 0 on a clean shutdown,
1 when a component overran or failed or a fatal error requested the stop.

Usage by lightnvr/app.py:
    daemon = Daemon(config, config_path=args.config, verbose=args.verbose)
    daemon.install_signal_handlers()
    daemon.phase("starting database")        # STATUS= during start-up
    ...; daemon.coordinator.register("db", PRIORITY_DATABASE, db.stop)
    daemon.set_status(lambda: "3/3 streams up, 3 recording")
    return daemon.run()                      # sends READY=1, loops, shuts down
"""

from __future__ import annotations

import dataclasses
import errno
import fcntl
import logging
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from lightnvr.core import logger as core_logger
from lightnvr.core.config import Config, ConfigError, load_config
from lightnvr.core.heartbeat import HeartbeatRegistry
from lightnvr.core.memory.arena import trim_malloc
from lightnvr.core.notify import Notifier
from lightnvr.core.shutdown import ShutdownCoordinator, ShutdownReport

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILURE = 1
HARD_WATCHDOG_GRACE = 5.0
IDLE_WAIT = 60.0  # without systemd: wake-ups come from signals and request_stop(); a bound only
_HANDLED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class Daemon:
    """Holds the coordinator, heartbeats and notifier, and runs the main loop."""

    config: Config
    config_path: str | None
    verbose: bool
    notifier: Notifier
    heartbeats: HeartbeatRegistry
    coordinator: ShutdownCoordinator
    period: float

    def __init__(self, config: Config, *, config_path: str | None = None,
                 verbose: bool = False, notifier: Notifier | None = None,
                 heartbeats: HeartbeatRegistry | None = None, period: float = 1.0,
                 global_deadline: float = 30.0,
                 exit_func: Callable[[int], Any] = os._exit) -> None:
        self.config = config
        self.config_path = config_path if config_path is not None else config.source_path
        self.verbose = verbose
        self.notifier = notifier or Notifier()
        self.heartbeats = heartbeats or HeartbeatRegistry()
        self.coordinator = ShutdownCoordinator(global_deadline)
        self.period = period
        self._exit = exit_func
        self._signals: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._stop_requested = threading.Event()
        self._fatal: str | None = None
        self._term_count = 0
        self._status: Callable[[], str] | None = None
        self._last_status: str | None = None
        self._ready_sent = False
        self._watchdog_held = False
        self._previous_handlers: dict[int, Any] = {}

    # -- signals -------------------------------------------------------------------------
    def install_signal_handlers(self) -> None:
        """Route SIGTERM/SIGINT/SIGHUP to this daemon (main thread only)."""
        for sig in _HANDLED:
            self._previous_handlers[sig] = signal.signal(sig, self._on_signal)

    def restore_signal_handlers(self) -> None:
        for sig, handler in self._previous_handlers.items():
            signal.signal(sig, handler)
        self._previous_handlers.clear()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if signum in (signal.SIGTERM, signal.SIGINT):
            self._term_count += 1
            if self._term_count > 1:
                # Second request: the operator wants out now, whatever is still stopping.
                os.write(2, b"lightnvr: second termination signal, exiting immediately\n")
                self._exit(EXIT_FAILURE)
                return
            # Also set the stop event right away, so start-up helpers watching it (stagger)
            # stop before the main loop runs; the loop logs the signal when it drains it.
            self._stop_requested.set()
        self._signals.put(signum)
        self._wake.set()

    # -- control from components -----------------------------------------------------------
    def request_stop(self, reason: str = "requested") -> None:
        """Begin an orderly shutdown from any thread (e.g. POST /api/system/shutdown)."""
        log.info("stop requested: %s", reason)
        self._stop_requested.set()
        self._wake.set()

    def fail(self, reason: str) -> None:
        """A fatal error: orderly shutdown, then exit non-zero so systemd restarts us."""
        log.error("fatal: %s", reason)
        self._fatal = reason
        self.request_stop(reason)

    @property
    def stop_event(self) -> threading.Event:
        """Set once a stop was requested; start-up helpers (stagger) watch it."""
        return self._stop_requested

    def phase(self, text: str) -> None:
        """Report a start-up phase (STATUS= line and an info log)."""
        log.info("start-up: %s", text)
        self.notifier.status(text)

    def set_status(self, summary: Callable[[], str]) -> None:
        """Callback giving the one-line STATUS= summary once running."""
        self._status = summary

    # -- main loop -------------------------------------------------------------------------
    def run(self, until_stopped: threading.Event | None = None) -> int:
        """Send READY=1, loop until a stop (signal, request_stop or `until_stopped`), shut down.

        Returns the process exit code: 0 clean, 1 on overrun/failure/fatal error.
        """
        interval = self.notifier.watchdog_interval()
        period = min(self.period, interval) if interval else self.period
        # A stop requested during start-up (fail(), a signal) skips READY=1: we never were.
        if not self._ready_sent and not self._stop_requested.is_set():
            self._ready_sent = True
            self.notifier.ready()
            # Start-up's garbage (migrations, OpenAPI document) back to the OS now rather
            # than at the governor's next trim: ~30 MiB of an idle daemon (arena.py).
            trim_malloc()
            log.info("ready (watchdog %s)",
                     f"every {interval:.2f}s" if interval else "not requested")
        next_ping = time.monotonic()
        try:
            while not self._stop_requested.is_set():
                if until_stopped is not None and until_stopped.is_set():
                    break
                if interval is not None and time.monotonic() >= next_ping:
                    next_ping = time.monotonic() + interval
                    self._ping_watchdog()
                if self.notifier.enabled:  # STATUS= goes nowhere without systemd
                    self._update_status()
                polled = self.notifier.enabled or until_stopped is not None
                self._wake.wait(period if polled else IDLE_WAIT)
                self._wake.clear()
                self._drain_signals()
        except Exception:
            log.critical("main loop failed; shutting down", exc_info=True)
            self._fatal = "main loop failed"
        self._drain_signals()  # log a signal that ended the loop; SIGHUP still applies
        return self._finish()

    def _ping_watchdog(self) -> None:
        """WATCHDOG=1 only while every critical heartbeat is fresh."""
        stale = self.heartbeats.stale()
        if not stale:
            self.notifier.watchdog()
            if self._watchdog_held:
                log.warning("all critical heartbeats fresh again; watchdog pings resume")
                self._watchdog_held = False
        elif not self._watchdog_held:
            self._watchdog_held = True
            log.error("not pinging the systemd watchdog: stale heartbeat(s): %s",
                      ", ".join(stale))

    def _update_status(self) -> None:
        if self._status is None:
            return
        try:
            text = self._status()
        except Exception:
            log.warning("status callback failed", exc_info=True)
            return
        if text != self._last_status:
            self._last_status = text
            self.notifier.status(text)

    def _drain_signals(self) -> None:
        while True:
            try:
                signum = self._signals.get_nowait()
            except queue.Empty:
                return
            if signum == signal.SIGHUP:
                self.reload()
            else:
                self.request_stop(f"signal {signal.Signals(signum).name}")

    def reload(self) -> None:
        """SIGHUP: apply the config file's logging settings and re-open log files.

        Only logging is reloaded; other settings need a restart (a bad file is logged and
        the running configuration stays).
        """
        try:
            new = load_config(self.config_path) if self.config_path else self.config
        except ConfigError as e:
            log.error("SIGHUP: configuration not reloaded: %s", e)
            core_logger.reopen_log_files()
            return
        core_logger.setup_logging(new.general, self.verbose)
        self.config = dataclasses.replace(self.config, general=new.general)
        log.info("SIGHUP: log level %d, log files re-opened", new.general.log_level)

    def _finish(self) -> int:
        self.notifier.stopping()
        self.notifier.status("stopping")
        hard = threading.Timer(self.coordinator.global_deadline + HARD_WATCHDOG_GRACE,
                               self._hard_timeout)
        hard.name = "shutdown-watchdog"
        hard.daemon = True
        hard.start()
        # What the watchdog covered (docs/architecture.md's heartbeat table is checked
        # against this line by tests/core/test_architecture_doc.py).
        log.info("watchdog heartbeats: %s", ", ".join(
            name + ("" if critical else " (not critical)")
            for name, critical in sorted(self.heartbeats.critical().items())) or "none")
        try:
            report: ShutdownReport = self.coordinator.shutdown()
        finally:
            hard.cancel()
            hard.join()
        if not report.ok:
            log.error("shutdown incomplete: overran=%s failed=%s", report.overran, report.failed)
            return EXIT_FAILURE
        return EXIT_FAILURE if self._fatal else EXIT_OK

    def _hard_timeout(self) -> None:
        log.critical("shutdown hung past the global deadline while stopping %s; forcing exit",
                     self.coordinator.current or "?")
        logging.shutdown()
        self._exit(EXIT_FAILURE)


# -- pid file and daemonizing ------------------------------------------------------------------
class PidFileError(Exception):
    """Another live instance holds the pid file (or it cannot be created)."""


class PidFile:
    """An flock()ed pid file: held for the process lifetime, refused while another holds it.

    The kernel drops the lock when the holder dies, so a stale file left by a crash never
    blocks a restart.
    """

    path: str

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        directory = os.path.dirname(self.path)
        try:
            if directory:
                os.makedirs(directory, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as e:
            raise PidFileError(f"pid file {self.path}: {e.strerror}") from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise PidFileError(f"pid file {self.path} is held by a running instance "
                                   f"(pid {holder}); stop it first") from e
            raise PidFileError(f"pid file {self.path}: {e.strerror}") from e
        self._fd = fd
        self.write_pid()

    def write_pid(self) -> None:
        """(Re)write our pid, e.g. in the grandchild after daemonizing."""
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, f"{os.getpid()}\n".encode(), 0)
        os.fsync(self._fd)

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        os.close(self._fd)
        self._fd = None


def daemonize() -> None:
    """Detach: double fork, new session, stdio to /dev/null. Returns in the grandchild.

    The working directory is kept on purpose: relative paths in the configuration resolve
    against it. Call after acquiring the pid file (the flock is inherited) and before
    starting any thread.
    """
    if os.fork() > 0:
        os._exit(0)
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    os.umask(0o027)
    sys.stdout.flush()
    sys.stderr.flush()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    if devnull > 2:
        os.close(devnull)
