"""Low-latency live view: one fragmented-MP4 muxer per stream, fanned out to every viewer.

Design: `MseHub` (owned by the stream manager) starts an `MseMuxer` for a stream (or for its
sub-stream) when the first viewer subscribes and lets it end when the last one leaves. The
muxer is a consumer thread `mse:<stream>` (or `mse:<stream>/sub`) on its own HandoffQueue of
the reader's fan-out (governor role LIVE: keyframes only under PRESSURE, nothing under
CRITICAL), so it never opens a second camera connection and never re-encodes: it stream-copies
packets through FFmpeg's mp4 muxer into memory with about one fragment per video frame
(live_fmp4.py splits them), so a frame leaves as soon as the next packet arrives. Each viewer is a
`LiveSubscription`: a bounded queue of messages the delivery side (web/live_socket.py) drains.
A viewer first gets a text header (MIME type with RFC 6381 codecs, audio note), then the init
segment, then the fragments from the current GOP's keyframe (kept by the muxer, so a new
viewer sees a picture at once), then live fragments. A viewer whose queue overflows
`max_bytes` loses what is queued and resumes at the next keyframe fragment: it never slows the
muxer, the reader or the other viewers. A reconnect of the camera (new StreamInfo) reopens the
muxer and sends every viewer a new header and init segment. When the reader stops, its queue
closes, the muxer exits and closes its subscriptions. `MseHub.stop()` (stream manager shutdown,
live phase) stops every muxer within one deadline.
"""

from __future__ import annotations

import collections
import io
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lightnvr.core.memory.handoff import DropLevel, HandoffQueue
from lightnvr.video.consumer import ConsumerThread, consume
from lightnvr.video.live_fmp4 import BoxSplitter, codecs, starts_with_video_sync
from lightnvr.video.muxing import add_streams, make_packet
from lightnvr.video.packet import MediaPacket, StreamInfo

log = logging.getLogger(__name__)

# Audio Chromium's MSE plays from MP4; anything else is left out of live (video goes on).
PLAYABLE_AUDIO = frozenset({"aac", "opus", "mp3"})
FMP4_OPTIONS = {
    # A fragment at every keyframe and once 40 ms of media are queued: one per video frame,
    # the audio frames in between riding along, so a frame leaves as soon as the muxer sees
    # the next packet. One per packet (frag_duration 1 us) cost 3-4x the CPU with AAC (every
    # ~21 ms audio frame a fragment, a wake-up and a WebSocket message); frag_every_frame
    # mistimes audio (every few AAC frames a zero-length sample and a repeated decode time,
    # which leaves holes in a browser's buffered ranges).
    "movflags": "empty_moov+default_base_moof+frag_keyframe+skip_trailer",
    "frag_duration": "40000",
    "flush_packets": "1",
    # Never hold video back for long waiting for audio (dropped under PRESSURE); see live.py.
    "max_interleave_delta": "100000",
}
VIEWER_MAX_BYTES = 1 << 20  # a viewer's unsent backlog before it skips to the next keyframe
GOP_CACHE_MAX_BYTES = 4 << 20  # a longer GOP is not cached: new viewers wait for a keyframe
POLL_SECONDS = 0.05  # the consumer loop's idle poll: added latency, at most this
# (0.02 cost ~0.4 % of a core per stream more, tools/bench_live.py)


@dataclass(frozen=True, slots=True)
class LiveMessage:
    """One WebSocket message: `text` (a JSON header) or `data` (init segment / fragment)."""

    data: bytes = b""
    text: str = ""
    keyframe: bool = False
    init: bool = False  # the init segment (a viewer that skips ahead still needs it)


