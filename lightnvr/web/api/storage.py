"""Storage API: disk health (the storage manager's view) and an on-demand retention pass."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lightnvr.web.api._nvr_schemas import describe_storage_detection
from lightnvr.web.http import Access, Request, Response

if TYPE_CHECKING:
    from lightnvr.web.context import WebContext
    from lightnvr.web.router import Router

# How long a request waits for the pass it asked for. An idle storage thread finishes one in
# well under this and the caller gets its figures; one busy with a long pass (a full SD card)
# answers 202 at once and runs the queued pass next (LightNVR C always answers "triggered").
STORAGE_JOB_WAIT_SECONDS = 2.0


def register(router: Router, ctx: WebContext) -> None:
    """Add GET /api/storage/health and POST /api/storage/cleanup."""

    def health(req: Request) -> Response:
        h = ctx.storage.health()
        used = max(0, h.total_bytes - h.free_bytes)
        return Response.json({
            # the C project's keys (api_handlers_storage.c) ...
            "pressure_level": h.level.name.lower(), "pressure_level_num": int(h.level),
            "free_space_pct": round(h.free_pct, 2), "free_space_bytes": h.free_bytes,
            "total_space_bytes": h.total_bytes, "used_space_bytes": used,
            "last_cleanup_time": h.last_retention_at or 0,
            "last_cleanup_deleted": h.last_retention_deleted,
            "capacity_target_free_pct": ctx.config.storage.min_free_pct,
            # ... and ours
            "path": h.path, "recordings_bytes": h.recordings_bytes,
            "recordings_count": h.recordings_count, "recording_paused": h.recording_paused,
        })

    def cleanup(req: Request) -> Response:
        r = ctx.storage.cleanup_now(STORAGE_JOB_WAIT_SECONDS)
        if r is None:
            return Response.json({"success": True, "aggressive": False, "queued": True,
                                  "message": "Cleanup queued: it runs after the storage "
                                             "thread's current retention pass"}, 202)
        return Response.json({"success": True, "aggressive": False,
                              "message": "Cleanup finished", "deleted": r.deleted,
                              "freed_bytes": r.freed_bytes, "errors": r.errors})

    describe_storage_detection()
    router.add("GET", "/api/storage/health", health, Access.READ, "Disk space and pressure")
    router.add("POST", "/api/storage/cleanup", cleanup, Access.WRITE, "Run a retention pass now")
