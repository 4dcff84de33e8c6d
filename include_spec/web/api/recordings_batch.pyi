# lightnvr/web/api/recordings_batch.py: batch-delete jobs and streamed batch-download ZIPs.
# register() stores its JobRegistry in ctx.extra["recording_jobs"]; the daemon should call
# its stop(timeout) when the web server stops (workers are short-lived daemon threads).
# Nothing here writes to disk: ZIPs are built while they are sent.
from collections.abc import Callable

from lightnvr.web.context import WebContext
from lightnvr.web.router import Router

MAX_JOBS_PER_USER: int
MAX_ZIP_STREAMS: int

class Job:
    id: str
    kind: str
    total: int
    owner: str
    status: str
    current: int
    succeeded: int
    failed: int
    skipped_protected: int

class JobRegistry:
    def __init__(self, max_zip_streams: int = ...) -> None: ...
    @property
    def stopping(self) -> bool: ...
    def add(self, kind: str, total: int, owner: str = "") -> Job: ...   # HTTPError 429 over the limits
    def start(self, kind: str, total: int, work: Callable[[Job], None], owner: str = "") -> Job: ...
    def run_in_thread(self, job: Job, work: Callable[[Job], None]) -> None: ...
    def get(self, job_id: str, kind: str) -> Job: ...
    def stop(self, timeout: float) -> None: ...

def remove_stale_zip_files(data_dir: str) -> None: ...
def register(router: Router, ctx: WebContext) -> None: ...

class BatchApi:   # the batch-delete and batch-download handlers; reached only through register()
    def __init__(self, ctx: WebContext) -> None: ...
