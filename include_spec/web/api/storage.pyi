# lightnvr/web/api/storage.py: routes are added by routes.build_router through register().
from lightnvr.web.context import WebContext
from lightnvr.web.router import Router

STORAGE_JOB_WAIT_SECONDS: float   # cleanup/sync wait this long for the storage thread, then 202 (queued)

def register(router: Router, ctx: WebContext) -> None: ...
