"""/api/system*: info with versions.items, status, logs, logs/clear, audit (admins), restart,
shutdown, backup."""

from __future__ import annotations

import logging
import os
import platform
import sqlite3
import time
from datetime import UTC, datetime
from typing import Any

import psutil

import lightnvr
from lightnvr.core.redact import redact_text
from lightnvr.database.recordings import RecordingQuery
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


def _library_versions() -> list[dict[str, str]]:
    items = [{"name": "LightNVR", "version": lightnvr.__version__, "category": "Application"},
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
            _, count = ctx.recordings.query(RecordingQuery(page=1, limit=1))
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
        })

    def status(self, req: Request) -> Response:
        ctx = self.ctx
        streams = [{"name": s.name, "state": s.state.value, "recording": s.recording,
                    "error": redact_text(s.last_error, keep_user=False)}
                   for s in ctx.stream_manager.statuses()]
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
        return Response.json({"success": True, "path": path, "size": size,
                              "message": "Backup created"})


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
        ("GET", "/api/system/logs", s.logs, Access.READ, "Recent log lines from memory",
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
        ("POST", "/api/system/backup", s.backup, Access.ADMIN, "Back up the database now",
         {"responses": {200: oa.obj({"success": oa.BOOLEAN, "path": oa.STRING,
                                     "size": oa.INTEGER}, required=["success"])}}),
    ]
    for method, path, handler, access, summary, spec in table:
        router.add(method, path, handler, access, summary)
        oa.describe(method, path, summary=summary, **spec)
