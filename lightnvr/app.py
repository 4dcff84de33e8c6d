"""The daemon's wiring: builds every subsystem from the configuration and connects them.

Design: this is the only module that imports every subsystem; subsystems meet here and
nowhere else. Start-up order (each phase is a STATUS= line):
  1. database: open (integrity check, restore from backup, migrations); backup thread
  2. storage: finish interrupted deletions and reconcile files with rows (before any
     recorder opens a file), then the storage thread
  3. memory: the optional swap file ([memory] use_swap), packet pool, the governor thread
  4. video: the stream manager; streams start staggered in the background
  5. web: the cheroot server thread
  6. READY=1, then the core main loop until a signal or an API request stops it
Shutdown order is the ShutdownCoordinator's (docs/architecture.md): web, readers, live
writers, recorders, storage, governor, database, swap file.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from lightnvr import __version__
from lightnvr.core.config import Config
from lightnvr.core.daemon import Daemon
from lightnvr.core.heartbeat import watchdog_max_age
from lightnvr.core.logger import get_log_ring
from lightnvr.core.memory.arena import limit_malloc_arenas
from lightnvr.core.memory.governor import (
    MemoryGovernor,
    MemoryLimits,
    MemoryReading,
    read_process_memory,
)
from lightnvr.core.memory.pool import BufferPool
from lightnvr.core.mqtt.service import MqttService
from lightnvr.core.nvr_events import EventHub, EventKind, StreamState, is_startup_announcement
from lightnvr.core.shutdown import (
    PRIORITY_DATABASE,
    PRIORITY_DETECTION,
    PRIORITY_GOVERNOR,
    PRIORITY_STORAGE,
    PRIORITY_WEB,
)
from lightnvr.core.stream_config import StreamConfig
from lightnvr.core.swap import PRIORITY_SWAP, SwapFile
from lightnvr.database.backup import BackupThread
from lightnvr.database.detection_links import LINK_WINDOW_SECONDS, DetectionLinks
from lightnvr.database.events import EventsRepo
from lightnvr.database.manager import Database
from lightnvr.database.recordings import RecordingsRepo
from lightnvr.database.settings import SettingsRepo
from lightnvr.database.streams import StreamsRepo
from lightnvr.database.zones import ZonesRepo
from lightnvr.storage.manager import StorageManager
from lightnvr.storage.store import CanonicalPathStore
from lightnvr.video.go2rtc.process import PRIORITY_GO2RTC, Go2rtcSupervisor
from lightnvr.video.stream_manager import (
    MOTION_EVENT_DETAIL,
    OBJECT_EVENT_DETAIL,
    StreamManager,
    VideoSettings,
)
from lightnvr.web.api.recordings_batch import JobRegistry
from lightnvr.web.app import WebApp
from lightnvr.web.context import WebContext
from lightnvr.web.routes import build_router
from lightnvr.web.server import WebServer

log = logging.getLogger("lightnvr.app")

MIB = 1024 * 1024
DEMO_STREAM = StreamConfig(name="demo", url="demo://testsrc", segment_duration=60,
                           record_audio=False)
DEMO_SEEDED_KEY = "demo_stream_seeded"


def video_settings(config: Config) -> VideoSettings:
    """The video subsystem's view of the configuration."""
    return VideoSettings(
        storage_path=config.storage.path,
        hls_path=config.storage.path_hls,
        mp4_directory_format=config.storage.mp4_directory_format,
        fsync_interval_seconds=config.storage.fsync_interval_seconds,
        stagger_seconds=config.streams.startup_stagger_seconds,
        reconnect_backoff_initial_seconds=0.5,
        reconnect_backoff_max_seconds=config.streams.reconnect_backoff_max_seconds,
        stall_timeout_seconds=config.streams.stall_timeout_seconds,
        queue_budget_bytes=config.memory.buffer_size * 1024,
        detection_grace_seconds=float(config.detection.grace_period),
        event_snapshot_dir=(os.path.join(config.storage.path, "snapshots")
                            if config.detection.event_snapshots else ""),
        allow_demo=config.general.demo_mode,
        models_path=config.models.path,
        api_detection_url=config.api_detection.url,
        api_detection_backend=config.api_detection.backend,
        cpu_affinity=config.streams.cpu_affinity,
    )


def seed_demo_stream(config: Config, streams: StreamsRepo, settings: SettingsRepo) -> None:
    """With `[general] demo_mode`, add the built-in demo camera once.

    Seeded only the first time, so a user who deletes it does not see it come back.
    """
    if not config.general.demo_mode or settings.get(DEMO_SEEDED_KEY) == "1":
        return
    if streams.get(DEMO_STREAM.name) is None:
        streams.create(DEMO_STREAM)
        log.info("demo mode: added the built-in demo camera as stream '%s'", DEMO_STREAM.name)
    settings.set(DEMO_SEEDED_KEY, "1")


