"""Recordings API: list with filters and paging, get, delete, play, download, thumbnails, protect,
retention override, tags, sync (batch jobs live in recordings_batch.py).

List items follow the C project's shape (api_handlers_recordings_list.c): `stream`, ISO 8601
`start_time`/`end_time` plus `*_unix` epochs, `duration`, human `size`, `capture_method`,
`has_detection`, `detection_labels`, `tags`. A segment still being written (`is_complete` false,
listed with `?include_incomplete=1`) carries `"recording": true`, and its `end_time`/`size`
are its live edge: the file's last write and current size (it is fragmented MP4, playable as it
grows). `?label=` (alias of `detection_label`) keeps the
recordings with a detection of that label; `GET /api/recordings/{id}/detections` lists the
detections a recording shows.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import os
import time
from typing import TYPE_CHECKING, Any

from lightnvr.database.detections import DetectionsRepo
from lightnvr.database.recordings import SORT_COLUMNS, RecordingQuery
from lightnvr.storage.paths import recording_file as stored_file
from lightnvr.web import media, scope
from lightnvr.web import openapi as oa
from lightnvr.web.api._nvr_schemas import describe_recordings
from lightnvr.web.api.storage import STORAGE_JOB_WAIT_SECONDS
from lightnvr.web.http import Access, HTTPError, Request, Response, Role

if TYPE_CHECKING:
    from lightnvr.database.recordings import Recording
    from lightnvr.web.context import WebContext
    from lightnvr.web.router import Router

MAX_LIMIT = 1000
MAX_TAGS = 32
MAX_TAG_LENGTH = 64
MAX_DETECTIONS = 1000  # per recording page; a busy hour of motion at a 1 s interval is 3600
_MAX_ID = 2**63 - 1


def parse_time(raw: str | None, name: str) -> float | None:
    """Query time `raw` (epoch seconds or ISO 8601; naive means UTC) or None; 400 otherwise."""
    if raw is None or raw.strip() == "":
        return None
    raw = raw.strip()
    try:
        value = float(raw)
    except ValueError:
        pass
    else:
        if not math.isfinite(value) or not 0 <= value < 1e11:
            raise HTTPError(400, f"query parameter '{name}' is out of range")
        return value
    try:
        dt = datetime.datetime.fromisoformat(raw.replace(" ", "T") if "T" not in raw else raw)
    except ValueError:
        raise HTTPError(400, f"query parameter '{name}' must be epoch seconds or ISO 8601 "
                             "(e.g. 2024-05-01T12:00:00Z)") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.UTC)  # the C API treats zone-less times as UTC
    return dt.timestamp()


def iso(ts: float | None) -> str:
    if ts is None:
        return ""
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def recording_id(req: Request, key: str = "id", suffix: str = "") -> int:
    raw = req.params.get(key, "")
    if suffix and raw.endswith(suffix):
        raw = raw[:-len(suffix)]
    if not raw.isdigit() or not 0 < int(raw) <= _MAX_ID:
        raise HTTPError(400, f"invalid recording id '{raw[:40]}': a positive integer is required")
    return int(raw)


def get_recording(ctx: WebContext, rid: int, req: Request | None = None) -> Recording:
    """Recording `rid` (404 if gone); with `req`, 403 when the caller's camera tags do not
    reach its stream (web/scope.py)."""
    rec = ctx.recordings.get(rid)
    if rec is None or rec.deleting:
        raise HTTPError(404, f"recording {rid} not found")
    if req is not None:
        scope.require_stream(ctx, req, rec.stream_name)
    return rec


def recording_file(ctx: WebContext, rec: Recording) -> str:
    """The recording's file path, refused (404) if it lies outside the recordings root."""
    path = stored_file(ctx.config.storage.path, rec.file_path)  # the one resolver (paths.py)
    if not media.is_within(ctx.config.storage.path, path):
        raise HTTPError(404, f"recording {rec.id} has no file under the storage path")
    return path


