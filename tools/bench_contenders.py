"""What the benchmarks compare: the whole lightnvr daemon, ffmpeg per camera, LightNVR C.

Each class is a `tools.bench_runner.Contender`:

- `Daemon`: `python -m lightnvr -c CONF` as users run it (web server, database, governor,
  storage thread), started by tests/fixtures/daemon.start_daemon (which also does the first
  admin's forced password change); streams are added through POST /api/streams and it is
  ready when GET /api/streams says every stream records (or, for detectors, analyses).
- `FfmpegPerCamera`: one ffmpeg process per camera, its argv given per benchmark.
- `LightnvrC`: LightNVR C built from its source (docs/performance.md says how), with a
  minimal ini (go2rtc, MQTT, ONVIF off); streams added through its own POST /api/streams.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.fixtures.daemon import DaemonProcess, free_port, start_daemon  # noqa: E402
from tests.fixtures.wait import wait_until  # noqa: E402

StreamBody = Callable[[int, str], dict[str, Any]]  # (stream index, variant) -> API body
READY_TIMEOUT = 90.0


def _stop_process(proc: subprocess.Popen[Any], timeout: float = 20.0) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


class Daemon:
    """The whole lightnvr daemon; `body(i, variant)` is the POST /api/streams body of stream
    i (a variant switch PUTs it to every stream: applied in place, as a user's edit is).

    `ready(stream_json)` says when one stream counts as flowing (default: it records).
    """

    def __init__(self, label: str, body: StreamBody,
                 config: dict[str, dict[str, Any]] | None = None,
                 ready: Callable[[dict[str, Any]], bool] | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.label = label
        self._body = body
        self._config = config or {}
        self._ready = ready or (lambda s: bool(s.get("recording")))
        self._env = env
        self._d: DaemonProcess | None = None
        self._n = 0
        self._variant = ""
        self._dropped_before = 0

    def start(self, workdir: Path) -> None:
        # max_streams as LightNVR C's ini has it, so a ramp may go to 64 or 256 streams.
        config: dict[str, dict[str, Any]] = {
            "general": {"demo_mode": False}, "streams": {"max_streams": 256}, **self._config}
        self._d = start_daemon(workdir / "daemon", config, env=self._env)
        # A user's first minutes: a few API calls before any camera (the idle row's memory).
        for path in ("/api/streams", "/api/system/status", "/api/recordings"):
            self._d.call("GET", path)

    def _streams(self) -> list[dict[str, Any]]:
        assert self._d is not None
        got = self._d.json("/api/streams")
        return list(got if isinstance(got, list) else got.get("streams", []))

    def scale(self, n: int, variant: str) -> None:
        d = self._d
        assert d is not None
        if variant != self._variant:
            for i in range(self._n):
                status, body = d.call("PUT", f"/api/streams/cam{i}", self._body(i, variant))
                if status != 200:
                    raise RuntimeError(f"PUT /api/streams/cam{i}: {status} {body[:200]!r}")
            self._variant = variant
        while self._n < n:
            status, body = d.call("POST", "/api/streams", self._body(self._n, variant))
            if status not in (200, 201):
                raise RuntimeError(f"POST /api/streams: {status} {body[:200]!r}")
            self._n += 1
        if n and not wait_until(lambda: sum(1 for s in self._streams() if self._ready(s)) >= n,
                                READY_TIMEOUT, step=0.5):
            print(f"  warning: {self.label}: not all {n} streams ready", flush=True)
        # Drops before this point are a queue waiting for its first keyframe (a stream
        # joined mid-GOP); what counts is what the measured window loses.
        self._dropped_before = self._dropped(self._streams())

    @staticmethod
    def _dropped(streams: list[dict[str, Any]]) -> int:
        return sum(int((s.get("stats") or {}).get("dropped", 0)) for s in streams)

    def processes(self) -> list[psutil.Process]:
        assert self._d is not None
        return [psutil.Process(self._d.proc.pid)]

    def extra(self) -> dict[str, float]:
        """Packets dropped by the queues (must stay 0) and frames the detectors analysed."""
        streams = self._streams()
        out = {"dropped": float(self._dropped(streams) - self._dropped_before)}
        frames = sum((s.get("detection") or {}).get("frames", 0) for s in streams)
        if frames:
            out["frames"] = float(frames)
        return out

    def stop(self) -> None:
        if self._d is not None:
            try:
                self._d.stop(60)
            finally:
                if self._d.proc.poll() is None:
                    self._d.proc.kill()
                    self._d.proc.wait(10)
        self._d = None


FfmpegArgv = Callable[[int, Path, str], list[str]]  # (camera, workdir, variant) -> argv


class FfmpegPerCamera:
    """One ffmpeg per camera; `argv(i, workdir, variant)` is camera i's command line after
    `ffmpeg`. A variant switch restarts every process with its new command line."""

    def __init__(self, label: str, argv: FfmpegArgv) -> None:
        self.label = label
        self._argv = argv
        self._procs: list[subprocess.Popen[bytes]] = []
        self._dir = Path()
        self._variant = ""

    def start(self, workdir: Path) -> None:
        self._dir = workdir

    def scale(self, n: int, variant: str) -> None:
        if variant != self._variant:
            n = max(n, len(self._procs))
            self.stop()
            self._variant = variant
        while len(self._procs) < n:
            i = len(self._procs)
            cmd = ["ffmpeg", "-nostdin", "-loglevel", "error",
                   *self._argv(i, self._dir, self._variant)]
            # Its complaints about being stopped mid-segment are noise in the table.
            with (self._dir / f"ffmpeg{i}.log").open("wb") as log:
                self._procs.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                                    stderr=log))
        dead = [p.args for p in self._procs if p.poll() is not None]
        if dead:
            raise RuntimeError(f"ffmpeg exited: {dead[0]!r}")

    def processes(self) -> list[psutil.Process]:
        return [psutil.Process(p.pid) for p in self._procs if p.poll() is None]

    def extra(self) -> dict[str, float]:
        return {}

    def stop(self) -> None:
        for p in self._procs:
            if p.poll() is None:
                p.terminate()
        for p in self._procs:
            _stop_process(p, 10)
        self._procs = []


def ffmpeg_record_argv(url: str) -> FfmpegArgv:
    """`-c copy` into 15-minute MP4 segments; variant "live": + an fMP4 HLS playlist of 1 s
    segments from the same process (tee), as one program serving both would."""
    def argv(i: int, d: Path, variant: str) -> list[str]:
        rec = str(d / f"ff{i}_{variant or 'rec'}_%03d.mp4")
        head = ["-rtsp_transport", "tcp", "-i", url, "-map", "0", "-c", "copy"]
        if variant != "live":
            return [*head, "-f", "segment", "-segment_time", "900", "-reset_timestamps", "1",
                    rec]
        hls = d / f"hls{i}"
        hls.mkdir(exist_ok=True)
        return [*head, "-f", "tee",
                f"[f=segment:segment_time=900:reset_timestamps=1]{rec}|"
                f"[f=hls:hls_time=1:hls_list_size=6:hls_flags=delete_segments:"
                f"hls_segment_type=fmp4]{hls / 'index.m3u8'}"]
    return argv


class LightnvrC:
    """LightNVR C from `binary`; variant "live" turns on its live view (`streaming_enabled`:
    its own HLS writer, go2rtc being off) through PUT /api/streams/<name>."""

    def __init__(self, label: str, binary: str, url: str) -> None:
        self.label = label
        self._binary = binary
        self._url = url
        self._variant = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._port = 0
        self._dir = Path()
        self._n = 0

    def start(self, workdir: Path) -> None:
        self._dir = workdir
        self._port = free_port()
        rec = workdir / "rec"
        for d in (rec, workdir / "hls", workdir / "www", workdir / "db"):
            d.mkdir(parents=True, exist_ok=True)
        ini = workdir / "lightnvr.ini"
        ini.write_text("\n".join([
            "[general]", f"pid_file = {workdir / 'lightnvr.pid'}",
            f"log_file = {workdir / 'lightnvr.log'}", "log_level = 1",
            "[storage]", f"path = {rec}", f"path_hls = {workdir / 'hls'}",
            f"mp4_path = {rec / 'mp4'}", "min_free_pct = 0", "mp4_segment_duration = 900",
            "[database]", f"path = {workdir / 'db' / 'lightnvr.db'}",
            "[web]", f"port = {self._port}", "bind_ip = 127.0.0.1", f"root = {workdir / 'www'}",
            "auth_enabled = true", "username = admin", "password = admin",
            "[streams]", "max_streams = 256", "[go2rtc]", "enabled = false",
            "[mqtt]", "enabled = false", "[onvif]", "discovery_enabled = false", ""]))
        log = (workdir / "stderr.log").open("wb")
        self._proc = subprocess.Popen([self._binary, "-c", str(ini)], cwd=workdir,
                                      stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        if not wait_until(lambda: self._up(), 30, step=0.2):
            raise RuntimeError(f"LightNVR C did not answer on port {self._port}: "
                               f"{self._tail()}")

    def _tail(self) -> str:
        logs = [self._dir / "stderr.log", self._dir / "lightnvr.log"]
        return " | ".join(p.read_text(errors="replace")[-600:] for p in logs if p.exists())

    def _call(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self._port, timeout=10)
        auth = base64.b64encode(b"admin:admin").decode()
        headers = {"Authorization": f"Basic {auth}", "Content-Type": "application/json"}
        try:
            conn.request(method, path, body=json.dumps(body) if body is not None else None,
                         headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def _up(self) -> bool:
        if self._proc is not None and self._proc.poll() is not None:
            raise RuntimeError(f"LightNVR C exited with {self._proc.returncode}: "
                               f"{self._tail()}")
        try:
            return self._call("GET", "/api/streams")[0] == 200
        except OSError:
            return False

    def _recording(self) -> int:
        """Streams with an MP4 file that has grown past its header (they record)."""
        names = set()
        for root, _dirs, files in os.walk(self._dir / "rec"):
            for f in files:
                p = Path(root) / f
                if f.endswith(".mp4") and p.stat().st_size > 64 * 1024:
                    names.add(next((f"cam{i}" for i in range(self._n)
                                    if f"cam{i}" in p.relative_to(self._dir).parts
                                    or f.startswith(f"cam{i}_")), str(p)))
        return len(names)

    def _body(self, i: int) -> dict[str, Any]:
        return {"name": f"cam{i}", "url": self._url, "enabled": True, "record": True,
                "streaming_enabled": self._variant == "live", "segment_duration": 900,
                "record_audio": True, "detection_based_recording": False}

    def scale(self, n: int, variant: str) -> None:
        if variant != self._variant:
            self._variant = variant
            for i in range(self._n):
                # 202: LightNVR C applies the change asynchronously (the stream restarts).
                status, answer = self._call("PUT", f"/api/streams/cam{i}", self._body(i))
                if status not in (200, 202):
                    raise RuntimeError(f"LightNVR C PUT /api/streams/cam{i}: {status} "
                                       f"{answer[:200]!r}")
        while self._n < n:
            status, answer = self._call("POST", "/api/streams", self._body(self._n))
            if status not in (200, 201):
                raise RuntimeError(f"LightNVR C POST /api/streams: {status} {answer[:200]!r}")
            self._n += 1
        if n and not wait_until(lambda: self._recording() >= n, READY_TIMEOUT, step=1.0):
            print(f"  warning: {self.label}: {self._recording()} of {n} streams write MP4 "
                  "files", flush=True)

    def processes(self) -> list[psutil.Process]:
        assert self._proc is not None
        main = psutil.Process(self._proc.pid)
        return [main, *main.children(recursive=True)]

    def extra(self) -> dict[str, float]:
        return {}

    def stop(self) -> None:
        if self._proc is not None:
            _stop_process(self._proc, 30)
        self._proc = None
