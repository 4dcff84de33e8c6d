"""Recordings batch jobs: batch-delete with progress, and batch-download as a streamed ZIP.

Design: a batch delete runs in one short-lived worker thread `batch-delete:<job>` and the POST
answers 202 with the job id at once; clients poll the progress route. Delete jobs live in a
`JobRegistry` kept in `ctx.extra["recording_jobs"]`; its `stop(timeout)` sets the shared stop
event (workers check it between recordings, ZIP streams between chunks) and joins the workers
against one deadline. Finished jobs are forgotten after JOB_TTL seconds.

A batch download writes nothing to disk (a viewer must not be able to fill the recordings
filesystem and so make retention delete footage — issue #10 item 7). The POST checks the ids
and the caller's quota and answers 202 with a token that is ready at once; GET
`.../result/{token}` builds the ZIP while sending it, in the web worker serving that request:
`zipfile` writes ZIP_STORED members (video does not compress) into a non-seekable in-memory
sink that the response generator drains after every chunk, so at most one chunk is held. The
answer has no Content-Length (chunked) and no Range support. A token is downloaded once.
Limits: MAX_JOBS_PER_USER unfinished jobs of each kind per user and MAX_ZIP_STREAMS ZIP
downloads overall (each holds a web worker while it streams) -> 429 with Retry-After.

Protected recordings are skipped by a batch delete unless an admin sends
`"include_protected": true` (issue #10 item 13); answers count the skipped ones. A segment
still being written is never deleted (its recorder owns the file): it counts as failed.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import threading
import time
import zipfile
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from lightnvr.database.recordings import RecordingQuery
from lightnvr.storage.paths import recording_file
from lightnvr.web import media, scope
from lightnvr.web.api.recordings import iso, parse_time
from lightnvr.web.http import Access, HTTPError, Principal, Request, Response, Role
from lightnvr.web.stream_sink import StreamSink

if TYPE_CHECKING:
    from lightnvr.web.context import WebContext
    from lightnvr.web.router import Router

log = logging.getLogger(__name__)

JOB_TTL = 600.0
ZIP_READY_TTL = 120.0  # a ZIP token not fetched within this is dropped (and stops counting)
MAX_JOBS = 16
MAX_JOBS_PER_USER = 2
MAX_ZIP_STREAMS = 4  # and at most half the web workers: the rest stay free for everything else
MAX_ZIP_IDS = 200
MAX_DELETE_IDS = 100_000
RETRY_AFTER = "10"
_MAX_ID = 2**63 - 1


@dataclass
class Job:
    """Progress of one batch job (guarded by JobRegistry's lock)."""

    id: str
    kind: str  # "delete" | "zip"
    total: int
    owner: str = ""
    status: str = "pending"  # delete: pending | running | complete | error
    # zip: ready (token issued) | running (streaming) | complete | error
    current: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped_protected: int = 0
    message: str = ""
    error: str = ""
    filename: str = "recordings.zip"
    ids: list[int] = field(default_factory=list, repr=False)
    created: float = field(default_factory=time.monotonic)
    finished_at: float | None = None
    thread: threading.Thread | None = field(default=None, repr=False)


class JobRegistry:
    """The batch jobs of one web server: delete workers and ZIP download tokens."""

    def __init__(self, max_zip_streams: int = MAX_ZIP_STREAMS) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._stop = threading.Event()
        self.max_zip_streams = max_zip_streams

    def add(self, kind: str, total: int, owner: str = "") -> Job:
        """Register a job; 429 when `owner` or the server already has too many unfinished."""
        self._expire()
        with self._lock:
            if self._stop.is_set():
                raise HTTPError(503, "server is shutting down")
            live = [j for j in self._jobs.values() if j.finished_at is None]
            if sum(1 for j in live if j.kind == kind and j.owner == owner) >= MAX_JOBS_PER_USER:
                raise HTTPError(429, f"at most {MAX_JOBS_PER_USER} batch {kind} jobs per user "
                                     "at a time; wait for one to finish",
                                {"Retry-After": RETRY_AFTER})
            cap = self.max_zip_streams if kind == "zip" else MAX_JOBS
            if sum(1 for j in live if j.kind == kind) >= cap:
                raise HTTPError(429, f"too many batch {kind} jobs running; try again shortly",
                                {"Retry-After": RETRY_AFTER})
            job = Job(secrets.token_hex(12), kind, total, owner)
            self._jobs[job.id] = job
            return job

    def start(self, kind: str, total: int, work: Callable[[Job], None], owner: str = "") -> Job:
        """Register a job and run `work(job)` in its own named thread (limits as in `add`)."""
        job = self.add(kind, total, owner)
        self.run_in_thread(job, work)
        return job

    def run_in_thread(self, job: Job, work: Callable[[Job], None]) -> None:
        """Run `work(job)` for an `add`ed job in a thread named `batch-<kind>:<id>`."""
        name = f"batch-{job.kind}:{job.id[:8]}"
        job.thread = threading.Thread(target=self._run, args=(job, work), name=name, daemon=True)
        job.thread.start()

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

    def claim(self, job_id: str, kind: str, owner: str, admin: bool) -> Job:
        """Move a ready job to running for its owner (or an admin); 404/409 otherwise."""
        self._expire()
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.kind != kind or not (admin or job.owner == owner):
                raise HTTPError(404, "download not found (a token is valid for "
                                     f"{int(ZIP_READY_TTL)} s and for one download)")
            if job.status != "ready":
                raise HTTPError(409, f"this ZIP was already downloaded (status: {job.status}); "
                                     "start a new batch download")
            job.status = "running"
            return job

    def finish(self, job: Job, status: str, error: str = "") -> None:
        """End a running job once (later calls change nothing)."""
        with self._lock:
            if job.finished_at is None:
                job.status, job.error, job.finished_at = status, error, time.time()

    def get(self, job_id: str, kind: str) -> Job:
        self._expire()
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.kind != kind:
                raise HTTPError(404, "job not found (finished jobs are kept 10 minutes)")
            return replace(job, ids=[])

    def _expire(self) -> None:
        now, mono = time.time(), time.monotonic()
        with self._lock:
            for j in list(self._jobs.values()):
                if (j.finished_at is not None and now - j.finished_at > JOB_TTL) or \
                        (j.status == "ready" and mono - j.created > ZIP_READY_TTL):
                    del self._jobs[j.id]

    def stop(self, timeout: float) -> None:
        """Ask every worker and ZIP stream to stop; join the workers against one deadline."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        with self._lock:
            jobs = list(self._jobs.values())
        for j in jobs:
            if j.thread is not None:
                j.thread.join(max(0.0, deadline - time.monotonic()))
                if j.thread.is_alive():
                    log.warning("%s did not stop within %.1fs", j.thread.name, timeout)


def remove_stale_zip_files(data_dir: str) -> None:
    """Delete ZIPs that versions before the streamed download left in `<data_dir>/tmp`."""
    tmp = os.path.join(data_dir, "tmp")
    try:
        names = os.listdir(tmp)
    except OSError:
        return
    for name in names:
        if name.startswith("batch-") and name.endswith(".zip"):
            try:
                os.unlink(os.path.join(tmp, name))
            except OSError:
                log.warning("cannot remove old batch ZIP %s", name, exc_info=True)


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


def _include_protected(body: dict[str, Any], p: Principal | None) -> bool:
    flag = body.get("include_protected", False)
    if not isinstance(flag, bool):
        raise HTTPError(400, "include_protected: true or false is expected")
    if flag and (p is None or p.role != Role.ADMIN):
        raise HTTPError(403, "include_protected: only an administrator may delete protected "
                             "recordings")
    return flag


def _owner(req: Request) -> str:
    p = req.principal
    return "" if p is None else f"{p.user_id}:{p.username}"


class BatchApi:
    """Handlers of the batch-delete and batch-download routes."""

    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx
        # A ZIP holds a web worker while it streams: at most half of them go to ZIPs.
        workers = ctx.config.web.web_thread_pool_size
        self.jobs = JobRegistry(max(1, min(MAX_ZIP_STREAMS, workers // 2)))
        ctx.extra["recording_jobs"] = self.jobs
        remove_stale_zip_files(ctx.data_dir)

    # -- batch delete ------------------------------------------------------------------------

    def delete_work(self, ids: list[int], include_protected: bool) -> Callable[[Job], None]:
        def work(job: Job) -> None:
            for n, rid in enumerate(ids, 1):
                if self.jobs.stopping:
                    return
                rec = self.ctx.recordings.get(rid)
                if rec is not None and not rec.is_complete:
                    # Still being written: its recorder owns the file (as the single
                    # delete's 409); counted as failed, deleted once it is finished.
                    self.jobs.update(job, current=n, failed=job.failed + 1)
                    continue
                if rec is not None and rec.protected and not include_protected:
                    # Protected since the selection: still never deleted without the flag.
                    self.jobs.update(job, current=n,
                                     skipped_protected=job.skipped_protected + 1)
                    continue
                try:
                    ok = rec is not None and self.ctx.storage.delete_recording(rid)
                except Exception:
                    log.warning("batch delete of recording %d failed", rid, exc_info=True)
                    ok = False
                self.jobs.update(job, current=n, succeeded=job.succeeded + ok,
                                 failed=job.failed + (not ok),
                                 message=f"Deleting recordings... {n}/{len(ids)}")
        return work

    def batch_delete(self, req: Request) -> Response:
        body = req.json_object()
        include_protected = _include_protected(body, req.principal)
        if "ids" in body:
            ids = _ids(body, MAX_DELETE_IDS)
        elif isinstance(body.get("filter"), dict):
            ids = _filter_ids(self.ctx, body["filter"])
        else:
            raise HTTPError(400, "request must contain either an 'ids' array or a 'filter' object")
        ids = scope.reachable_recordings(self.ctx, req, ids)  # the caller's camera tags
        skipped = 0
        if not include_protected:
            protected = self.ctx.recordings.protected_ids(ids)
            ids = [i for i in ids if i not in protected]
            skipped = len(protected)
        job = self.jobs.add("delete", len(ids), _owner(req))
        self.jobs.update(job, skipped_protected=skipped)
        self.jobs.run_in_thread(job, self.delete_work(ids, include_protected))
        return Response.json({"job_id": job.id, "status": "started", "total": len(ids),
                              "skipped_protected": skipped}, 202)

    def delete_progress(self, req: Request) -> Response:
        j = self.jobs.get(req.params["job"], "delete")
        d: dict[str, Any] = {
            "job_id": j.id, "status": j.status, "total": j.total, "current": j.current,
            "succeeded": j.succeeded, "failed": j.failed,
            "skipped_protected": j.skipped_protected, "status_message": j.message,
            "complete": j.status in ("complete", "error")}
        if j.error:
            d["error_message"] = j.error
        return Response.json(d)

    # -- batch download ----------------------------------------------------------------------

    def batch_download(self, req: Request) -> Response:
        body = req.json_object()
        ids = scope.reachable_recordings(self.ctx, req, _ids(body, MAX_ZIP_IDS))
        filename = body.get("filename", "recordings.zip")
        if not isinstance(filename, str) or not filename.strip() or len(filename) > 128:
            raise HTTPError(400, "filename: a string of 1..128 characters is expected")
        job = self.jobs.add("zip", len(ids), _owner(req))
        self.jobs.update(job, ids=ids, status="ready",
                         filename=filename if filename.endswith(".zip") else filename + ".zip")
        return Response.json({"token": job.id, "total": len(ids), "status": "ready"}, 202)

    def zip_status(self, req: Request) -> Response:
        """`complete` with `ready: true` while the token waits (LightNVR clients poll for
        `complete`, then fetch the result); `running` while it streams; then the outcome."""
        j = self.jobs.get(req.params["token"], "zip")
        ready = j.status == "ready"
        return Response.json({"status": "complete" if ready else j.status, "ready": ready,
                              "current": j.current, "total": j.total,
                              "succeeded": j.succeeded, "failed": j.failed, "error": j.error})

    def zip_result(self, req: Request) -> Response:
        p = req.principal
        job = self.jobs.claim(req.params["token"], "zip", _owner(req),
                              p is not None and p.role == Role.ADMIN)
        safe = re.sub(r'[^A-Za-z0-9._ -]', "_", job.filename) or "recordings.zip"
        headers = {"Content-Type": "application/zip",
                   "Content-Disposition": f'attachment; filename="{safe}"'}
        # `close` runs when the server is done with the answer, also when the body never started
        # (HEAD, a client gone before the first chunk): the token must not stay "running".
        return Response(200, self._stream_zip(job), headers,
                        close=lambda: self.jobs.finish(job, "error", "download interrupted"))

    def _stream_zip(self, job: Job) -> Iterator[bytes]:
        sink = StreamSink()
        names: set[str] = set()
        log.info("ZIP download %s started (%d recordings)", job.id[:8], job.total)
        try:
            with zipfile.ZipFile(sink, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
                for n, rid in enumerate(job.ids, 1):
                    ok = yield from self._zip_member(zf, sink, rid, names)
                    if self.jobs.stopping:
                        return  # a cut archive; `close` marks the token interrupted
                    self.jobs.update(job, current=n, succeeded=job.succeeded + ok,
                                     failed=job.failed + (not ok))
            yield sink.take()  # the central directory
            self.jobs.finish(job, "complete")
        finally:
            log.info("ZIP download %s ended (%s, %d/%d)", job.id[:8], job.status,
                     job.succeeded, job.total)

    def _zip_member(self, zf: zipfile.ZipFile, sink: StreamSink, rid: int,
                    names: set[str]) -> Generator[bytes, None, bool]:
        """Write recording `rid` into `zf`, yielding the bytes as they come; returns success."""
        rec = self.ctx.recordings.get(rid)
        path = recording_file(self.ctx.config.storage.path, rec.file_path) if rec else ""
        if rec is None or rec.deleting or not media.is_within(self.ctx.config.storage.path,
                                                              path):
            return False
        name = f"{rec.stream_name}_{iso(rec.start_time).replace(':', '-')}.mp4"
        while name in names:
            name = name[:-4] + f"_{rid}.mp4"
        try:
            src = open(path, "rb")  # noqa: SIM115 - closed below, across yields
        except OSError:
            log.warning("recording %d could not be added to a ZIP", rid, exc_info=True)
            return False
        names.add(name)
        with src:
            st = os.fstat(src.fileno())
            info = zipfile.ZipInfo(name, time.localtime(max(st.st_mtime, 315532800))[:6])
            info.compress_type = zipfile.ZIP_STORED
            info.file_size = st.st_size  # what we send: a growing file is cut at open time
            with zf.open(info, "w", force_zip64=True) as dst:
                remaining = st.st_size
                while remaining > 0:
                    if self.jobs.stopping:
                        break
                    chunk = src.read(min(media.CHUNK, remaining))
                    if not chunk:
                        break  # shrank under us: the member says how much it holds
                    remaining -= len(chunk)
                    dst.write(chunk)
                    yield sink.take()
        return True


def register(router: Router, ctx: WebContext) -> None:
    """Add the batch-delete and batch-download routes."""
    api = BatchApi(ctx)
    add = router.add
    add("POST", "/api/recordings/batch-delete", api.batch_delete, Access.WRITE,
        "Delete many recordings in the background (protected ones only for an admin who "
        "sends include_protected)")
    add("GET", "/api/recordings/batch-delete/progress/{job}", api.delete_progress, Access.READ,
        "Progress of a batch delete")
    add("POST", "/api/recordings/batch-download", api.batch_download, Access.READ,
        "Get a token for a ZIP of recordings")
    add("GET", "/api/recordings/batch-download/status/{token}", api.zip_status, Access.READ,
        "State of a ZIP download")
    add("GET", "/api/recordings/batch-download/result/{token}", api.zip_result, Access.READ,
        "Download the ZIP (built while it is sent)")
