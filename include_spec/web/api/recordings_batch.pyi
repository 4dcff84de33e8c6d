# lightnvr/web/api/recordings_batch.py: batch-delete and batch-download jobs.
# register() stores its JobRegistry in ctx.extra["recording_jobs"]; the daemon should call
# its stop(timeout) when the web server stops (workers are short-lived daemon threads).
from collections.abc import Callable
from lightnvr.web.context import WebContext
from lightnvr.web.router import Router

class Job:
    id: str
    kind: str
    total: int
    status: str
    current: int
    succeeded: int
    failed: int

class JobRegistry:
    tmp_dir: str
    def __init__(self, tmp_dir: str) -> None: ...
    def start(self, kind: str, total: int, work: Callable[[Job], None]) -> Job: ...
    def get(self, job_id: str, kind: str) -> Job: ...
    def stop(self, timeout: float) -> None: ...

def register(router: Router, ctx: WebContext) -> None: ...
