"""Live-view WebSockets served by one selector thread, off the API's worker threads.

Design: an API request for a live feed (web/api/live.py) is authenticated and authorised by
the WSGI app like any other, on a cheroot worker; the handler then validates the WebSocket
upgrade (wsproto's handshake), subscribes to the stream's fMP4 feed and hands the connection's
socket to `LiveSockets.attach()` (the worker is free again at once: server.py's gateway lets
the handler take the socket so cheroot neither answers nor closes it). The thread `web:live`
owns every such socket: non-blocking, in one `selectors` loop, woken through a socket pair
when a feed has new messages (coalesced: one wake-up byte per burst). Per viewer it keeps the
encoded frames the kernel has not yet taken; only while that backlog is under
`OUT_HIGH_WATER` does it pull more from the feed, so a slow viewer's overflow is handled by
its feed (skip to the next keyframe, video/live_mse.py) and never costs the other viewers,
the muxer or the recorder anything. A viewer whose socket takes nothing for `STALL_SECONDS`
is disconnected (the socket's send buffer is capped at `SEND_BUFFER_BYTES`, so that happens
within seconds, not after megabytes). Client frames are read only for close and ping. The
thread beats a (non-critical) heartbeat "web:live" every loop turn: at least once a second
while it serves viewers (the stall check's period), every `IDLE_SECONDS` with none - a new
viewer wakes it at once through the socket pair, so idling costs no latency;
`stop()` closes every viewer's socket and joins within the deadline. WebServer owns the
instance (start/stop with the web server).
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from wsproto.connection import Connection
from wsproto.events import BytesMessage, CloseConnection, Ping, TextMessage
from wsproto.utilities import LocalProtocolError

from lightnvr.core.heartbeat import Heartbeat, HeartbeatRegistry
from lightnvr.web.waker import Waker

log = logging.getLogger(__name__)

THREAD_NAME = "web:live"
OUT_HIGH_WATER = 256 * 1024  # encoded bytes waiting for the kernel before we stop pulling
STALL_SECONDS = 10.0  # a viewer whose socket takes nothing this long is disconnected
# The kernel's send buffer autotunes up to megabytes: seconds of video a stalled viewer would
# hold there, out of reach of the skip-to-keyframe policy and of the stall detection.
SEND_BUFFER_BYTES = 128 * 1024
MAX_VIEWERS = 256
TICK_SECONDS = 1.0
IDLE_SECONDS = 10.0  # the loop's turn with no viewer: only the heartbeat needs it
_WOULD_BLOCK = (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError)


class Feed(Protocol):
    """What a viewer is fed from (video/live_mse.py LiveSubscription)."""

    def take(self) -> Sequence[object]: ...

    @property
    def closed(self) -> bool: ...


class _Viewer:
    __slots__ = ("conn", "dropped", "feed", "last_progress", "on_close", "out",
                 "registered_write", "sent", "sock")

    def __init__(self, sock: socket.socket, conn: Connection, feed: Feed, first: bytes,
                 on_close: Callable[[], None]) -> None:
        self.sock = sock
        self.conn = conn
        self.feed = feed
        self.on_close = on_close
        self.out = bytearray(first)
        self.last_progress = time.monotonic()
        self.registered_write = False
        self.sent = 0
        self.dropped = False


class LiveSockets:
    """The `web:live` thread and its viewers; see the module doc."""

    def __init__(self, max_viewers: int = MAX_VIEWERS,
                 stall_seconds: float = STALL_SECONDS) -> None:
        self.max_viewers = max_viewers
        self.stall_seconds = stall_seconds
        self._lock = threading.Lock()  # _new, _ready, _wake_pending, _viewers count
        self._new: list[_Viewer] = []
        self._ready: set[_Viewer] = set()
        self._wake_pending = False
        self._count = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sel: selectors.BaseSelector | None = None
        self._waker: Waker | None = None
        self._heartbeats: HeartbeatRegistry | None = None
        self._beat: Heartbeat | None = None
        self.viewers_served = 0

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, heartbeats: HeartbeatRegistry | None = None) -> None:
        self._sel = selectors.DefaultSelector()
        self._waker = Waker()
        self._sel.register(self._waker.reader, selectors.EVENT_READ, None)
        self._heartbeats = heartbeats
        if heartbeats is not None:  # not critical: a stuck live thread costs live view only
            self._beat = heartbeats.register(THREAD_NAME, 3 * IDLE_SECONDS, False)
        self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
        self._thread.start()

    def stop(self, timeout: float) -> bool:
        """Close every viewer and join within `timeout`; False if the thread overran."""
        self._stop.set()
        self._wake()
        thread = self._thread
        if thread is None:
            return True
        thread.join(max(0.0, timeout))
        if thread.is_alive():
            log.warning("%s did not stop within %.1f s", THREAD_NAME, timeout)
            return False
        return True

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stop.is_set()

    def viewer_count(self) -> int:
        with self._lock:
            return self._count

    # -- from worker threads ---------------------------------------------------------------
    def reserve(self) -> bool:
        """Count a viewer in before its socket is taken; False when full or stopped."""
        with self._lock:
            if not self.running or self._count >= self.max_viewers:
                return False
            self._count += 1
            return True

    def unreserve(self) -> None:
        with self._lock:
            self._count -= 1

    def attach(self, sock: socket.socket, conn: Connection, feed: Feed, first: bytes,
               on_close: Callable[[], None]) -> Callable[[], None]:
        """Serve `feed` on `sock` (after `reserve()`); `first` (the 101 answer) goes out
        first. Returns the callable the feed must call when it has messages."""
        viewer = _Viewer(sock, conn, feed, first, on_close)
        with self._lock:
            self._new.append(viewer)
        self._mark_ready(viewer)
        return lambda: self._mark_ready(viewer)

    def _mark_ready(self, viewer: _Viewer) -> None:
        with self._lock:
            self._ready.add(viewer)
            if self._wake_pending:
                return
            self._wake_pending = True
        self._wake()

    def _wake(self) -> None:
        waker = self._waker
        if waker is not None:
            waker.wake()

    # -- the thread ------------------------------------------------------------------------
    def _run(self) -> None:
        log.info("thread %s started", THREAD_NAME)
        assert self._sel is not None and self._waker is not None
        waker = self._waker
        viewers: set[_Viewer] = set()
        next_tick = time.monotonic() + TICK_SECONDS
        try:
            while not self._stop.is_set():
                if self._beat is not None:
                    self._beat.beat()
                for key, mask in self._sel.select(TICK_SECONDS if viewers else IDLE_SECONDS):
                    if key.data is None:
                        waker.drain()
                    else:
                        self._io(key.data, mask, viewers)
                self._service(viewers)
                now = time.monotonic()
                if now >= next_tick:
                    next_tick = now + TICK_SECONDS
                    for v in [v for v in viewers if v.out and
                              now - v.last_progress > self.stall_seconds]:
                        log.info("live viewer of %s stalled %.0f s: disconnected",
                                 getattr(v.feed, "stream", "?"), self.stall_seconds)
                        self._drop(v, viewers)
        except Exception:
            log.error("%s failed", THREAD_NAME, exc_info=True)
        finally:
            with self._lock:
                viewers.update(self._new)
                self._new.clear()
            for v in list(viewers):
                self._drop(v, viewers)
            self._sel.close()
            self._waker = None
            waker.close()
            if self._heartbeats is not None:
                self._heartbeats.unregister(THREAD_NAME, self._beat)
            log.info("thread %s exited", THREAD_NAME)

    def _service(self, viewers: set[_Viewer]) -> None:
        with self._lock:
            new, self._new = self._new, []
            ready, self._ready = self._ready, set()
            self._wake_pending = False
        assert self._sel is not None
        for v in new:
            v.sock.setblocking(False)
            with contextlib.suppress(OSError):
                v.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
            self._sel.register(v.sock, selectors.EVENT_READ, v)
            viewers.add(v)
            self.viewers_served += 1
        for v in ready:
            if v in viewers:
                self._pump(v, viewers)

    def _pump(self, v: _Viewer, viewers: set[_Viewer]) -> None:
        """Encode what the feed has while the backlog is small, then write what we can."""
        if len(v.out) < OUT_HIGH_WATER:
            for msg in v.feed.take():
                text = getattr(msg, "text", "")
                event = TextMessage(text) if text else BytesMessage(getattr(msg, "data", b""))
                v.out += v.conn.send(event)
        if v.feed.closed and not v.out:
            self._drop(v, viewers)
            return
        self._flush(v, viewers)

    def _flush(self, v: _Viewer, viewers: set[_Viewer]) -> None:
        while v.out:
            try:
                n = v.sock.send(v.out)
            except _WOULD_BLOCK:
                break
            except OSError:
                self._drop(v, viewers)
                return
            del v.out[:n]
            v.sent += n
            v.last_progress = time.monotonic()
        want_write = bool(v.out)
        if want_write != v.registered_write and v in viewers:
            assert self._sel is not None
            mask = selectors.EVENT_READ | (selectors.EVENT_WRITE if want_write else 0)
            self._sel.modify(v.sock, mask, v)
            v.registered_write = want_write
        if not v.out and v.feed.closed:
            self._drop(v, viewers)

    def _io(self, v: _Viewer, mask: int, viewers: set[_Viewer]) -> None:
        if mask & selectors.EVENT_READ:
            try:
                data = v.sock.recv(4096)
            except _WOULD_BLOCK:
                data = None
            except OSError:
                data = b""
            if data == b"":
                self._drop(v, viewers)
                return
            if data:
                self._client_frames(v, data, viewers)
                if v not in viewers:
                    return
        if mask & selectors.EVENT_WRITE or v.out:
            # room in the kernel again: top up from the feed (it may have skipped ahead)
            self._pump(v, viewers)

    def _client_frames(self, v: _Viewer, data: bytes, viewers: set[_Viewer]) -> None:
        try:
            v.conn.receive_data(data)
            for event in v.conn.events():
                if isinstance(event, Ping):
                    v.out += v.conn.send(event.response())
                elif isinstance(event, CloseConnection):
                    with contextlib.suppress(LocalProtocolError, OSError):
                        v.sock.send(v.conn.send(event.response()))
                    self._drop(v, viewers)
                    return
        except Exception:
            log.debug("live viewer sent a bad frame", exc_info=True)
            self._drop(v, viewers)

    def _drop(self, v: _Viewer, viewers: set[_Viewer]) -> None:
        if v.dropped:
            return
        v.dropped = True
        if v in viewers:
            viewers.discard(v)
            if self._sel is not None:
                with contextlib.suppress(KeyError, ValueError, OSError):
                    self._sel.unregister(v.sock)
        with contextlib.suppress(OSError):
            v.sock.close()
        with self._lock:
            self._count -= 1
            self._ready.discard(v)
        try:
            v.on_close()
        except Exception:
            log.error("closing a live viewer failed", exc_info=True)
