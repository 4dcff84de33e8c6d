"""GET /api/health: unauthenticated, cheap liveness answer for load balancers and scripts."""

from __future__ import annotations

import logging
import time

import lightnvr
from lightnvr.web import openapi as oa
from lightnvr.web.context import WebContext
from lightnvr.web.http import Access, Request, Response
from lightnvr.web.outage_log import OutageLog
from lightnvr.web.router import Router

log = logging.getLogger(__name__)


def register(router: Router, ctx: WebContext) -> None:
    """Add GET /api/health: 200 while the database answers, 503 (logged once per outage,
    with the cause) while it does not."""
    outage = OutageLog(log, "database check of /api/health")

    def health(req: Request) -> Response:
        # One trivial query proves the database answers; nothing heavier runs here.
        db_ok = True
        try:
            with ctx.db.reader() as conn:
                conn.execute("SELECT 1").fetchone()
        except Exception as e:
            db_ok = False
            outage.failed(e, "answering 503")
        else:
            outage.succeeded()
        body = {"status": "ok" if db_ok else "degraded", "healthy": db_ok,
                "database": "ok" if db_ok else "unavailable",
                "version": lightnvr.__version__,
                "uptime": round(max(0.0, time.time() - ctx.started_at), 1),
                "timestamp": int(time.time())}
        return Response.json(body, 200 if db_ok else 503)

    router.add("GET", "/api/health", health, Access.PUBLIC, "Liveness (no authentication)")
    oa.describe("GET", "/api/health", responses={
        200: oa.obj({"status": oa.STRING, "healthy": oa.BOOLEAN, "version": oa.STRING,
                     "uptime": oa.NUMBER}, required=["status", "healthy"])})