class LiveSubscription:
    """One viewer's queue. The muxer thread puts; the delivery thread takes.

    `on_ready` is called (from the muxer thread, without locks held) when the queue goes from
    empty to non-empty or is closed; it must not block.
    """

    stream: str
    max_bytes: int
    skips: int
    sent_messages: int

    def __init__(self, stream: str, on_ready: Callable[[], None],
                 max_bytes: int = VIEWER_MAX_BYTES) -> None:
        self.stream = stream
        self.max_bytes = max_bytes
        self._on_ready = on_ready
        self._lock = threading.Lock()
        self._items: collections.deque[LiveMessage] = collections.deque()
        self._bytes = 0
        self._need_key = False
        self._closed = False
        self.skips = 0  # times the viewer fell max_bytes behind and skipped to a keyframe
        self.sent_messages = 0

    def put(self, msg: LiveMessage) -> None:
        with self._lock:
            if self._closed:
                return
            if msg.data and not msg.text and not msg.keyframe and self._need_key:
                return
            if self._bytes + len(msg.data) > self.max_bytes and not msg.text:
                # Behind by more than max_bytes: drop the backlog (keeping headers and the
                # init segment it may still need) and wait for the next keyframe.
                kept = [m for m in self._items if m.text or m.init]
                self._items = collections.deque(kept)
                self._bytes = sum(len(m.data) for m in kept)
                self.skips += 1
                if not msg.keyframe:
                    self._need_key = True
                    return
            if msg.keyframe:
                self._need_key = False
            wake = not self._items
            self._items.append(msg)
            self._bytes += len(msg.data)
        if wake:
            self._on_ready()

    def put_start(self, header: LiveMessage, init: bytes, gop: list[LiveMessage]) -> None:
        """A (new) beginning: header, init segment, then the cached GOP (or a keyframe wait)."""
        with self._lock:
            if self._closed:
                return
            self._items.clear()
            self._items.append(header)
            self._items.append(LiveMessage(init, init=True))
            self._bytes = len(init)
            for m in gop:
                self._items.append(m)
                self._bytes += len(m.data)
            self._need_key = not gop
        self._on_ready()

    def take(self) -> list[LiveMessage]:
        """Everything queued, oldest first (empty when nothing is)."""
        with self._lock:
            items = list(self._items)
            self._items.clear()
            self._bytes = 0
        self.sent_messages += len(items)
        return items

    @property
    def queued_bytes(self) -> int:
        return self._bytes

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._on_ready()

    @property
    def closed(self) -> bool:
        return self._closed


