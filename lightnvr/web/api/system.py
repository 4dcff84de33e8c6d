"""/api/system*: info with versions.items, status, logs, logs/clear, audit (admins), restart,
shutdown, backup.

Info carries LightNVR's fields (`versions.items` with its "Base OS" entry from
/etc/os-release, `threads`, `webThreadPoolSize`, `global_retention_days`, `network`).
`POST /api/system/backup` does both backups: ours (a consistent SQLite copy, `path`/`size`)
and LightNVR's JSON export of the configuration and streams (`backupUrl`/`filename`), which is
written beside the SQLite copy and fetched by admins from `GET /api/system/backup/{file}`.
Unlike LightNVR's, the export never holds camera passwords (URLs are redacted, there are no
ONVIF credentials here) and is not put under the web root, where anyone could fetch it.
"""

from __future__ import annotations

import logging
import os
import platform
import re
import sqlite3
import time
from datetime import UTC, datetime
from typing import Any

import orjson
import psutil

import lightnvr
from lightnvr.core.redact import redact_text, redact_url
from lightnvr.web import media, scope
from lightnvr.web import openapi as oa
from lightnvr.web.api.go2rtc import status_json as go2rtc_status
from lightnvr.web.audit import audit_log
from lightnvr.web.context import WebContext
from lightnvr.web.cpu import CpuMeter
from lightnvr.web.http import Access, HTTPError, Request, Response, Role
from lightnvr.web.outage_log import OutageLog
from lightnvr.web.router import Router

log = logging.getLogger(__name__)

LOG_LEVELS = ("error", "warning", "warn", "info", "debug")
_MEM_SCHEMA = oa.obj({"total": oa.INTEGER, "used": oa.INTEGER, "free": oa.INTEGER})
INFO_SCHEMA = oa.obj({
    "version": oa.STRING, "uptime": oa.NUMBER, "cpu": oa.obj(), "memory": _MEM_SCHEMA,
    "systemMemory": _MEM_SCHEMA, "disk": _MEM_SCHEMA, "streams": oa.obj(),
    "recordings": oa.obj(),
    "versions": oa.obj({"items": oa.array(oa.obj({"name": oa.STRING, "version": oa.STRING,
                                                  "category": oa.STRING},
                                                 required=["name", "category"]))},
                       required=["items"]),
}, required=["version", "versions"])

AUDIT_ITEM = oa.obj({"id": oa.INTEGER, "time": oa.NUMBER, "kind": oa.STRING, "actor": oa.STRING,
                     "target": oa.STRING, "ip": oa.STRING, "details": oa.obj()},
                    required=["id", "time", "kind"])


def _disk(path: str, outage: OutageLog | None = None) -> dict[str, int]:
    """Size, used and free bytes of the filesystem holding `path` (zeros when it cannot be
    read; `outage` logs why)."""
    try:
        st = os.statvfs(path)
    except OSError as e:
        if outage is not None:
            outage.failed(e, "disk figures reported as 0")
        return {"total": 0, "used": 0, "free": 0}
    if outage is not None:
        outage.succeeded()
    total, free = st.f_blocks * st.f_frsize, st.f_bavail * st.f_frsize
    return {"total": total, "used": total - st.f_bfree * st.f_frsize, "free": free}


EXPORT_NAME = re.compile(r"^lightnvr_backup_\d{8}_\d{6}\.json$")


def os_release(path: str = "/etc/os-release") -> dict[str, str]:
    """KEY=value pairs of os-release (quotes removed); empty when it cannot be read."""
    out: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                key, sep, value = line.strip().partition("=")
                if sep and key:
                    out[key] = value.strip().strip('"').strip("'")
    except OSError:
        pass
    return out


def base_os_item() -> dict[str, str]:
    """LightNVR's "Base OS" entry: the distribution's name and version, kernel in details."""
    rel = os_release()
    version = rel.get("PRETTY_NAME") or " ".join(
        v for v in (rel.get("NAME"), rel.get("VERSION_ID")) if v) or platform.system()
    uname = platform.uname()
    return {"name": "Base OS", "category": "OS", "version": version,
            "details": f"{uname.system} {uname.release} \u2022 {uname.machine}"}


