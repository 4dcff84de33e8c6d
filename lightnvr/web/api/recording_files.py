"""LightNVR's recording-file routes: files/check, DELETE files, batch-tags.

Shapes follow LightNVR (`api_handlers_recordings_files_backend_agnostic.c`,
`api_handlers_recording_tags.c`). One deliberate difference: LightNVR checks and unlinks any
path the caller names; here `path` must lie under `[storage] path` (absolute, or relative to
it; `..` and symlinks out of it are refused with 400), and a file that is a recording is
deleted the way every recording is (storage manager, docs/storage.md "Deletion"; a protected
one answers 409), so rows and files never disagree.

This module's name sorts before `recordings.py` on purpose: routes are matched in
registration order, and `DELETE /api/recordings/{id}` would otherwise take `/files`.
"""

from __future__ import annotations

import os
from typing import Any

from lightnvr.storage.paths import recording_file, stored_path, stream_of
from lightnvr.web import media, scope
from lightnvr.web import openapi as oa
from lightnvr.web.api.recordings import MAX_TAG_LENGTH, MAX_TAGS, get_recording
from lightnvr.web.context import WebContext
from lightnvr.web.http import Access, HTTPError, Request, Response, Role
from lightnvr.web.router import Router

MAX_BATCH_IDS = 10000  # LightNVR's bound ("Invalid number of IDs (1-10000)")


class RecordingFilesApi:
    """Handlers bound to one daemon's context."""

    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx

    def _path(self, req: Request) -> tuple[str, str]:
        """(absolute file name, stored form) of `?path=`; 400 outside the storage path."""
        raw = req.arg("path")
        if not raw:
            raise HTTPError(400, "Missing path parameter")
        if len(raw) > 4096 or "\0" in raw:
            raise HTTPError(400, "path: at most 4096 characters, no NUL")
        root = self.ctx.config.storage.path
        try:
            rel = stored_path(root, raw if os.path.isabs(raw) else os.path.join(root, raw))
        except ValueError:
            raise HTTPError(400, "path must lie under [storage] path") from None
        full = recording_file(root, rel)
        if not media.is_within(root, full):
            raise HTTPError(400, "path must lie under [storage] path")
        scope.require_stream(self.ctx, req, stream_of(root, full))
        return full, rel

    def check(self, req: Request) -> Response:
        full, rel = self._path(req)
        try:
            st = os.stat(full)
        except OSError:
            return Response.json({"exists": False})
        out: dict[str, Any] = {"exists": True, "size": st.st_size, "mtime": int(st.st_mtime)}
        rec = self.ctx.recordings.get_by_path(rel)
        if rec is not None:
            out["recording_id"] = rec.id
        return Response.json(out)

    def delete(self, req: Request) -> Response:
        full, rel = self._path(req)
        rec = self.ctx.recordings.get_by_path(rel)
        if rec is not None and not rec.deleting:
            admin = req.principal is not None and req.principal.role == Role.ADMIN
            if rec.protected and not (admin and (req.arg("force") or "") in ("1", "true")):
                raise HTTPError(409, f"this file is protected recording {rec.id}: unprotect it "
                                     "first (an administrator may add ?force=true)")
            existed = self.ctx.storage.delete_recording(rec.id)
            return Response.json({"success": True, "existed": existed, "recording_id": rec.id})
        if os.path.isdir(full):
            raise HTTPError(400, "path names a directory; only files are deleted")
        try:
            os.unlink(full)  # no stat first: the answer is the unlink's own (LightNVR #36)
        except FileNotFoundError:
            return Response.json({"success": True, "existed": False})
        except OSError as e:
            raise HTTPError(409, f"cannot delete {rel}: {e.strerror or e}") from None
        return Response.json({"success": True, "existed": True})

    def batch_tags(self, req: Request) -> Response:
        body = req.json_object()
        ids = body.get("ids")
        if not isinstance(ids, list):
            raise HTTPError(400, "Missing or invalid 'ids' field (array required)")
        if not 1 <= len(ids) <= MAX_BATCH_IDS:
            raise HTTPError(400, f"Invalid number of IDs (1-{MAX_BATCH_IDS})")
        add, remove = _tag_list(body, "add"), _tag_list(body, "remove")
        valid: list[int] = []
        for rid in ids:
            if isinstance(rid, bool) or not isinstance(rid, int) or rid <= 0:
                continue  # LightNVR skips what is not a positive id
            try:
                get_recording(self.ctx, rid, req)
            except HTTPError as e:
                if e.status == 403:
                    raise
                continue
            valid.append(rid)
        added = removed = 0
        for rid in valid:
            have = set(self.ctx.recordings.tags(rid))
            new = (have | set(add)) - set(remove)
            added += len(new - have)
            removed += len(have - new)
            if new != have:
                self.ctx.recordings.set_tags(rid, sorted(new))
        return Response.json({"success": True, "recordings_count": len(valid),
                              "tags_added": added, "tags_removed": removed})


def _tag_list(body: dict[str, Any], name: str) -> list[str]:
    tags = body.get(name)
    if tags is None:
        return []
    if not isinstance(tags, list) or len(tags) > MAX_TAGS or not all(
            isinstance(t, str) and 0 < len(t.strip()) <= MAX_TAG_LENGTH
            and not any(ord(c) < 32 for c in t) for t in tags):
        raise HTTPError(400, f"{name}: an array of at most {MAX_TAGS} tags of "
                             f"1..{MAX_TAG_LENGTH} printable characters is required")
    return [t.strip() for t in tags]


def register(router: Router, ctx: WebContext) -> None:
    api = RecordingFilesApi(ctx)
    path: dict[str, Any] = {"query": {"path": oa.STRING}, "required_query": ["path"]}
    router.add("GET", "/api/recordings/files/check", api.check, Access.READ,
               "Whether a file under the storage path exists (size, mtime)")
    oa.describe("GET", "/api/recordings/files/check", **path, responses={
        200: oa.obj({"exists": oa.BOOLEAN, "size": oa.INTEGER, "mtime": oa.INTEGER,
                     "recording_id": oa.INTEGER}, required=["exists"])})
    router.add("DELETE", "/api/recordings/files", api.delete, Access.WRITE,
               "Delete a file under the storage path (a recording's file: the recording)")
    oa.describe("DELETE", "/api/recordings/files", **path, responses={
        200: oa.obj({"success": oa.BOOLEAN, "existed": oa.BOOLEAN,
                     "recording_id": oa.INTEGER}, required=["success", "existed"])})
    router.add("POST", "/api/recordings/batch-tags", api.batch_tags, Access.WRITE,
               "Add and remove tags on many recordings")
    oa.describe("POST", "/api/recordings/batch-tags", request=oa.obj(
        {"ids": oa.array(oa.INTEGER), "add": oa.array(oa.STRING),
         "remove": oa.array(oa.STRING)}, required=["ids"]), responses={
        200: oa.obj({"success": oa.BOOLEAN, "recordings_count": oa.INTEGER,
                     "tags_added": oa.INTEGER, "tags_removed": oa.INTEGER})})
