"""Helpers for the stream/recording/media API tests: a real server on a loopback port.

`ApiEnv` wires a real SQLite database, the real repos, the real StorageManager, the real router
with every API module, the real WSGI app and the cheroot server. The stream manager is the only
stand-in (`RecordingStreamManager`, a contract-shaped double that records what the API asked of
it), because these tests check the API's side of that seam; end-to-end behaviour with the real
video pipeline is covered by tests/web/test_concurrency.py against the whole daemon.
"""

from __future__ import annotations

import base64
import http.client
import os
import shutil
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from lightnvr.core.config import parse_config_text
from lightnvr.core.logger import LogRing
from lightnvr.core.recordings_store import SegmentOpened
from lightnvr.core.stream_config import StreamConfig
from lightnvr.database.manager import Database
from lightnvr.database.recordings import RecordingsRepo
from lightnvr.database.streams import StreamsRepo
from lightnvr.storage.manager import StorageManager
from lightnvr.video.stream_manager import ProbeResult, StreamState, StreamStatus
from lightnvr.web.app import WebApp
from lightnvr.web.auth import hash_password
from lightnvr.web.context import WebContext
from lightnvr.web.http import Role
from lightnvr.web.routes import build_router
from lightnvr.web.server import WebServer
from tests.fixtures.accounts import settle_admin_password
from tests.fixtures.db import make_clip as clip_maker

ADMIN_PASSWORD = "admin-Test-pass-1"
_CLIP_LOCK = threading.Lock()


def make_clip(dest: Path, seconds: int = 6, gop: int = 10, fps: int = 10) -> Path:
    """`seconds` of clip (the suite's one clip maker, fixtures/db.py) at `dest`, made once per
    shape and copied."""
    cache = Path(os.environ.get("PYTEST_CLIP_CACHE", "/tmp")) / f"lnvr-clip-{seconds}-{gop}.mp4"
    with _CLIP_LOCK:
        if not cache.exists():
            tmp = cache.with_suffix(f".{os.getpid()}.tmp.mp4")
            clip_maker(tmp, frames=seconds * fps, fps=fps, gop=gop, noise=False)
            os.replace(tmp, cache)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cache, dest)
    return dest


# The stand-in answers with the contract's own types (include_spec/video/stream_manager.pyi).
Status = StreamStatus
State = StreamState
Probe = ProbeResult


@dataclass
class RecordingStreamManager:
    """Contract-shaped stand-in for the video StreamManager that logs every call."""

    hls_root: str
    calls: list[tuple[str, Any]] = field(default_factory=list)
    running: dict[str, StreamConfig] = field(default_factory=dict)
    manual: dict[str, bool] = field(default_factory=dict)
    snapshots: dict[str, bytes] = field(default_factory=dict)

    def apply(self, config: StreamConfig) -> None:
        self.calls.append(("apply", config))
        if config.enabled:
            self.running[config.name] = config
        else:
            self.running.pop(config.name, None)

    def remove(self, name: str) -> None:
        self.calls.append(("remove", name))
        self.running.pop(name, None)
        self.manual.pop(name, None)

    def names(self) -> list[str]:
        return list(self.running)

    def status(self, name: str) -> Status | None:
        if name not in self.running:
            return None
        return Status(name, State.ACTIVE, packets=100, bytes=12345,
                      recording=self.manual.get(name, False) or self.running[name].record)

    def statuses(self) -> list[Status]:
        return [s for s in (self.status(n) for n in self.running) if s is not None]

    def snapshot_jpeg(self, name: str) -> bytes | None:
        return self.snapshots.get(name)

    def hls_dir(self, name: str) -> str:
        return os.path.join(self.hls_root, name)

    def set_manual_recording(self, name: str, on: bool) -> bool:
        if name not in self.running:
            return False
        self.calls.append(("manual", (name, on)))
        self.manual[name] = on
        return True

    def manual_recording(self, name: str) -> bool:
        return self.manual.get(name, False)

    def set_recording_paused(self, reason: str | None) -> None:
        self.calls.append(("paused", reason))

    def live_motion(self, name: str) -> None:
        return None  # no detector runs in the stand-in (the real one: tests/detection)

    def detection_models(self) -> list[Any]:
        return []  # no [models] path in the stand-in (the real list: tests/detection)

    def set_detection_zones(self, name: str, zones: Sequence[Any]) -> None:
        self.calls.append(("zones", (name, [z.id for z in zones])))

    def probe(self, url: str, protocol: int = 0, timeout: float = 10.0) -> Probe:
        self.calls.append(("probe", url))
        if url.startswith("rtsp://good"):
            return Probe(True, video_codec="h264", width=640, height=480, fps=15.0)
        return Probe(False, error=f"cannot open {url}: connection refused")


