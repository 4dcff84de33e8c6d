"""GET/POST /api/setup/status: whether the first-run wizard has been completed (LightNVR's shape).

The state lives in `system_settings` under LightNVR's keys (`setup_complete` "1"/"0",
`setup_completed_at` epoch seconds), so an imported LightNVR database keeps it. GET is public,
as in LightNVR (the UI asks before it knows who is signed in); POST, which marks it done
(`{"complete": true}`, the default with no body) or not done again, is for admins.
"""

from __future__ import annotations

import time

from lightnvr.database.settings import SettingsRepo
from lightnvr.web import openapi as oa
from lightnvr.web.context import WebContext
from lightnvr.web.http import Access, HTTPError, Request, Response
from lightnvr.web.router import Router

COMPLETE_KEY = "setup_complete"
COMPLETED_AT_KEY = "setup_completed_at"


def register(router: Router, ctx: WebContext) -> None:
    settings = SettingsRepo(ctx.db)

    def status(req: Request) -> Response:
        complete = settings.get(COMPLETE_KEY) == "1"
        raw = settings.get(COMPLETED_AT_KEY) or "0"
        completed_at = int(raw) if raw.isdigit() else 0
        return Response.json({"complete": complete, "setup_completed_at": completed_at})

    def mark(req: Request) -> Response:
        complete = True
        if req.body():
            value = req.json_object().get("complete", True)
            if not isinstance(value, bool):
                raise HTTPError(400, "field 'complete' must be true or false")
            complete = value
        if complete:
            settings.set_many({COMPLETE_KEY: "1", COMPLETED_AT_KEY: str(int(time.time()))})
        else:
            settings.set(COMPLETE_KEY, "0")
        return Response.json({"success": True})

    router.add("GET", "/api/setup/status", status, Access.PUBLIC,
               "Whether the first-run setup wizard was completed")
    oa.describe("GET", "/api/setup/status", responses={200: oa.obj(
        {"complete": oa.BOOLEAN, "setup_completed_at": oa.INTEGER},
        required=["complete", "setup_completed_at"])})
    router.add("POST", "/api/setup/status", mark, Access.ADMIN,
               "Mark the first-run setup done (or, with complete false, not done)")
    oa.describe("POST", "/api/setup/status", request=oa.obj({"complete": oa.BOOLEAN}),
                request_required=False, responses={200: oa.SUCCESS})