def _data_dir(config: Config) -> str:
    return str(Path(config.database.path).resolve().parent)


def _ensure_dirs(config: Config) -> None:
    for d in (config.storage.path, config.storage.path_hls, _data_dir(config)):
        os.makedirs(d, exist_ok=True)


class _Restart:
    """Set by POST /api/system/restart; acted on after the orderly shutdown."""

    requested = False


def run(config: Config, args: argparse.Namespace) -> int:
    """Start every subsystem, run until stopped, shut down in order; return the exit code."""
    limit_malloc_arenas()  # before any thread exists: per-thread arenas cost tens of MiB
    daemon = Daemon(config, config_path=args.config, verbose=getattr(args, "verbose", False))
    daemon.install_signal_handlers()
    coordinator = daemon.coordinator
    restart = _Restart()
    try:
        _ensure_dirs(config)
        daemon.phase("opening database")
        db = Database(config.database.path, backup_dir=config.database.backup_path or None)
        db.open()
        coordinator.register("database", PRIORITY_DATABASE, lambda _t: db.close(), 10.0)
        backups = BackupThread(db, config.database.backup_interval_minutes,
                               config.database.backup_retention_count,
                               config.database.backup_path or None, daemon.heartbeats)
        backups.start()
        coordinator.register("db-backup", PRIORITY_STORAGE + 1, backups.stop, 10.0)

        streams_repo, recordings = StreamsRepo(db), RecordingsRepo(db)
        seed_demo_stream(config, streams_repo, SettingsRepo(db))

        daemon.phase("memory: packet pool and governor")
        if config.memory.use_swap:  # one line says why if it cannot (core/swap.py, deploy.md)
            swap = SwapFile(config.memory.swap_file, config.memory.swap_size)
            if swap.enable():
                coordinator.register("swap", PRIORITY_SWAP, swap.disable, 30.0)
        pool = BufferPool.from_budget(config.memory.pool_size_mb * MIB)

        def reading() -> MemoryReading:
            r = read_process_memory()
            return MemoryReading(r.rss_bytes, r.available_bytes, pool.utilization())

        governor = MemoryGovernor(MemoryLimits.from_config(config.memory), read=reading,
                                  heartbeats=daemon.heartbeats)
        governor.start()
        coordinator.register("governor", PRIORITY_GOVERNOR, governor.stop, 3.0)

        settings = video_settings(config)
        # a hung recorder or live writer must stop the pings within half of WatchdogSec
        settings.consumer_heartbeat_seconds = watchdog_max_age(
            settings.consumer_heartbeat_seconds, daemon.notifier.watchdog_interval())
        # recorders hand over file names; rows store them relative to the storage path
        manager = StreamManager(settings, pool,
                                CanonicalPathStore(recordings, config.storage.path), governor,
                                daemon.heartbeats)
        manager.register_shutdown(coordinator)

        daemon.phase("storage: reconciling recordings with files")
        storage = StorageManager(config.storage, db, pause_recording=manager.set_recording_paused,
                                 heartbeats=daemon.heartbeats)
        result = storage.reconcile()
        log.info("reconciliation: %s", result)
        storage.start()
        coordinator.register("storage", PRIORITY_STORAGE, storage.stop, 10.0)

        events = _start_events(config, daemon, db, manager, storage)  # docs/mqtt.md

        # optional WebRTC live view (docs/go2rtc.md); idle unless [go2rtc] enabled
        go2rtc = Go2rtcSupervisor(config.go2rtc, manager.configs, daemon.heartbeats)
        if config.go2rtc.enabled:
            coordinator.register("go2rtc", PRIORITY_GO2RTC, go2rtc.stop, 8.0)

        daemon.phase("web server")
        ctx = WebContext(
            config=config, config_path=daemon.config_path, db=db, streams=streams_repo,
            recordings=recordings, stream_manager=manager, storage=storage, governor=governor,
            pool=pool, log_ring=get_log_ring(), data_dir=_data_dir(config),
            started_at=time.time(),
            request_shutdown=lambda: daemon.request_stop("POST /api/system/shutdown"),
            request_restart=lambda: _request_restart(daemon, restart),
        )
        ctx.extra["go2rtc"] = go2rtc  # /api/go2rtc/*, /go2rtc/api/webrtc (web/api/go2rtc.py)
        if events.mqtt is not None:
            ctx.extra["mqtt"] = events.mqtt  # GET /api/mqtt/status (core/mqtt/service.pyi)
        # heartbeats: the web:probe thread keeps "web" fresh only while the server answers.
        server = WebServer(config.web, WebApp(ctx, build_router(ctx)),
                           heartbeats=daemon.heartbeats)
        server.start()
        server.register_shutdown(coordinator)
        jobs = ctx.extra.get("recording_jobs")
        if isinstance(jobs, JobRegistry):  # batch delete/ZIP workers stop right after the web
            coordinator.register("web-jobs", PRIORITY_WEB - 1, jobs.stop, 5.0)
        log.info("web UI and API on http://%s:%d/", server.bind_ip, server.bound_port)

        daemon.phase("starting streams")
        active = streams_repo.list(include_disabled=False)
        zones = ZonesRepo(db)
        for s in active:  # before the detectors start: detections count only in its zones
            manager.set_detection_zones(s.name, zones.list(s.name))
        manager.start(active)
        go2rtc.start()  # after the streams are registered: its first config has them all
        # From the hub's once-a-second snapshot: a second pass over every stream's status
        # each second cost the main thread ~10 % of the GIL at 16 streams.
        daemon.set_status(lambda: _status_line(events.hub.streams()))
    except Exception:
        log.critical("start-up failed", exc_info=True)
        daemon.fail("start-up failed")
    code = daemon.run()
    if restart.requested and code == 0:
        _exec_self()
    return code