class Client:
    """A tiny HTTP client for one server; `as_user` picks the credentials."""

    def __init__(self, port: int, auth: str | None) -> None:
        self.port = port
        self.auth = auth

    def request(self, method: str, path: str, body: Any = None,
                headers: dict[str, str] | None = None, raw: bytes | None = None
                ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = {"X-Requested-With": "test"}
        if self.auth:
            h["Authorization"] = self.auth
        data = raw
        if body is not None:
            data = orjson.dumps(body)
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        try:
            conn.request(method, path, body=data, headers=h)
            resp = conn.getresponse()
            payload = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload
        finally:
            conn.close()

    def json(self, method: str, path: str, body: Any = None,
             headers: dict[str, str] | None = None) -> tuple[int, Any]:
        status, h, payload = self.request(method, path, body, headers)
        if h.get("content-type", "").startswith("application/json"):
            return status, orjson.loads(payload)
        return status, payload


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class ApiEnv:
    """One daemon's worth of web stack on a loopback port (see module docstring)."""

    def __init__(self, tmp: Path, extra_ini: str = "") -> None:
        self.tmp = tmp
        self.storage_path = tmp / "recordings"
        self.hls_path = tmp / "hls"
        self.storage_path.mkdir()
        self.hls_path.mkdir()
        ini = (f"[storage]\npath = {self.storage_path}\npath_hls = {self.hls_path}\n"
               f"[database]\npath = {tmp / 'lightnvr.db'}\n"
               f"[web]\nbind_ip = 127.0.0.1\nroot = {tmp / 'www'}\n"
               f"password = {ADMIN_PASSWORD}\nweb_thread_pool_size = 16\n{extra_ini}")
        self.config = parse_config_text(ini)
        self.db = Database(str(tmp / "lightnvr.db"))
        self.db.open()
        self.streams = StreamsRepo(self.db)
        self.recordings = RecordingsRepo(self.db)
        self.storage = StorageManager(self.config.storage, self.db)
        self.manager = RecordingStreamManager(str(self.hls_path))
        self.ctx = WebContext(
            config=self.config, config_path=None, db=self.db, streams=self.streams,
            recordings=self.recordings, stream_manager=self.manager,  # type: ignore[arg-type]
            storage=self.storage, governor=None, pool=None, log_ring=LogRing(100),
            data_dir=str(tmp), started_at=time.time())
        self.app = WebApp(self.ctx, build_router(self.ctx, strict=True))
        self.server = WebServer(self.config.web, self.app, port=0)
        self.server.start()
        self.port = self.server.bound_port
        self.admin_password = settle_admin_password("127.0.0.1", self.port, "admin",
                                                    ADMIN_PASSWORD)
        self.admin = Client(self.port, basic("admin", self.admin_password))
        self.anon = Client(self.port, None)

    def user(self, name: str, role: Role) -> Client:
        """A client authenticated as a new user with `role` (HTTP Basic)."""
        from lightnvr.database.users import UsersRepo

        password = f"pw-{name}-Secret-9"
        digest, salt = hash_password(password)
        UsersRepo(self.db).create(name, digest, salt, int(role))
        return Client(self.port, basic(name, password))

    def add_stream(self, name: str, **kw: Any) -> StreamConfig:
        cfg = StreamConfig(name=name, url=kw.pop("url", f"rtsp://cam.local/{name}"), **kw)
        self.streams.create(cfg)
        return cfg

    def add_recording(self, stream: str, start: float, seconds: int = 6,
                      trigger: str = "scheduled") -> int:
        """A real fMP4 file under the storage path and its complete row."""
        path = self.storage_path / stream / f"rec_{int(start * 1000)}.mp4"
        make_clip(path, seconds)
        seg = SegmentOpened(stream, str(path), start, 320, 240, 10, "h264",
                            trigger)  # type: ignore[arg-type]
        return self.recordings.register(seg, start + seconds, path.stat().st_size)

    def close(self) -> None:
        jobs = self.ctx.extra.get("recording_jobs")
        if jobs is not None:
            jobs.stop(5.0)  # type: ignore[attr-defined]
        self.server.stop(5.0)
        self.db.close()
