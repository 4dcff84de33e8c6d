"""Live media routes: HLS files from the stream manager's live directory, snapshot JPEGs.

Only names matching HLS_FILE are served (playlists, segments, init sections), after the stream
name is validated and the resolved path is checked to stay inside the stream's HLS directory,
so no request path can reach another file.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lightnvr.core.stream_config import InvalidStreamConfig, validate_stream_name
from lightnvr.web import media
from lightnvr.web.api._nvr_schemas import describe_media
from lightnvr.web.api.streams import path_stream
from lightnvr.web.http import Access, HTTPError, Request, Response

if TYPE_CHECKING:
    from lightnvr.web.context import WebContext
    from lightnvr.web.router import Router

HLS_FILE = re.compile(r"^[A-Za-z0-9_-]{1,96}\.(m3u8|ts|m4s|mp4|aac)$")


def register(router: Router, ctx: WebContext) -> None:
    """Add /hls/{stream}/{file}, /api/streams/{name}/snapshot and the go2rtc frame alias."""

    def hls(req: Request) -> Response:
        cfg = path_stream(ctx, req, "stream")
        name = req.params.get("file", "")
        if not HLS_FILE.match(name):
            raise HTTPError(400, "invalid HLS file name")
        root = ctx.stream_manager.hls_dir(cfg.name)
        path = media.contained_path(root, name)
        if path is None:
            raise HTTPError(400, "invalid HLS file name")
        ext = "." + name.rsplit(".", 1)[1]
        ctype = {".aac": "audio/aac"}.get(ext) or media.CONTENT_TYPES[ext]
        # Playlists change every segment; segment names can come back after a restart.
        return media.serve_file(req, path, ctype, headers={"Cache-Control": "no-cache"})

    def jpeg(name: str) -> Response:
        data = ctx.stream_manager.snapshot_jpeg(name)
        if data is None:  # 404, not 503: "nothing to show yet" is not a server failure
            raise HTTPError(404, f"no frame from stream '{name}' yet; try again shortly",
                            {"Retry-After": "1"})
        return Response(200, data, {"Content-Type": "image/jpeg",
                                    "Cache-Control": "no-cache, no-store",
                                    "Content-Length": str(len(data))})

    def snapshot(req: Request) -> Response:
        return jpeg(path_stream(ctx, req).name)

    def go2rtc_frame(req: Request) -> Response:
        src = req.arg("src") or ""
        try:
            validate_stream_name(src)
        except InvalidStreamConfig as exc:
            raise HTTPError(400, f"invalid src: {exc.message}") from None
        req.params["name"] = src
        return jpeg(path_stream(ctx, req).name)

    describe_media()
    router.add("GET", "/hls/{stream}/{file}", hls, Access.READ, "Live HLS playlist or segment")
    router.add("GET", "/api/streams/{name}/snapshot", snapshot, Access.READ,
               "Latest frame of a stream as JPEG")
    router.add("GET", "/go2rtc/api/frame.jpeg", go2rtc_frame, Access.READ,
               "Snapshot (the C project's go2rtc path, ?src=NAME)")