def _network() -> dict[str, Any]:
    """LightNVR's `network.interfaces` (name, address, mac, up), loopback left out."""
    interfaces: list[dict[str, Any]] = []
    try:
        addrs, stats = psutil.net_if_addrs(), psutil.net_if_stats()
    except (OSError, RuntimeError):
        return {"interfaces": interfaces}
    for name, entries in sorted(addrs.items()):
        if name == "lo":
            continue
        ipv4 = next((a.address for a in entries if a.family.name == "AF_INET"), "")
        mac = next((a.address for a in entries if a.family.name == "AF_PACKET"), "")
        st = stats.get(name)
        interfaces.append({"name": name, "address": ipv4, "mac": mac,
                           "up": bool(st and st.isup)})
    return {"interfaces": interfaces}


def _library_versions() -> list[dict[str, str]]:
    items = [{"name": "LightNVR", "version": lightnvr.__version__, "category": "Application"},
             base_os_item(),
             {"name": "Python", "version": platform.python_version(), "category": "Runtime"},
             {"name": "SQLite", "version": sqlite3.sqlite_version, "category": "Library"},
             {"name": platform.system(), "version": platform.release(), "category": "System"}]
    for name, module in (("cheroot", "cheroot"), ("PyAV", "av"), ("orjson", "orjson")):
        try:
            mod = __import__(module)
            items.append({"name": name, "version": str(getattr(mod, "__version__", "")),
                          "category": "Library"})
        except ImportError:
            continue
    try:
        import av

        ff = av.library_versions.get("libavformat")
        if ff:
            items.append({"name": "FFmpeg libavformat", "version": ".".join(map(str, ff)),
                          "category": "Library"})
    except (ImportError, AttributeError):
        pass
    return items