def _request_restart(daemon: Daemon, restart: _Restart) -> None:
    restart.requested = True
    daemon.request_stop("POST /api/system/restart")


def _exec_self() -> None:
    """Replace this process with a fresh one (same arguments) after a clean shutdown."""
    log.info("restarting lightnvr %s", __version__)
    logging.shutdown()
    os.execv(sys.executable, [sys.executable, "-m", "lightnvr", *sys.argv[1:]])


def _status_line(streams: Sequence[StreamState]) -> str:
    """systemd's STATUS= text from the event hub's last poll (online = reader active)."""
    up = sum(1 for s in streams if s.online)
    recording = sum(1 for s in streams if s.recording)
    return f"{up}/{len(streams)} streams up, {recording} recording"


class _Events:
    """The event hub and, when `[mqtt] enabled`, the MQTT service fed by it."""

    def __init__(self, hub: EventHub, mqtt: MqttService | None) -> None:
        self.hub = hub
        self.mqtt = mqtt


def _start_events(config: Config, daemon: Daemon, db: Database, manager: StreamManager,
                  storage: StorageManager) -> _Events:
    """Detections, recording/stream state and storage pressure -> events table and MQTT.

    The hub stops just before the MQTT client (both before the readers), so the client
    flushes what the hub handed it; see core/nvr_events.py and core/mqtt/service.py.
    """
    hub = EventHub(heartbeat=daemon.heartbeats.register("events", 30.0, critical=False))
    history = EventsRepo(db)
    hub.add_sink(lambda e: is_startup_announcement(e) or history.record(e))
    # the detectors' detections become rows linked to their clips (detection_links.py)
    links = DetectionLinks(db)
    detectors = (MOTION_EVENT_DETAIL, OBJECT_EVENT_DETAIL)
    hub.add_sink(lambda e: e.kind is EventKind.DETECTION and e.detail in detectors
                 and links.store(e))

    def link_detections() -> None:
        names = manager.names()
        if names:  # no stream, no detection to link: no database transaction every second
            links.link_recent(names, time.time() - LINK_WINDOW_SECONDS)

    hub.add_periodic(link_detections)
    hub.watch_streams(lambda: [StreamState(s.name, s.state.value == "active", s.recording,
                                           s.last_error) for s in manager.briefs()])
    hub.watch_storage(lambda: storage.health().level.name.lower())
    manager.set_event_listener(hub.emit)
    mqtt: MqttService | None = None
    if config.mqtt.enabled and not config.mqtt.broker_host:
        log.error("MQTT: [mqtt] enabled = true but broker_host is empty; MQTT stays off "
                  "(set broker_host to the broker's name or address)")
    elif config.mqtt.enabled:
        mqtt = MqttService(
            config.mqtt, hub, snapshot=manager.snapshot_jpeg,
            set_manual_recording=manager.set_manual_recording,
            manual_recording=manager.manual_recording,
            snapshot_dir=os.path.join(_data_dir(config), "snapshots"),
            heartbeat=daemon.heartbeats.register("mqtt", 30.0, critical=False))
        hub.add_sink(mqtt.handle)
        hub.add_periodic(mqtt.tick)
        mqtt.start()
        daemon.coordinator.register("mqtt", PRIORITY_DETECTION, mqtt.stop, 5.0)
    hub.start()
    daemon.coordinator.register("events", PRIORITY_DETECTION + 1, hub.stop, 5.0)
    return _Events(hub, mqtt)