class _Sink(io.RawIOBase):
    """The muxer's output file: collects what FFmpeg writes."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self.chunks.append(bytes(b))
        return len(b)


class MseMuxer(ConsumerThread):
    """fMP4 of one stream for its viewers; see the module doc."""

    THREAD_PREFIX = "mse"
    fragments: int
    errors: int

    def __init__(self, name: str, queue: HandoffQueue[MediaPacket],
                 with_audio: bool = True, on_exit: Callable[[MseMuxer], None] | None = None,
                 source: MseSource | None = None) -> None:
        super().__init__()
        self.name = name
        self.queue = queue
        self.with_audio = with_audio
        self.source = source
        self._on_exit = on_exit
        self._lock = threading.Lock()  # subscribers, header, init, gop
        self._subs: list[LiveSubscription] = []
        self._out: Any = None
        self._sink = _Sink()
        self._split = BoxSplitter()
        self._info: StreamInfo | None = None
        self._streams: tuple[Any, Any] = (None, None)
        self._header: LiveMessage | None = None
        self._init = b""
        self._pending_init: list[bytes] = []
        self._gop: list[LiveMessage] = []
        self._gop_bytes = 0
        self._moof = b""
        self._note = ""
        self._keys_only = False
        self.fragments = 0

    # -- viewers (any thread) --------------------------------------------------------------
    def subscribe(self, sub: LiveSubscription) -> bool:
        """Attach a viewer; False when this muxer has already ended."""
        with self._lock:
            if self.queue.closed:
                return False
            self._subs.append(sub)
            if self._header is not None:
                sub.put_start(self._header, self._init, list(self._gop))
        return True

    def unsubscribe(self, sub: LiveSubscription) -> int:
        """Detach a viewer; the number of viewers left."""
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)
            return len(self._subs)

    def viewers(self) -> int:
        with self._lock:
            return len(self._subs)

    # -- the thread ------------------------------------------------------------------------
    def _run(self) -> None:
        log.info("mse:%s started", self.name)
        try:
            consume(self.queue, self._one, _nothing, self._wake, poll=POLL_SECONDS,
                    beat=self._beat)
        finally:
            self._close()
            self.queue.discard_all()
            with self._lock:
                subs, self._subs = self._subs, []
            for s in subs:
                s.close()
            if self._on_exit is not None:
                self._on_exit(self)
            log.info("mse:%s exited", self.name)

    def _one(self, item: MediaPacket) -> None:
        try:
            self._handle(item)
        except Exception:
            if self._count_error("packet not muxed") % 10 == 0:
                self._close()
        finally:
            item.release()

    def _handle(self, item: MediaPacket) -> None:
        # Under PRESSURE only video keyframes arrive: an audio track would get no samples and
        # a browser plays no further than its buffered audio, so the output is reopened
        # without audio (a new header and init segment) and again with it afterwards.
        keys_only = self.queue.drop_level != DropLevel.NONE
        if item.info is not self._info or keys_only != self._keys_only:
            self._close()
            self._info, self._keys_only = item.info, keys_only
        if self._out is None:
            if not (item.is_video and item.is_keyframe):
                return  # viewers start on a keyframe
            self._open(item.info)
        stream = self._streams[0] if item.is_video else self._streams[1]
        if stream is None:
            return
        self._out.mux(make_packet(item, stream))
        self._drain()

    def _open(self, info: StreamInfo) -> None:
        import av

        self._sink = _Sink()
        self._split = BoxSplitter()
        self._pending_init = []
        audio = self.with_audio and info.audio_codec in PLAYABLE_AUDIO and not self._keys_only
        self._note = ""
        if self._keys_only:
            self._note = "the NVR is short of memory: live view shows keyframes only, no audio"
        elif self.with_audio and info.audio_codec and not audio:
            self._note = (f"the camera's audio ({info.audio_codec}) cannot be played by "
                          f"browsers; live view shows video only")
        out = av.open(self._sink, "w", format="mp4", options=dict(FMP4_OPTIONS))
        try:
            self._streams = add_streams(out, info, audio, f"mse:{self.name}")
        except Exception:
            out.close()
            raise
        if audio and self._streams[1] is None:
            self._note = f"audio ({info.audio_codec}) left out of live view"
        self._out = out

    def _drain(self) -> None:
        chunks, self._sink.chunks = self._sink.chunks, []
        for chunk in chunks:
            for kind, box in self._split.feed(chunk):
                self._box(kind, box)

    def _box(self, kind: bytes, box: bytes) -> None:
        if self._header is None or not self._init:
            if kind != b"moof":
                self._pending_init.append(box)
                return
            self._publish_init(b"".join(self._pending_init))
        if kind == b"moof":
            self._moof = box
            return
        if kind != b"mdat" or not self._moof:
            return
        key = starts_with_video_sync(self._moof)
        msg = LiveMessage(self._moof + box, keyframe=key)
        self._moof = b""
        self.fragments += 1
        with self._lock:
            if key:
                self._gop, self._gop_bytes = [], 0
            if self._gop_bytes + len(msg.data) <= GOP_CACHE_MAX_BYTES and (key or self._gop):
                self._gop.append(msg)
                self._gop_bytes += len(msg.data)
            else:
                self._gop, self._gop_bytes = [], 0
            subs = list(self._subs)
        for s in subs:
            s.put(msg)

    def _publish_init(self, init: bytes) -> None:
        mime = 'video/mp4; codecs="' + ", ".join(codecs(init)) + '"'
        info = self._info
        header = LiveMessage(text=json.dumps({
            "type": "init", "stream": self.name, "mime": mime,
            "audio": self._streams[1] is not None, "note": self._note,
            "width": info.width if info else 0, "height": info.height if info else 0}))
        with self._lock:
            self._header, self._init = header, init
            self._gop, self._gop_bytes = [], 0
            subs = list(self._subs)
        for s in subs:
            s.put_start(header, init, [])

    def _close(self) -> None:
        out, self._out = self._out, None
        with self._lock:
            self._header, self._init = None, b""
            self._gop, self._gop_bytes = [], 0
        self._moof = b""
        if out is None:
            return
        try:
            out.close()
        except Exception:
            log.debug("mse:%s: close failed", self.name, exc_info=True)


def _nothing() -> None:
    return None


@dataclass(slots=True)
class MseSource:
    """What the hub needs to feed a muxer: the reader to consume and how to let it go."""

    add_consumer: Callable[[HandoffQueue[MediaPacket]], None]
    remove_consumer: Callable[[HandoffQueue[MediaPacket]], None]
    release: Callable[[], None]  # e.g. stop a sub-stream reader started for live view
    with_audio: bool = True


class MseHub:
    """Muxers by key (`stream` or `stream/sub`), started on the first viewer.

    `new_queue(key)` makes (and registers with the governor) a LIVE queue; `forget_queue`
    undoes it. `watch(muxer)` gives the muxer's thread its heartbeat.
    """

    def __init__(self, new_queue: Callable[[str], HandoffQueue[MediaPacket]],
                 forget_queue: Callable[[HandoffQueue[MediaPacket]], None],
                 watch: Callable[[MseMuxer], None] = lambda m: None) -> None:
        self._new_queue = new_queue
        self._forget_queue = forget_queue
        self._watch = watch
        self._lock = threading.Lock()
        self._muxers: dict[str, MseMuxer] = {}
        self._stopping = False

    def subscribe(self, key: str, source: Callable[[], MseSource | None],
                  on_ready: Callable[[], None]) -> LiveSubscription | None:
        """A new viewer of `key`; None when there is nothing to watch (stream not running).
        `source` is called only when a muxer has to be started."""
        sub = LiveSubscription(key, on_ready)
        with self._lock:
            if self._stopping:
                return None
            entry = self._muxers.get(key)
            if entry is not None and entry.subscribe(sub):
                return sub
            src = source()
            if src is None:
                return None
            q = self._new_queue(key)
            muxer = MseMuxer(key, q, src.with_audio, on_exit=self._exited, source=src)
            self._watch(muxer)
            muxer.subscribe(sub)
            self._muxers[key] = muxer
            muxer.start()
            src.add_consumer(q)
        return sub

    def unsubscribe(self, sub: LiveSubscription) -> None:
        """The viewer left; the last one to leave ends its muxer (and releases its reader).

        Never blocks: this runs on the delivery thread. The muxer leaves the fan-out now and
        exits by itself within a poll once its queue is closed (`_exited` does the rest)."""
        with self._lock:
            muxer = self._muxers.get(sub.stream)
            if muxer is None or muxer.unsubscribe(sub) > 0:
                return
            del self._muxers[sub.stream]
        assert muxer.source is not None
        muxer.source.remove_consumer(muxer.queue)
        muxer.queue.close()

    def _exited(self, muxer: MseMuxer) -> None:
        """On the muxer's own thread, as it ends (last viewer gone, reader stopped, stop())."""
        with self._lock:
            if self._muxers.get(muxer.name) is muxer:
                del self._muxers[muxer.name]
        self._forget_queue(muxer.queue)
        if muxer.source is not None:
            muxer.source.remove_consumer(muxer.queue)
            muxer.source.release()

    def muxer_count(self) -> int:
        with self._lock:
            return len(self._muxers)

    def viewers(self) -> dict[str, int]:
        with self._lock:
            return {k: m.viewers() for k, m in self._muxers.items()}

    def stop(self, timeout: float) -> None:
        """End every muxer (their viewers' subscriptions close) within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            self._stopping = True
            muxers = list(self._muxers.values())
            self._muxers.clear()
        for muxer in muxers:
            muxer.queue.close()
        for muxer in muxers:
            muxer.stop(max(0.0, deadline - time.monotonic()))