class SystemApi:
    """The /api/system* handlers. A database or storage failure never fails these answers
    (they show zeros or ``storage: null``); it is logged once per outage with its cause."""

    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx
        self._versions: list[dict[str, str]] | None = None
        self._cpu = CpuMeter()
        self._db_outage = OutageLog(log, "database (recordings figures of /api/system/info)")
        self._disk_outage = OutageLog(log, f"statvfs of storage path {ctx.config.storage.path}")
        self._storage_outage = OutageLog(log, "storage health (/api/system/status)")

    def info(self, req: Request) -> Response:
        """Versions, uptime, CPU, memory (``free`` is the memory available to programs, as
        psutil's ``available``; ``used`` is this process's RSS), disk, streams, recordings."""
        ctx = self.ctx
        vm = psutil.virtual_memory()
        rss = psutil.Process().memory_info().rss
        statuses = ctx.stream_manager.statuses()
        cpu = self._cpu.read()
        try:
            count = ctx.recordings.count()  # the segment being written too, as per stream
            rec_size = ctx.recordings.total_size()
        except Exception as e:
            count, rec_size = 0, 0
            self._db_outage.failed(e, "recordings count and size reported as 0")
        else:
            self._db_outage.succeeded()
        disk = _disk(ctx.config.storage.path, self._disk_outage)
        if self._versions is None:
            self._versions = _library_versions()
        return Response.json({
            "version": lightnvr.__version__,
            "uptime": round(max(0.0, time.time() - ctx.started_at), 1),
            # machine and daemon over the same real interval (web/cpu.py: why not cpu_percent)
            "cpu": {"model": platform.machine(), "cores": cpu.cores, "usage": cpu.machine,
                    "process_usage": cpu.process, "process_cores_pct": cpu.process_of_one_core,
                    "interval": cpu.interval},
            "memory": {"total": vm.total, "used": rss, "free": vm.available},
            "systemMemory": {"total": vm.total, "used": vm.total - vm.available,
                             "free": vm.available},
            "disk": {**disk, "used": rec_size},
            "systemDisk": _disk("/"),
            "streams": {"active": sum(1 for s in statuses if s.state.value == "active"),
                        "total": len(statuses), "max": ctx.config.streams.max_streams},
            "recordings": {"count": count, "size": rec_size},
            "versions": {"items": self._versions},
            "threads": psutil.Process().num_threads(),
            "webThreadPoolSize": ctx.config.web.web_thread_pool_size,
            "global_retention_days": ctx.config.storage.retention_days,
            "network": _network(),
        })

    def status(self, req: Request) -> Response:
        ctx = self.ctx
        seen = scope.visible_streams(ctx, req)  # the caller's camera tags (web/scope.py)
        streams = [{"name": s.name, "state": s.state.value, "recording": s.recording,
                    "error": redact_text(s.last_error, keep_user=False)}
                   for s in ctx.stream_manager.statuses() if seen is None or s.name in seen]
        out: dict[str, Any] = {"status": "ok", "uptime": round(time.time() - ctx.started_at, 1),
                               "streams": streams}
        if ctx.governor is not None:
            out["memory_pressure"] = ctx.governor.level.name.lower()
        try:
            h = ctx.storage.health()
            out["storage"] = {"level": h.level.name.lower(), "free_pct": h.free_pct,
                              "recording_paused": h.recording_paused}
            if h.level.value >= 2:
                out["status"] = "degraded"
        except Exception as e:
            out["storage"] = None
            self._storage_outage.failed(e, "storage reported as null")
        else:
            self._storage_outage.succeeded()
        if any(s["state"] == "error" for s in streams):
            out["status"] = "degraded"
        if ctx.config.go2rtc.enabled:  # optional WebRTC live view (web/api/go2rtc.py)
            out["go2rtc"] = go2rtc_status(ctx, req.principal is not None
                                          and req.principal.role == Role.ADMIN)
        return Response.json(out)

    def logs(self, req: Request) -> Response:
        level = (req.arg("level") or "debug").lower()
        if level not in LOG_LEVELS:
            raise HTTPError(400, "query parameter 'level' must be one of error, warning, "
                                 "info, debug")
        count = req.int_arg("count", 100, 1, 10000)
        records = self.ctx.log_ring.recent("warning" if level == "warn" else level, count)
        logs = [{"timestamp": datetime.fromtimestamp(r.time, UTC).isoformat(timespec="seconds"),
                 "time": r.time, "level": r.level, "logger": r.logger, "message": r.message}
                for r in records]
        return Response.json({"logs": logs, "count": len(logs)})

    def audit(self, req: Request) -> Response:
        """Audit entries newest first; `before` (an id) pages back, `next_before` continues."""
        limit = req.int_arg("limit", 100, 1, 1000)
        before = req.int_arg("before", 0, 0, 2**62) or None
        events = audit_log(self.ctx).page(before, limit)
        more = len(events) == limit and events[-1]["id"] > 1
        return Response.json({"events": events, "count": len(events),
                              "next_before": events[-1]["id"] if more else None})

    def logs_clear(self, req: Request) -> Response:
        self.ctx.log_ring.clear()
        return Response.json({"success": True, "message": "Logs cleared"})

    def restart(self, req: Request) -> Response:
        # The request is acted on once the answer has been written (Response.close).
        return Response(200, Response.json({"success": True, "message": "Restarting"}).body,
                        {"Content-Type": "application/json"}, close=self.ctx.request_restart)

    def shutdown(self, req: Request) -> Response:
        return Response(200, Response.json({"success": True, "message": "Shutting down"}).body,
                        {"Content-Type": "application/json"}, close=self.ctx.request_shutdown)

    def backup(self, req: Request) -> Response:
        db_cfg = self.ctx.config.database
        try:
            path = self.ctx.db.backup(db_cfg.backup_path or None,
                                      keep=max(1, db_cfg.backup_retention_count))
        except OSError as e:
            raise HTTPError(500, f"backup failed: {e.strerror or e}") from None
        size = os.path.getsize(path) if os.path.exists(path) else 0
        filename = self._export(os.path.dirname(path), max(1, db_cfg.backup_retention_count))
        return Response.json({"success": True, "path": path, "size": size,
                              "message": "Backup created successfully",
                              "backupUrl": f"/api/system/backup/{filename}",
                              "filename": filename})

    def export_json(self) -> dict[str, Any]:
        """LightNVR's backup document: version, local timestamp, config with its streams."""
        c = self.ctx.config
        streams = [{"name": s.name, "url": redact_url(s.url), "enabled": s.enabled,
                    "width": s.width, "height": s.height, "fps": s.fps, "codec": s.codec,
                    "record": s.record, "priority": s.priority,
                    "segment_duration": s.segment_duration, "is_onvif": False,
                    "onvif_username": "", "onvif_password": "", "onvif_profile": "",
                    "onvif_port": 0}
                   for s in self.ctx.streams.list()]
        return {"version": lightnvr.__version__,
                "timestamp": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime()),
                "config": {"web_port": c.web.port, "web_bind_ip": c.web.bind_ip,
                           "web_root": c.web.root, "log_file": c.general.log_file,
                           "pid_file": c.general.pid_file, "db_path": c.database.path,
                           "storage_path": c.storage.path,
                           "max_storage_size": c.storage.max_size,
                           "max_streams": c.streams.max_streams, "streams": streams}}

    def _export(self, directory: str, keep: int) -> str:
        """Write the JSON export into `directory`, keep the newest `keep`; its file name."""
        name = time.strftime("lightnvr_backup_%Y%m%d_%H%M%S.json", time.localtime())
        path = os.path.join(directory, name)
        tmp = path + ".tmp"
        try:
            with open(tmp, "wb") as fh:
                os.fchmod(fh.fileno(), 0o600)
                fh.write(orjson.dumps(self.export_json(), option=orjson.OPT_INDENT_2))
            os.replace(tmp, path)
            old = sorted(f for f in os.listdir(directory) if EXPORT_NAME.match(f))[:-keep]
            for f in old:
                os.unlink(os.path.join(directory, f))
        except OSError as e:
            raise HTTPError(500, f"configuration export failed: {e.strerror or e}") from None
        return name

    def backup_file(self, req: Request) -> Response:
        name = req.params.get("file", "")
        if not EXPORT_NAME.match(name):
            raise HTTPError(404, "no such backup")
        db_cfg = self.ctx.config.database
        path = os.path.join(db_cfg.backup_path or self.ctx.db.backup_dir, name)
        if not os.path.isfile(path):
            raise HTTPError(404, "no such backup")
        return media.serve_file(req, path, "application/json", download_name=name)


