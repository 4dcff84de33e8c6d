"""Recordings batch jobs: batch-delete with progress and batch-download as a ZIP.

Design: each POST starts one short-lived worker thread (`batch-delete:<job>` or
`batch-zip:<job>`) and answers 202 with the job id at once; clients poll the progress/status
route. Jobs live in a `JobRegistry` kept in `ctx.extra["recording_jobs"]`; its `stop(timeout)`
sets the shared stop event (workers check it between recordings), joins the workers against one
deadline and removes finished ZIP files. Finished jobs are forgotten after JOB_TTL seconds.
ZIPs are written with ZIP_STORED (video does not compress) to a temp file under
`<data_dir>/tmp`, then served with Range like any file and removed when the job expires.
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lightnvr.database.recordings import RecordingQuery
from lightnvr.web import media
from lightnvr.web.api.recordings import iso, parse_time
from lightnvr.web.http import Access, HTTPError, Request, Response

if TYPE_CHECKING:
    from lightnvr.web.context import WebContext
    from lightnvr.web.router import Router

log = logging.getLogger(__name__)

JOB_TTL = 600.0
MAX_JOBS = 16
MAX_ZIP_IDS = 200
MAX_DELETE_IDS = 100_000
_MAX_ID = 2**63 - 1


@dataclass
class Job:
    """Progress of one batch job (guarded by JobRegistry's lock)."""

    id: str
    kind: str  # "delete" | "zip"
    total: int
    status: str = "pending"  # pending | running | complete | error
    current: int = 0
    succeeded: int = 0
    failed: int = 0
    message: str = ""
    error: str = ""
    zip_path: str = ""
    filename: str = "recordings.zip"
    finished_at: float | None = None
    thread: threading.Thread | None = field(default=None, repr=False)


class JobRegistry:
    """The batch jobs of one web server."""

    tmp_dir: str  # where ZIP files are built

    def __init__(self, tmp_dir: str) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._stop = threading.Event()
        self.tmp_dir = tmp_dir

    def start(self, kind: str, total: int, work: Callable[[Job], None]) -> Job:
        """Create a job and run `work(job)` in its own named thread; 503 when too many run."""
        self._expire()
        with self._lock:
            if self._stop.is_set():
                raise HTTPError(503, "server is shutting down")
            if sum(1 for j in self._jobs.values() if j.finished_at is None) >= MAX_JOBS:
                raise HTTPError(503, "too many batch jobs running; try again shortly")
            job = Job(secrets.token_hex(12), kind, total)
            self._jobs[job.id] = job
        name = f"batch-{kind}:{job.id[:8]}"
        job.thread = threading.Thread(target=self._run, args=(job, work), name=name, daemon=True)
        job.thread.start()
        return job

    def _run(self, job: Job, work: Callable[[Job], None]) -> None:
        log.info("%s started (%d items)", threading.current_thread().name, job.total)
        self.update(job, status="running")
        try:
            work(job)
            self.update(job, status="error" if self._stop.is_set() else "complete",
                        error="interrupted by shutdown" if self._stop.is_set() else "")
        except Exception as exc:
            log.error("batch job %s failed", job.id, exc_info=True)
            self.update(job, status="error", error=f"job failed: {type(exc).__name__}")
        finally:
            self.update(job, finished_at=time.time())
            log.info("%s exited (%s)", threading.current_thread().name, job.status)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def update(self, job: Job, **changes: Any) -> None:
        with self._lock:
            for k, v in changes.items():
                setattr(job, k, v)

    def get(self, job_id: str, kind: str) -> Job:
        self._expire()
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.kind != kind:
                raise HTTPError(404, "job not found (finished jobs are kept 10 minutes)")
            return Job(**{k: getattr(job, k) for k in Job.__dataclass_fields__})

    def _expire(self) -> None:
        now = time.time()
        with self._lock:
            old = [j for j in self._jobs.values()
                   if j.finished_at is not None and now - j.finished_at > JOB_TTL]
            for j in old:
                del self._jobs[j.id]
        for j in old:
            _unlink(j.zip_path)

    def stop(self, timeout: float) -> None:
        """Ask every worker to stop, join them against one deadline, remove ZIP files."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        with self._lock:
            jobs = list(self._jobs.values())
        for j in jobs:
            if j.thread is not None:
                j.thread.join(max(0.0, deadline - time.monotonic()))
                if j.thread.is_alive():
                    log.warning("%s did not stop within %.1fs", j.thread.name, timeout)
            _unlink(j.zip_path)


def _unlink(path: str) -> None:
    if path:
        try:
            os.unlink(path)
        except OSError:
            pass


def _ids(body: dict[str, Any], limit: int) -> list[int]:
    ids = body.get("ids")
    if not isinstance(ids, list) or not 0 < len(ids) <= limit:
        raise HTTPError(400, f"ids: an array of 1..{limit} recording ids is required")
    for i in ids:
        if isinstance(i, bool) or not isinstance(i, int) or not 0 < i <= _MAX_ID:
            raise HTTPError(400, "ids: every id must be a positive integer")
    return list(dict.fromkeys(ids))


def _filter_ids(ctx: WebContext, flt: dict[str, Any]) -> list[int]:
    """Ids matching a C-style batch-delete filter {start, end, stream|stream_name, detection}."""
    stream = flt.get("stream_name", flt.get("stream"))
    if stream is not None and not isinstance(stream, str):
        raise HTTPError(400, "filter.stream: must be a string")
    start, end = flt.get("start"), flt.get("end")
    for key, v in (("start", start), ("end", end)):
        if (v is not None and not isinstance(v, (str, int, float))) or isinstance(v, bool):
            raise HTTPError(400, f"filter.{key}: must be ISO 8601 or epoch seconds")
    det = flt.get("detection")
    if det is not None and det not in (0, 1, -1):
        raise HTTPError(400, "filter.detection: must be 0, 1 or -1")
    q = RecordingQuery(stream=stream or None,
                       start=parse_time(None if start is None else str(start), "filter.start"),
                       end=parse_time(None if end is None else str(end), "filter.end"),
                       has_detection=None if not det else det == 1,
                       limit=1000, sort="id", order="asc")
    out: list[int] = []
    while True:
        rows, total = ctx.recordings.query(q)
        out.extend(r.id for r in rows)
        if len(rows) < q.limit or len(out) >= min(total, MAX_DELETE_IDS):
            return out[:MAX_DELETE_IDS]
        q.page += 1


class BatchApi:
    """Handlers of the batch-delete and batch-download routes."""

    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx
        self.tmp_dir = os.path.join(ctx.data_dir, "tmp")
        self.jobs = JobRegistry(self.tmp_dir)
        ctx.extra["recording_jobs"] = self.jobs

    def delete_work(self, ids: list[int]) -> Callable[[Job], None]:
        def work(job: Job) -> None:
            for n, rid in enumerate(ids, 1):
                if self.jobs.stopping:
                    return
                try:
                    ok = self.ctx.storage.delete_recording(rid)
                except Exception:
                    log.warning("batch delete of recording %d failed", rid, exc_info=True)
                    ok = False
                self.jobs.update(job, current=n, succeeded=job.succeeded + ok,
                            failed=job.failed + (not ok),
                            message=f"Deleting recordings... {n}/{len(ids)}")
        return work

    def batch_delete(self, req: Request) -> Response:
        body = req.json_object()
        if "ids" in body:
            ids = _ids(body, MAX_DELETE_IDS)
        elif isinstance(body.get("filter"), dict):
            ids = _filter_ids(self.ctx, body["filter"])
        else:
            raise HTTPError(400, "request must contain either an 'ids' array or a 'filter' object")
        job = self.jobs.start("delete", len(ids), self.delete_work(ids))
        return Response.json({"job_id": job.id, "status": "started", "total": len(ids)}, 202)

    def delete_progress(self, req: Request) -> Response:
        j = self.jobs.get(req.params["job"], "delete")
        d: dict[str, Any] = {
            "job_id": j.id, "status": j.status, "total": j.total, "current": j.current,
            "succeeded": j.succeeded, "failed": j.failed, "status_message": j.message,
            "complete": j.status in ("complete", "error")}
        if j.error:
            d["error_message"] = j.error
        return Response.json(d)

    def zip_work(self, ids: list[int]) -> Callable[[Job], None]:
        def work(job: Job) -> None:
            os.makedirs(self.tmp_dir, exist_ok=True)
            fd, path = tempfile.mkstemp(prefix="batch-", suffix=".zip", dir=self.tmp_dir)
            self.jobs.update(job, zip_path=path)
            names: set[str] = set()
            with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED,
                                                              allowZip64=True) as zf:
                for n, rid in enumerate(ids, 1):
                    if self.jobs.stopping:
                        return
                    ok = _add_to_zip(self.ctx, zf, rid, names)
                    self.jobs.update(job, current=n, succeeded=job.succeeded + ok,
                                failed=job.failed + (not ok))
        return work

    def batch_download(self, req: Request) -> Response:
        body = req.json_object()
        ids = _ids(body, MAX_ZIP_IDS)
        filename = body.get("filename", "recordings.zip")
        if not isinstance(filename, str) or not filename.strip() or len(filename) > 128:
            raise HTTPError(400, "filename: a string of 1..128 characters is expected")
        job = self.jobs.start("zip", len(ids), self.zip_work(ids))
        self.jobs.update(job, filename=filename if filename.endswith(".zip") else filename + ".zip")
        return Response.json({"token": job.id, "total": len(ids)}, 202)

    def zip_status(self, req: Request) -> Response:
        j = self.jobs.get(req.params["token"], "zip")
        return Response.json({"status": j.status, "current": j.current, "total": j.total,
                              "succeeded": j.succeeded, "failed": j.failed, "error": j.error})

    def zip_result(self, req: Request) -> Response:
        j = self.jobs.get(req.params["token"], "zip")
        if j.status != "complete":
            raise HTTPError(409, f"the ZIP is not ready (status: {j.status})")
        return media.serve_file(req, j.zip_path, "application/zip", download_name=j.filename)



def register(router: Router, ctx: WebContext) -> None:
    """Add the batch-delete and batch-download routes."""
    api = BatchApi(ctx)
    add = router.add
    add("POST", "/api/recordings/batch-delete", api.batch_delete, Access.WRITE,
        "Delete many recordings in the background")
    add("GET", "/api/recordings/batch-delete/progress/{job}", api.delete_progress, Access.READ,
        "Progress of a batch delete")
    add("POST", "/api/recordings/batch-download", api.batch_download, Access.READ,
        "Start building a ZIP of recordings")
    add("GET", "/api/recordings/batch-download/status/{token}", api.zip_status, Access.READ,
        "Progress of a ZIP job")
    add("GET", "/api/recordings/batch-download/result/{token}", api.zip_result, Access.READ,
        "Download a finished ZIP")


def _add_to_zip(ctx: WebContext, zf: zipfile.ZipFile, rid: int, names: set[str]) -> bool:
    rec = ctx.recordings.get(rid)
    if rec is None or rec.deleting or not media.is_within(ctx.config.storage.path,
                                                         rec.file_path):
        return False
    name = f"{rec.stream_name}_{iso(rec.start_time).replace(':', '-')}.mp4"
    while name in names:
        name = name[:-4] + f"_{rid}.mp4"
    try:
        with open(rec.file_path, "rb") as src:
            info = zipfile.ZipInfo.from_file(rec.file_path, name)
            info.compress_type = zipfile.ZIP_STORED
            with zf.open(info, "w", force_zip64=True) as dst:
                while chunk := src.read(media.CHUNK):
                    dst.write(chunk)
    except OSError:
        log.warning("recording %d could not be added to a ZIP", rid, exc_info=True)
        return False
    names.add(name)
    return True