def live_edge(ctx: WebContext, rec: Recording) -> tuple[float, int] | None:
    """(end time, size) of a segment still being written, from its file; None when complete.

    The recorder writes each fragment through as it closes (docs/storage.md, Recording step 3),
    so the file's mtime is the wall time of its newest playable second."""
    if rec.is_complete:
        return None
    try:
        st = os.stat(stored_file(ctx.config.storage.path, rec.file_path))
    except OSError:
        return rec.start_time, 0
    return max(rec.start_time, min(st.st_mtime, time.time())), st.st_size


def overlapping(ctx: WebContext, stream: str, start: float, end: float) -> list[Recording]:
    """The stream's recordings overlapping [start, end], the open one judged by its live edge
    (its row has no end time yet, so the range query alone would miss it), by start."""
    rows = {r.id: r for r in ctx.recordings.in_range(stream, start, end)}
    for r in ctx.recordings.incomplete():
        if r.stream_name == stream and r.start_time <= end:
            rows[r.id] = r
    out = []
    for r in rows.values():
        live = live_edge(ctx, r)
        if live is not None and (live[1] == 0 or live[0] < start):
            continue  # no file yet, or it ends before the range
        out.append(r)
    return sorted(out, key=lambda r: (r.start_time, r.id))


def recording_json(rec: Recording, tags: list[str],
                   labels: list[tuple[str, int]],
                   live: tuple[float, int] | None = None) -> dict[str, Any]:
    if live is not None:  # shown as it is now; the row itself stays incomplete
        rec = dataclasses.replace(rec, end_time=live[0], size_bytes=live[1])
    d = rec.to_dict()
    d["recording"] = live is not None
    end = rec.end_time if rec.end_time is not None else rec.start_time
    d.update({
        "stream": rec.stream_name, "start_time": iso(rec.start_time), "end_time": iso(end),
        "start_time_unix": rec.start_time, "end_time_unix": end,
        "duration": round(max(0.0, end - rec.start_time)),
        "capture_method": rec.trigger_type,
        "has_detection": rec.trigger_type == "detection" or bool(labels),
        "detection_labels": [{"label": lb, "count": n} for lb, n in labels],
        "tags": tags,
    })
    return d


def _tri(req: Request, name: str, true: tuple[str, ...], false: tuple[str, ...]) -> bool | None:
    raw = (req.arg(name) or "").strip().lower()
    if raw in ("", "0", "all") and "0" not in false:
        return None
    if raw in true:
        return True
    if raw in false:
        return False
    if raw == "":
        return None
    raise HTTPError(400, f"query parameter '{name}' must be one of "
                         f"{', '.join(true + false)}")


def build_query(req: Request) -> RecordingQuery:
    """The RecordingQuery of `GET /api/recordings`; 400 naming any bad parameter."""
    limit_raw = (req.arg("limit") or "").strip().lower()
    limit = MAX_LIMIT if limit_raw == "all" else req.int_arg("limit", 20, 1, MAX_LIMIT)
    sort = req.arg("sort") or "start_time"
    if sort not in SORT_COLUMNS:
        raise HTTPError(400, f"query parameter 'sort' must be one of {', '.join(SORT_COLUMNS)}")
    order = (req.arg("order") or "desc").lower()
    if order not in ("asc", "desc"):
        raise HTTPError(400, "query parameter 'order' must be 'asc' or 'desc'")
    trigger = req.arg("capture_method") or req.arg("trigger_type") or None
    if trigger == "motion":  # the C project's fourth capture method; ours records it as detection
        trigger = "detection"
    q = RecordingQuery(
        stream=req.arg("stream") or None, start=parse_time(req.arg("start"), "start"),
        end=parse_time(req.arg("end"), "end"), page=req.int_arg("page", 1, 1, 1_000_000),
        limit=limit, sort=sort, order=order,
        protected=_tri(req, "protected", ("1", "true"), ("0", "false")),
        trigger_type=trigger, tag=req.arg("tag") or None,
        has_detection=_tri(req, "has_detection", ("1", "true"), ("-1", "false")),
        detection_label=req.arg("label") or req.arg("detection_label") or None,
        include_incomplete=(req.arg("include_incomplete") or "").lower() in ("1", "true"))
    try:
        return q.validate()
    except ValueError as exc:
        raise HTTPError(400, f"invalid query: {exc}") from None