def register(router: Router, ctx: WebContext) -> None:
    s = SystemApi(ctx)
    done = oa.obj({"success": oa.BOOLEAN, "message": oa.STRING}, required=["success"])
    log_item = oa.obj({"timestamp": oa.STRING, "level": oa.STRING, "logger": oa.STRING,
                       "message": oa.STRING})
    for path in ("/api/system", "/api/system/info"):
        router.add("GET", path, s.info, Access.READ, "System information and versions")
        oa.describe("GET", path, responses={200: INFO_SCHEMA})
    table: list[tuple[str, str, Any, Access, str, dict[str, Any]]] = [
        ("GET", "/api/system/status", s.status, Access.READ, "Health of streams and storage",
         {"responses": {200: oa.obj({"status": oa.STRING, "streams": oa.array(oa.obj())},
                                    required=["status"])}}),
        ("GET", "/api/system/logs", s.logs, Access.ADMIN,
         "Recent log lines from memory (admins: they name every stream; as LightNVR)",
         {"query": {"level": {"type": "string", "enum": list(LOG_LEVELS)},
                    "count": {"type": "integer", "minimum": 1, "maximum": 10000}},
          "responses": {200: oa.obj({"logs": oa.array(log_item), "count": oa.INTEGER},
                                    required=["logs"])}}),
        ("GET", "/api/system/audit", s.audit, Access.ADMIN,
         "Security audit trail: failed logins, lockouts, account and settings changes",
         {"query": {"limit": {"type": "integer", "minimum": 1, "maximum": 1000},
                    "before": {"type": "integer", "minimum": 0, "maximum": 2**62}},
          "responses": {200: oa.obj({"events": oa.array(AUDIT_ITEM), "count": oa.INTEGER,
                                     "next_before": oa.nullable(oa.INTEGER)},
                                    required=["events"])}}),
        ("POST", "/api/system/logs/clear", s.logs_clear, Access.ADMIN, "Clear the log buffer",
         {"responses": {200: done}}),
        ("POST", "/api/system/restart", s.restart, Access.ADMIN, "Restart the daemon",
         {"responses": {200: done}}),
        ("POST", "/api/system/shutdown", s.shutdown, Access.ADMIN, "Stop the daemon",
         {"responses": {200: done}}),
        ("POST", "/api/system/backup", s.backup, Access.ADMIN,
         "Back up the database now and export the configuration and streams as JSON",
         {"responses": {200: oa.obj({"success": oa.BOOLEAN, "path": oa.STRING,
                                     "size": oa.INTEGER, "backupUrl": oa.STRING,
                                     "filename": oa.STRING}, required=["success"])}}),
        ("GET", "/api/system/backup/{file}", s.backup_file, Access.ADMIN,
         "Download a JSON export made by POST /api/system/backup",
         {"params": {"file": oa.STRING}, "responses": {200: oa.obj()}}),
    ]
    for method, path, handler, access, summary, spec in table:
        router.add(method, path, handler, access, summary)
        oa.describe(method, path, summary=summary, **spec)
