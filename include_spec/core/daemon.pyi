# Process lifecycle (lightnvr/core/daemon.py): main loop, signals, sd_notify, shutdown, pid file.
# lightnvr/app.py builds a Daemon, registers components with daemon.coordinator (and critical
# heartbeats with daemon.heartbeats), reports start-up phases, then returns daemon.run().
import threading
from collections.abc import Callable
from typing import Any

from lightnvr.core.config import Config
from lightnvr.core.heartbeat import HeartbeatRegistry
from lightnvr.core.notify import Notifier
from lightnvr.core.shutdown import ShutdownCoordinator

EXIT_OK: int          # 0
EXIT_FAILURE: int     # 1: a component overran/failed its stop, fatal error, or forced exit
HARD_WATCHDOG_GRACE: float
IDLE_WAIT: float      # without NOTIFY_SOCKET the main loop waits this long at most between wake-ups

class Daemon:
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
                 exit_func: Callable[[int], Any] = ...) -> None: ...
    def install_signal_handlers(self) -> None: ...   # main thread; TERM/INT stop, 2nd exits, HUP reload
    def restore_signal_handlers(self) -> None: ...
    def request_stop(self, reason: str = "requested") -> None: ...   # any thread
    def fail(self, reason: str) -> None: ...          # orderly stop, then exit code 1
    @property
    def stop_event(self) -> threading.Event: ...     # set once a stop is requested (never set it)
    def phase(self, text: str) -> None: ...           # STATUS= during start-up
    def set_status(self, summary: Callable[[], str]) -> None: ...   # STATUS= once running
    def run(self, until_stopped: threading.Event | None = None) -> int: ...  # READY=1 .. exit code
    def reload(self) -> None: ...                     # what SIGHUP does

class PidFileError(Exception): ...

class PidFile:
    path: str
    def __init__(self, path: str) -> None: ...
    def acquire(self) -> None: ...       # raises PidFileError if a live instance holds it
    def write_pid(self) -> None: ...
    def release(self) -> None: ...

def daemonize() -> None: ...             # double fork; keeps the working directory