def _tags_from(body: dict[str, Any]) -> list[str]:
    tags = body.get("tags")
    if not isinstance(tags, list) or len(tags) > MAX_TAGS:
        raise HTTPError(400, f"tags: an array of at most {MAX_TAGS} strings is required")
    for t in tags:
        if not isinstance(t, str) or not 0 < len(t.strip()) <= MAX_TAG_LENGTH \
                or any(ord(c) < 32 for c in t):
            raise HTTPError(400, f"tags: each tag must be 1..{MAX_TAG_LENGTH} printable "
                                 "characters")
    return [t.strip() for t in tags]


class RecordingsApi:
    """Handlers of the /api/recordings routes (batch jobs: recordings_batch.py)."""

    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx
        self.detections = DetectionsRepo(ctx.db)
        self.thumbs = media.ThumbnailMaker()

    def item(self, rec: Recording) -> dict[str, Any]:
        end = rec.end_time if rec.end_time is not None else rec.start_time
        live = live_edge(self.ctx, rec)
        if live is not None:
            end = live[0]
        labels = self.detections.labels_summary(rec.stream_name, rec.start_time, end)
        return recording_json(rec, self.ctx.recordings.tags(rec.id), labels, live)

    def list_recordings(self, req: Request) -> Response:
        q = build_query(req)
        seen = scope.visible_streams(self.ctx, req)
        if seen is not None:
            q = dataclasses.replace(q, streams=tuple(sorted(seen)))
        rows, total = self.ctx.recordings.query(q)
        return Response.json({
            "recordings": [self.item(r) for r in rows],
            "pagination": {"page": q.page, "limit": q.limit, "total": total,
                           "pages": (total + q.limit - 1) // q.limit}})

    def get_one(self, req: Request) -> Response:
        return Response.json(self.item(get_recording(self.ctx, recording_id(req), req)))

    def list_detections(self, req: Request) -> Response:
        """Detections of the recording's stream within its time span, oldest first.

        By time and not by `recording_id`: a clip's detections may predate the row that links
        them (external triggers), and a continuous segment shows detections it was never linked
        to. The span is what the viewer sees, so it is what the page lists."""
        rec = get_recording(self.ctx, recording_id(req), req)
        end = rec.end_time if rec.end_time is not None else rec.start_time
        rows = self.detections.in_range(rec.stream_name, rec.start_time, end, MAX_DETECTIONS)
        items = [{**d.to_dict(), "offset": round(d.timestamp - rec.start_time, 3)}
                 for d in reversed(rows)]
        return Response.json({"recording_id": rec.id, "detections": items,
                              "count": len(items)})

    def delete_one(self, req: Request) -> Response:
        rid = recording_id(req)
        rec = get_recording(self.ctx, rid, req)
        force = (req.arg("force") or "").lower() in ("1", "true")
        if not rec.is_complete:
            # The recorder still writes it; it completes the row when the segment closes.
            raise HTTPError(409, f"recording {rid} is still being written: delete it once its "
                                 "segment has closed")
        if rec.protected and not (force and req.principal and req.principal.role == Role.ADMIN):
            # issue #10 item 13: a protected recording goes only on an admin's explicit word.
            raise HTTPError(409, f"recording {rid} is protected: unprotect it first "
                                 "(an administrator may add ?force=true)")
        # The storage manager removes the file, its thumbnails and the row (storage.md Deletion).
        if not self.ctx.storage.delete_recording(rid):
            raise HTTPError(404, f"recording {rid} not found")
        return Response.json({"success": True, "id": rid})

    def play(self, req: Request) -> Response:
        # `{id}.mp4` too: HLS clients such as ffmpeg only fetch segment URLs with an extension.
        rec = get_recording(self.ctx, recording_id(req, suffix=".mp4"), req)
        return media.serve_file(req, recording_file(self.ctx, rec), "video/mp4",
                                headers={"Cache-Control": "private, max-age=60"})

    def download(self, req: Request) -> Response:
        rec = get_recording(self.ctx, recording_id(req), req)
        path = recording_file(self.ctx, rec)
        name = f"{rec.stream_name}_{iso(rec.start_time).replace(':', '-')}.mp4"
        return media.serve_file(req, path, "video/mp4", download_name=name)

    def thumbnail(self, req: Request) -> Response:
        rec = get_recording(self.ctx, recording_id(req), req)
        n = max(1, self.ctx.config.storage.thumbnails_per_recording)
        raw = req.params.get("idx", "")
        if not raw.isdigit() or int(raw) >= n:
            raise HTTPError(400, f"thumbnail index must be 0..{n - 1}")
        path = recording_file(self.ctx, rec)
        end = rec.end_time if rec.end_time is not None else rec.start_time
        jpeg = self.thumbs.get(path, int(raw), n, max(0.0, end - rec.start_time))
        if jpeg is None:
            raise HTTPError(404, f"recording {rec.id} has no decodable frame for a thumbnail")
        return media.serve_file(req, jpeg, "image/jpeg",
                                headers={"Cache-Control": "private, max-age=3600"})

    def protect(self, req: Request) -> Response:
        rid = recording_id(req)
        value = req.json_object().get("protected")
        if not isinstance(value, bool):
            raise HTTPError(400, "protected: true or false is required")
        get_recording(self.ctx, rid, req)
        if self.ctx.recordings.set_protected([rid], value) == 0:
            raise HTTPError(404, f"recording {rid} not found")
        return Response.json({"success": True, "id": rid, "protected": value,
                              "message": "Recording protected" if value
                              else "Recording unprotected"})

    def retention(self, req: Request) -> Response:
        rid = recording_id(req)
        days = req.json_object().get("retention_days")
        if isinstance(days, bool) or not isinstance(days, int) or not -1 <= days <= 36500:
            raise HTTPError(400, "retention_days: an integer -1..36500 is required "
                                 "(-1 removes the override)")
        get_recording(self.ctx, rid, req)
        if not self.ctx.recordings.set_retention_override(rid, None if days < 0 else days):
            raise HTTPError(404, f"recording {rid} not found")
        return Response.json({"success": True, "id": rid, "retention_days": days,
                              "message": "Retention override removed, using stream default"
                              if days < 0 else "Custom retention set"})

    def get_tags(self, req: Request) -> Response:
        rid = recording_id(req)
        get_recording(self.ctx, rid, req)
        return Response.json({"id": rid, "tags": self.ctx.recordings.tags(rid)})

    def put_tags(self, req: Request) -> Response:
        rid = recording_id(req)
        tags = _tags_from(req.json_object())
        get_recording(self.ctx, rid, req)
        self.ctx.recordings.set_tags(rid, tags)
        return Response.json({"success": True, "id": rid, "tags": self.ctx.recordings.tags(rid)})

    def all_tags(self, req: Request) -> Response:
        """Tags in use on the recordings of the streams the caller's camera tags reach."""
        seen = scope.visible_streams(self.ctx, req)
        return Response.json({"tags": self.ctx.recordings.all_tags(
            None if seen is None else sorted(seen))})

    def protected(self, req: Request) -> Response:
        stream = req.arg("stream") or None
        seen = scope.visible_streams(self.ctx, req)
        _, total = self.ctx.recordings.query(RecordingQuery(
            stream=stream, protected=True, limit=1,
            streams=None if seen is None else tuple(sorted(seen))))
        return Response.json({"protected_count": total,
                              **({"stream_name": stream} if stream else {})})

    def batch_protect(self, req: Request) -> Response:
        body = req.json_object()
        ids, value = body.get("ids"), body.get("protected")
        if not isinstance(ids, list) or not 0 < len(ids) <= 10000:
            raise HTTPError(400, "ids: an array of 1..10000 recording ids is required")
        if not isinstance(value, bool):
            raise HTTPError(400, "protected: true or false is required")
        good = [i for i in ids if isinstance(i, int) and not isinstance(i, bool)
                and 0 < i <= _MAX_ID]
        seen = scope.visible_streams(self.ctx, req)
        if seen is not None:  # recordings of streams out of the caller's tags are skipped
            good = [i for i in good if (r := self.ctx.recordings.get(i)) is not None
                    and r.stream_name in seen]
        done = self.ctx.recordings.set_protected(good, value) if good else 0
        return Response.json({"success": True, "success_count": done,
                              "fail_count": len(ids) - done, "protected": value,
                              "message": "Recordings protected" if value
                              else "Recordings unprotected"})

    def sync(self, req: Request) -> Response:
        r = self.ctx.storage.sync_now(STORAGE_JOB_WAIT_SECONDS)
        if r is None:  # the storage thread is in a long pass: the sync runs after it
            return Response.json({"success": True, "queued": True, "message": "Sync queued: "
                                  "it runs after the storage thread's current pass"}, 202)
        return Response.json({"success": True, "rows_removed": r.rows_removed,
                              "files_registered": r.files_registered,
                              "rows_repaired": r.rows_repaired,
                              "deletions_finished": r.deletions_finished})


def register(router: Router, ctx: WebContext) -> None:
    """Add the /api/recordings routes (literal paths before `{id}` ones: first match wins)."""
    api = RecordingsApi(ctx)
    describe_recordings()
    _describe_detections()
    r, w = Access.READ, Access.WRITE
    one = "/api/recordings/{id}"
    for method, path, handler, access, summary in (
            ("GET", "/api/recordings", api.list_recordings, r, "List recordings"),
            ("GET", "/api/recordings/tags", api.all_tags, r, "Every recording tag in use"),
            ("GET", "/api/recordings/protected", api.protected, r, "Count protected recordings"),
            ("POST", "/api/recordings/batch-protect", api.batch_protect, w,
             "Protect or unprotect many recordings"),
            ("POST", "/api/recordings/sync", api.sync, w, "Reconcile files and database"),
            ("GET", "/api/recordings/play/{id}", api.play, r, "Play a recording (Range)"),
            ("GET", "/api/recordings/download/{id}", api.download, r,
             "Download a recording (Range)"),
            ("GET", "/api/recordings/thumbnail/{id}/{idx}", api.thumbnail, r,
             "A JPEG thumbnail of a recording"),
            ("GET", one, api.get_one, r, "Get a recording"),
            ("DELETE", one, api.delete_one, w, "Delete a recording"),
            ("PUT", one + "/protect", api.protect, w, "Protect a recording"),
            ("PUT", one + "/retention", api.retention, w, "Set a recording's retention override"),
            ("GET", one + "/detections", api.list_detections, r, "Detections within a recording"),
            ("GET", one + "/tags", api.get_tags, r, "Tags of a recording"),
            ("PUT", one + "/tags", api.put_tags, w, "Replace the tags of a recording")):
        router.add(method, path, handler, access, summary)


def _describe_detections() -> None:
    num = {"type": "number"}
    det = oa.obj({"id": {"type": "integer"}, "stream_name": {"type": "string"},
                  "timestamp": num, "offset": num, "label": {"type": "string"},
                  "confidence": num, "x": num, "y": num, "width": num, "height": num,
                  "recording_id": oa.nullable({"type": "integer"}),
                  "zone_id": oa.nullable({"type": "string"})})
    oa.describe("GET", "/api/recordings/{id}/detections", params={"id": oa.INTEGER_PARAM},
                responses={200: oa.obj({"recording_id": {"type": "integer"},
                                        "detections": oa.array(det),
                                        "count": {"type": "integer"}})})
