"""Low-latency live view: GET /api/live/{stream}/mse upgrades to a WebSocket of fMP4.

The request is authenticated and authorised by the WSGI app exactly like every API request
(session cookie, HTTP Basic or API key; nothing in the URL). Browsers attach cookies to
cross-site WebSocket handshakes and CORS does not apply to them, so a foreign `Origin` is
refused here (403). Every failure before the hand-over is an ordinary JSON error; after it the
socket belongs to `LiveSockets` (web/live_socket.py, thread `web:live`) and the cheroot worker
is free. Messages: a JSON text header `{"type": "init", "mime", "audio", "note", "width",
"height"}`, then the init segment, then fMP4 fragments (docs/video.md, "Low-latency live
view"); a new header means a new init segment follows (camera reconnected).
`?sub=1` asks for the stream's sub-stream (grid tiles); without a `sub_stream_url` it is the
main stream.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from wsproto import ConnectionType
from wsproto.events import AcceptConnection
from wsproto.events import Request as WsRequest
from wsproto.handshake import H11Handshake
from wsproto.utilities import RemoteProtocolError

from lightnvr.web import scope
from lightnvr.web.api.streams import path_stream
from lightnvr.web.app import same_origin
from lightnvr.web.http import Access, HTTPError, Request, Response
from lightnvr.web.live_socket import LiveSockets
from lightnvr.web.server import LIVE_SOCKETS, TAKE_SOCKET, SocketTakenError

if TYPE_CHECKING:
    from lightnvr.web.context import WebContext
    from lightnvr.web.router import Router

UNAVAILABLE = "live WebSockets are not available on this server; use HLS (/hls/{stream}/)"


def _handshake(req: Request) -> H11Handshake:
    hs = H11Handshake(ConnectionType.SERVER)
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in req.headers.items()]
    try:
        hs.initiate_upgrade_connection(headers, req.path)
        events = list(hs.events())
    except (RemoteProtocolError, UnicodeEncodeError) as exc:
        raise HTTPError(400, f"expected a WebSocket upgrade (Upgrade: websocket, "
                             f"Sec-WebSocket-Version: 13, Sec-WebSocket-Key): {exc}") from None
    if not any(isinstance(e, WsRequest) for e in events):
        raise HTTPError(400, "expected a WebSocket upgrade")
    return hs


def register(router: Router, ctx: WebContext) -> None:
    """Add GET /api/live/{stream}/mse and GET /api/live/status."""

    def mse(req: Request) -> Response:
        cfg = path_stream(ctx, req, "stream")
        sub = (req.arg("sub") or "0").lower() in ("1", "true", "yes")
        if "origin" in req.headers and not same_origin(req, ctx.config.web.trusted_proxy_cidrs):
            raise HTTPError(403, "cross-site WebSocket refused: Origin is not this server")
        live = ctx.extra.get(LIVE_SOCKETS)
        take = req.environ.get(TAKE_SOCKET)
        if not isinstance(live, LiveSockets) or take is None or not live.running:
            raise HTTPError(503, UNAVAILABLE)
        hs = _handshake(req)
        if not live.reserve():
            raise HTTPError(503, "too many live viewers; try again later or use HLS",
                            {"Retry-After": "5"})
        wake: list[Callable[[], None]] = []
        feed = ctx.stream_manager.live_subscribe(cfg.name, sub,
                                                 lambda: wake[0]() if wake else None)
        if feed is None:
            live.unreserve()
            raise HTTPError(409, f"stream '{cfg.name}' is not running or has live streaming "
                                 f"off (streaming_enabled)", {"Retry-After": "2"})
        first = hs.send(AcceptConnection())
        try:
            sock = take()
        except SocketTakenError as exc:
            ctx.stream_manager.live_unsubscribe(feed)
            live.unreserve()
            raise HTTPError(400, f"{exc}: send nothing after the upgrade request") from None
        assert hs.connection is not None
        wake.append(live.attach(sock, hs.connection, feed, first,
                                lambda: ctx.stream_manager.live_unsubscribe(feed)))
        wake[0]()
        return Response(101, b"")

    def status(req: Request) -> Response:
        live = ctx.extra.get(LIVE_SOCKETS)
        sockets = live.viewer_count() if isinstance(live, LiveSockets) else 0
        # A stream manager without MSE (the web tests' stand-in) has no feeds to report.
        viewers = getattr(ctx.stream_manager, "live_viewers", None)
        feeds: dict[str, int] = viewers() if viewers else {}
        seen = scope.visible_streams(ctx, req)  # feed keys are `stream` or `stream/sub`
        if seen is not None:
            feeds = {k: n for k, n in feeds.items() if k.split("/")[0] in seen}
        return Response.json({"available": isinstance(live, LiveSockets) and live.running,
                              "sockets": sockets, "feeds": feeds})

    router.add("GET", "/api/live/status", status, Access.READ,
               "MSE live view: open viewer sockets and viewers per running muxer")
    router.add("GET", "/api/live/{stream}/mse", mse, Access.READ,
               "Live fMP4 over a WebSocket for Media Source Extensions (?sub=1: sub-stream)")
