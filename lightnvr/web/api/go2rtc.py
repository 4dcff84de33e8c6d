"""go2rtc through our API: GET /api/go2rtc/status and the WebRTC offer/answer proxy.

LightNVR's UI sends a WebRTC offer as `POST {origin}/go2rtc/api/webrtc?src=NAME` with
`Content-Type: application/sdp` and reads the raw SDP answer; we answer that path (and
`/api/go2rtc/webrtc`) after our own authentication and hand the offer to go2rtc's API on
127.0.0.1 (video/go2rtc/process.pyi), so go2rtc's unauthenticated API never faces the network.
Only `application/sdp` and `application/json` offers are taken: a cross-site page cannot send
either without a CORS preflight, which this server never grants.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from lightnvr.core.redact import redact_text
from lightnvr.video.go2rtc.api import Go2rtcUnavailable
from lightnvr.web import openapi as oa
from lightnvr.web import scope
from lightnvr.web.context import WebContext
from lightnvr.web.http import Access, HTTPError, Request, Response, Role
from lightnvr.web.router import Router

if TYPE_CHECKING:
    from lightnvr.video.go2rtc.process import Go2rtcSupervisor

_OFFER_TYPES = ("application/sdp", "application/json")
_MAX_OFFER_BYTES = 64 * 1024  # a browser's offer is a few KiB
STATUS_SCHEMA = oa.obj({
    "enabled": oa.BOOLEAN, "state": oa.STRING, "ready": oa.BOOLEAN,
    "webrtc_available": oa.BOOLEAN, "pid": oa.nullable(oa.INTEGER), "restarts": oa.INTEGER,
    "error": oa.STRING, "last_exit": oa.STRING, "api_port": oa.INTEGER,
    "rtsp_port": oa.INTEGER, "webrtc_enabled": oa.BOOLEAN, "webrtc_port": oa.INTEGER,
    "streams": oa.array(oa.STRING), "uptime": oa.NUMBER,
    "webrtc_connection_timeout_ms": oa.INTEGER, "binary_path": oa.STRING,
}, required=["enabled", "state", "ready", "webrtc_available", "error"])


def _supervisor(ctx: WebContext) -> Go2rtcSupervisor | None:
    return ctx.extra.get("go2rtc")  # type: ignore[return-value]


def status_json(ctx: WebContext, admin: bool) -> dict[str, object]:
    """The supervisor's status; admins also see the binary path (a filesystem path)."""
    sup = _supervisor(ctx)
    cfg = ctx.config.go2rtc
    if sup is None:
        out: dict[str, object] = {
            "enabled": False, "state": "disabled", "ready": False, "webrtc_available": False,
            "error": "go2rtc is not managed by this server"}
    else:
        out = sup.status().to_dict()
        if not cfg.enabled:
            out["error"] = "go2rtc is disabled ([go2rtc] enabled = false)"
    out["webrtc_connection_timeout_ms"] = cfg.webrtc_connection_timeout_ms
    if not admin:  # viewers and users get no filesystem paths (as GET /api/settings)
        out.pop("binary_path", None)
        for key in ("error", "last_exit"):
            text = str(out.get(key, ""))
            for path in (cfg.binary_path, cfg.config_dir):
                text = text.replace(path, "<path>") if path else text
            out[key] = text
    return out


class _Proxy:
    """The WebRTC offer proxy: at most `[go2rtc] proxy_max_inflight` offers at a time, and at
    most half the API's worker threads (each offer holds one while go2rtc dials the camera),
    so offers to dead cameras cannot starve the rest of the API."""

    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx
        # an offer can wait seconds on a camera: never more than half the API's workers
        self.limit = max(1, min(ctx.config.go2rtc.proxy_max_inflight,
                                ctx.config.web.web_thread_pool_size // 2))
        self._slots = threading.BoundedSemaphore(self.limit)

    def offer(self, req: Request) -> Response:
        src = req.arg("src") or ""
        if not src:
            raise HTTPError(400, "query parameter 'src' (the stream name) is required")
        if self.ctx.streams.get(src) is None:
            raise HTTPError(404, f"stream '{src}' not found")
        scope.require_stream(self.ctx, req, src)  # the caller's camera tags (web/scope.py)
        ctype = req.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if ctype not in _OFFER_TYPES:
            raise HTTPError(415, "the WebRTC offer must be sent with Content-Type: "
                                 "application/sdp (or application/json {type, sdp})")
        body = req.body()
        if len(body) > _MAX_OFFER_BYTES:
            raise HTTPError(413, f"a WebRTC offer is at most {_MAX_OFFER_BYTES} bytes")
        if not body.strip():
            raise HTTPError(400, "the request body must be the browser's SDP offer")
        sup = _supervisor(self.ctx)
        cfg = self.ctx.config.go2rtc
        if sup is None or not cfg.enabled:
            raise HTTPError(503, "WebRTC needs go2rtc, which is disabled ([go2rtc] enabled = "
                                 "false); live view is available over HLS")
        if not cfg.webrtc_enabled:
            raise HTTPError(503, "WebRTC is disabled ([go2rtc] webrtc_enabled = false)")
        if not self._slots.acquire(blocking=False):
            raise HTTPError(503, f"too many WebRTC offers in flight ({self.limit}: [go2rtc] "
                                 "proxy_max_inflight, at most half of [web] "
                                 "web_thread_pool_size); retry", {"Retry-After": "1"})
        try:
            answer = sup.webrtc_offer(src, body, ctype)
        except Go2rtcUnavailable as e:
            raise HTTPError(503, f"go2rtc is not available: {redact_text(str(e))}",
                            {"Retry-After": "2"}) from None
        finally:
            self._slots.release()
        if answer.status != 200 and answer.status != 201:
            said = redact_text(answer.body.decode("utf-8", "replace").strip())[:300]
            raise HTTPError(502, f"go2rtc refused the offer for stream '{src}' "
                                 f"(HTTP {answer.status}): {said}")
        return Response(200, answer.body, {"Content-Type": answer.content_type
                                           or "application/sdp", "Cache-Control": "no-store"})


def register(router: Router, ctx: WebContext) -> None:
    proxy = _Proxy(ctx)

    def status(req: Request) -> Response:
        admin = req.principal is not None and req.principal.role == Role.ADMIN
        return Response.json(status_json(ctx, admin))

    router.add("GET", "/api/go2rtc/status", status, Access.READ,
               "go2rtc: managed process state, restarts, error, WebRTC availability")
    oa.describe("GET", "/api/go2rtc/status", responses={200: STATUS_SCHEMA})
    sdp = oa.media("application/sdp", oa.STRING)
    # The document shows go2rtc's JSON form of the offer; the raw SDP (application/sdp, what
    # LightNVR's UI sends) is taken too but one route has one request type in our OpenAPI.
    offer = oa.obj({"type": oa.STRING, "sdp": oa.STRING}, required=["type", "sdp"])
    for path in ("/go2rtc/api/webrtc", "/api/go2rtc/webrtc"):
        router.add("POST", path, proxy.offer, Access.READ,
                   "WebRTC: the browser's SDP offer for ?src=STREAM (application/sdp or "
                   "JSON) in, go2rtc's answer out")
        oa.describe("POST", path, query={"src": oa.STRING}, required_query=["src"],
                    request=offer, responses={200: sdp})
