"""The managed go2rtc subprocess: write its config, start it, watch it, restart it, stop it.

Design: one thread, `go2rtc`, owns the subprocess. Every `period` (0.5 s) it beats its
heartbeat (`go2rtc`, not critical: a broken go2rtc must not make systemd restart the NVR),
and
  - starts go2rtc when none runs and the back-off allows it (a missing or unstartable binary
    is an `error` state with a message naming `[go2rtc] binary_path`, retried every
    `MISSING_RETRY_SECONDS` quietly, never an exception);
  - notices that go2rtc exited (`poll()`), records why (exit code and the last line of
    `go2rtc.log`, credentials masked) and starts it again: at once the first time, then with
    a back-off doubling from 0.5 s to `MAX_BACKOFF_SECONDS` while it keeps dying young, so a
    killed go2rtc is back well within 5 s;
  - compares the streams go2rtc should serve (the stream manager's list, read through the
    `streams` callable) with those in its running config and, when they differ, rewrites
    the config and restarts go2rtc, so added, removed and edited streams are in step within
    a period plus a restart;
  - marks the state `running` once go2rtc's API answers on 127.0.0.1.
`stop()` (the shutdown coordinator's `go2rtc` component, right after the web server, so no
proxied offer is in flight) sets the stop event, joins the thread against one deadline, then
sends go2rtc SIGTERM and, if it has not exited by half the time left, SIGKILL.
Lock: `_lock` guards the subprocess handle and the status fields; nothing else is taken
while it is held, and no HTTP call is made under it.
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from lightnvr.core.clock import SYSTEM_CLOCK, Clock
from lightnvr.core.config import Go2rtcConfig
from lightnvr.core.heartbeat import HeartbeatRegistry
from lightnvr.core.redact import redact_text
from lightnvr.core.stream_config import StreamConfig
from lightnvr.video.go2rtc import api
from lightnvr.video.go2rtc.config import Go2rtcStream, render, streams_for_go2rtc, write_config

log = logging.getLogger(__name__)

THREAD_NAME = "go2rtc"
# Stopped right after the web server (100; no proxied offer in flight), before the event hub.
PRIORITY_GO2RTC = 95
PERIOD_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 4.0  # a go2rtc that keeps dying is retried at least this often
MISSING_RETRY_SECONDS = 10.0
YOUNG_SECONDS = 10.0  # dying sooner than this after a start counts as failing to start
# go2rtc keeps running when its API cannot listen (port taken): that is a failed start too
API_TIMEOUT_SECONDS = 15.0
HEARTBEAT_MAX_AGE = 15.0
CONFIG_FILE = "go2rtc.yaml"
LOG_FILE = "go2rtc.log"


class Go2rtcState(StrEnum):
    DISABLED = "disabled"      # [go2rtc] enabled = false
    STARTING = "starting"      # spawned, API not answering yet
    RUNNING = "running"        # API answers
    RESTARTING = "restarting"  # exited; waiting for the back-off to start it again
    ERROR = "error"            # cannot be started (binary missing, config dir unwritable)
    STOPPED = "stopped"        # the daemon is shutting down


@dataclass(frozen=True, slots=True)
class Go2rtcStatus:
    """What GET /api/go2rtc/status and /api/system/status show; never a credential."""

    enabled: bool
    state: Go2rtcState
    pid: int | None
    restarts: int          # times go2rtc was started again after it exited
    error: str             # why it is not running ("" when it is)
    last_exit: str         # how the previous go2rtc ended ("" before the first exit)
    binary_path: str
    api_port: int
    rtsp_port: int
    webrtc_enabled: bool
    webrtc_port: int
    streams: tuple[str, ...]  # names go2rtc serves
    uptime: float          # seconds since the running go2rtc was started (0 when none)

    @property
    def ready(self) -> bool:
        """go2rtc runs and answers, so a WebRTC offer can be sent."""
        return self.state is Go2rtcState.RUNNING

    def to_dict(self) -> dict[str, object]:
        return {"enabled": self.enabled, "state": self.state.value, "ready": self.ready,
                "webrtc_available": self.ready and self.webrtc_enabled,
                "pid": self.pid, "restarts": self.restarts, "error": self.error,
                "last_exit": self.last_exit, "binary_path": self.binary_path,
                "api_port": self.api_port, "rtsp_port": self.rtsp_port,
                "webrtc_enabled": self.webrtc_enabled, "webrtc_port": self.webrtc_port,
                "streams": list(self.streams), "uptime": round(self.uptime, 1)}


class Go2rtcSupervisor:
    """See the module doc. `streams()` returns the stream manager's current configs."""

    config_path: str  # <config_dir>/go2rtc.yaml, rewritten before every start
    log_path: str     # <config_dir>/go2rtc.log, go2rtc's output since its last start

    def __init__(self, cfg: Go2rtcConfig, streams: Callable[[], Sequence[StreamConfig]],
                 heartbeats: HeartbeatRegistry | None = None, clock: Clock | None = None,
                 period: float = PERIOD_SECONDS,
                 api_timeout: float = API_TIMEOUT_SECONDS) -> None:
        self._cfg = cfg
        self._api_timeout = api_timeout
        self._streams = streams
        self._heartbeats = heartbeats
        self._clock = clock or SYSTEM_CLOCK
        self._period = period
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._serving: tuple[Go2rtcStream, ...] = ()
        self._state = Go2rtcState.STARTING if cfg.enabled else Go2rtcState.DISABLED
        self._error = ""
        self._last_exit = ""
        self._restarts = 0
        self._started_at = 0.0
        self._next_try = 0.0
        self._backoff = 0.0
        self._logged_error = ""
        self.config_path = os.path.join(cfg.config_dir, CONFIG_FILE)
        self.log_path = os.path.join(cfg.config_dir, LOG_FILE)

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        """Start the `go2rtc` thread (it starts go2rtc itself); no-op when disabled."""
        if not self._cfg.enabled or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
        self._thread.start()

    def stop(self, timeout: float) -> None:
        """Stop the thread, then go2rtc, within `timeout` seconds in total."""
        deadline = self._clock.monotonic() + timeout
        self._stop.set()
        t = self._thread
        if t is not None:
            t.join(max(0.0, (deadline - self._clock.monotonic()) / 2))
            if t.is_alive():
                log.error("go2rtc: thread %s overran its stop deadline", t.name)
        self._terminate(max(0.0, deadline - self._clock.monotonic()))
        with self._lock:
            if self._cfg.enabled:
                self._state = Go2rtcState.STOPPED

    def status(self) -> Go2rtcStatus:
        with self._lock:
            proc = self._proc
            running = proc is not None and proc.returncode is None
            return Go2rtcStatus(
                enabled=self._cfg.enabled, state=self._state,
                pid=proc.pid if running and proc is not None else None,
                restarts=self._restarts, error=self._error, last_exit=self._last_exit,
                binary_path=self._cfg.binary_path, api_port=self._cfg.api_port,
                rtsp_port=self._cfg.rtsp_port, webrtc_enabled=self._cfg.webrtc_enabled,
                webrtc_port=self._cfg.webrtc_listen_port,
                streams=tuple(s.name for s in self._serving) if running else (),
                uptime=self._clock.monotonic() - self._started_at if running else 0.0)

    def webrtc_offer(self, src: str, offer: bytes, content_type: str) -> api.ApiAnswer:
        """Hand a browser's SDP offer for stream `src` to go2rtc; raises
        api.Go2rtcUnavailable (with the reason) unless go2rtc is running."""
        st = self.status()
        if not st.ready:
            why = st.error or f"go2rtc is {st.state.value}"
            raise api.Go2rtcUnavailable(why)
        return api.webrtc_offer(self._cfg.api_port, src, offer, content_type)

    # -- the thread ----------------------------------------------------------------------
    def _run(self) -> None:
        log.info("go2rtc: supervisor thread started (binary %s, API 127.0.0.1:%d)",
                 self._cfg.binary_path, self._cfg.api_port)
        hb = None
        if self._heartbeats is not None:
            hb = self._heartbeats.register(THREAD_NAME, HEARTBEAT_MAX_AGE, critical=False)
        try:
            self._safe_tick()  # start go2rtc now, not one period later
            while not self._stop.wait(self._period):
                if hb is not None:
                    hb.beat()
                self._safe_tick()
        finally:
            if self._heartbeats is not None:
                self._heartbeats.unregister(THREAD_NAME, hb)
            log.info("go2rtc: supervisor thread exiting")

    def _safe_tick(self) -> None:
        try:
            self._tick()
        except Exception:  # one failed step (a bad stream list, a full disk) is retried
            log.error("go2rtc: supervision step failed", exc_info=True)

    def _tick(self) -> None:
        wanted = streams_for_go2rtc(self._streams())
        now = self._clock.monotonic()
        with self._lock:
            proc, serving, state = self._proc, self._serving, self._state
        if proc is not None and proc.poll() is not None:
            self._on_exit(proc, now)
            proc = None
        if proc is None:
            if now >= self._next_try:
                self._launch(wanted, now)
            return
        if wanted != serving:
            log.info("go2rtc: stream list changed (now: %s); restarting go2rtc with it",
                     ", ".join(s.name for s in wanted) or "none")
            self._terminate(3.0)
            self._launch(wanted, now)
            return
        if state is Go2rtcState.STARTING:
            if api.alive(self._cfg.api_port):
                with self._lock:
                    if self._proc is proc:
                        self._state, self._error = Go2rtcState.RUNNING, ""
                log.info("go2rtc: running (pid %d), API on 127.0.0.1:%d, %d stream(s)",
                         proc.pid, self._cfg.api_port, len(wanted))
            elif now - self._started_at > self._api_timeout:
                self._no_api(now)
        if state is Go2rtcState.RUNNING and now - self._started_at > YOUNG_SECONDS:
            self._backoff = 0.0  # it lived long enough: the next death restarts at once

    def _on_exit(self, proc: subprocess.Popen[bytes], now: float) -> None:
        code = proc.returncode
        tail = self._log_tail()
        how = f"exited with code {code}" if code is not None and code >= 0 \
            else f"killed by signal {-(code or 0)}"
        # the first death restarts at once; deaths right after a start wait 0.5, 1, 2, 4 s
        delay = self._backoff
        young = now - self._started_at < YOUNG_SECONDS
        self._backoff = min(MAX_BACKOFF_SECONDS, max(0.5, delay * 2)) if young else 0.0
        with self._lock:
            self._proc = None
            self._last_exit = how + (f": {tail}" if tail else "")
            self._state = Go2rtcState.RESTARTING
            self._error = f"go2rtc {self._last_exit}; restarting"
            self._restarts += 1
        self._next_try = now + delay
        log.warning("go2rtc (pid %d) %s; starting it again in %.1fs", proc.pid,
                    self._last_exit, delay)

    def _no_api(self, now: float) -> None:
        """go2rtc runs but its API never answered: stop it and retry like a crash."""
        tail = self._log_tail()
        self._terminate(3.0)
        self._backoff = min(MAX_BACKOFF_SECONDS, max(0.5, self._backoff * 2))
        with self._lock:
            self._last_exit = (f"its API on 127.0.0.1:{self._cfg.api_port} did not answer "
                               f"within {self._api_timeout:g} s (is [go2rtc] api_port in "
                               "use?)" + (f": {tail}" if tail else ""))
            self._state = Go2rtcState.RESTARTING
            self._error = f"go2rtc {self._last_exit}; restarting"
            self._restarts += 1
        self._next_try = now + self._backoff
        log.error("go2rtc: %s; starting it again in %.1fs", self._last_exit, self._backoff)

    def _launch(self, wanted: tuple[Go2rtcStream, ...], now: float) -> None:
        if self._stop.is_set():
            return  # stop() may already have terminated go2rtc: never start another
        binary = self._cfg.binary_path
        problem = ""
        if not os.path.isfile(binary):
            problem = (f"go2rtc binary not found at {binary}: install go2rtc or set "
                       "[go2rtc] binary_path to its executable (or [go2rtc] enabled = false)")
        elif not os.access(binary, os.X_OK):
            problem = (f"go2rtc binary {binary} is not executable: chmod +x it or set "
                       "[go2rtc] binary_path")
        if not problem:
            try:
                write_config(self.config_path, render(self._cfg, wanted))
                self._spawn(binary)
            except OSError as e:
                problem = (f"go2rtc could not be started: {e} ([go2rtc] binary_path = "
                           f"{binary}, config_dir = {self._cfg.config_dir})")
        if problem:
            self._fail(problem, now)
            return
        with self._lock:
            self._serving = wanted
            self._state = Go2rtcState.STARTING
            self._started_at = now
            pid = self._proc.pid if self._proc is not None else 0
        self._logged_error = ""
        log.info("go2rtc: started pid %d (config %s, log %s)", pid, self.config_path,
                 self.log_path)

    def _spawn(self, binary: str) -> None:
        # go2rtc expands ${VAR} in its config: our own settings (TURN password) stay out
        env = {k: v for k, v in os.environ.items() if not k.startswith("LIGHTNVR_")}
        # the child keeps its own copy of the log's descriptor; the previous run's log
        # lives on in last_exit
        with open(self.log_path, "wb") as log_fh:
            proc = subprocess.Popen([binary, "-config", self.config_path],
                                    stdin=subprocess.DEVNULL, stdout=log_fh,
                                    stderr=subprocess.STDOUT, cwd=self._cfg.config_dir,
                                    env=env, close_fds=True)
        with self._lock:
            self._proc = proc

    def _fail(self, problem: str, now: float) -> None:
        with self._lock:
            self._state, self._error = Go2rtcState.ERROR, problem
        self._next_try = now + MISSING_RETRY_SECONDS
        if problem != self._logged_error:  # once per distinct problem, not every retry
            log.error("go2rtc: %s", problem)
            self._logged_error = problem

    def _terminate(self, timeout: float) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(max(0.1, timeout / 2))
            except subprocess.TimeoutExpired:
                log.warning("go2rtc (pid %d) ignored SIGTERM; killing it", proc.pid)
                proc.kill()
                try:
                    proc.wait(max(0.1, timeout / 2))
                except subprocess.TimeoutExpired:
                    log.error("go2rtc (pid %d) did not exit after SIGKILL", proc.pid)
        log.info("go2rtc (pid %d) stopped", proc.pid)

    def _log_tail(self) -> str:
        """go2rtc's last log line (it says why it exited), credentials masked."""
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(max(0, os.path.getsize(self.log_path) - 2048))
                lines = fh.read().decode("utf-8", "replace").strip().splitlines()
        except OSError:
            return ""
        return redact_text(lines[-1].strip())[:300] if lines else ""
