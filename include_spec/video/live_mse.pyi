# Low-latency live view (lightnvr/video/live_mse.py): one fMP4 muxer per stream ("mse:<key>"
# threads), fanned out to viewers. The web layer gets LiveSubscriptions from
# StreamManager.live_subscribe and drains them (web/live_socket.py).
from collections.abc import Callable

from lightnvr.core.memory.handoff import HandoffQueue
from lightnvr.video.consumer import ConsumerThread
from lightnvr.video.packet import MediaPacket

PLAYABLE_AUDIO: frozenset[str]   # audio codecs kept in live view; others: video only + a note
FMP4_OPTIONS: dict[str, str]
VIEWER_MAX_BYTES: int            # a viewer's backlog before it skips to the next keyframe
GOP_CACHE_MAX_BYTES: int
POLL_SECONDS: float

class LiveMessage:
    data: bytes                  # init segment or one fragment (moof+mdat)
    text: str                    # JSON header {"type": "init", "mime", "audio", "note", ...}
    keyframe: bool               # the fragment starts with a video sync sample
    init: bool                   # data is the init segment

class LiveSubscription:
    stream: str
    max_bytes: int
    skips: int
    sent_messages: int
    def __init__(self, stream: str, on_ready: Callable[[], None],
                 max_bytes: int = ...) -> None: ...
    def put(self, msg: LiveMessage) -> None: ...
    def put_start(self, header: LiveMessage, init: bytes, gop: list[LiveMessage]) -> None: ...
    def take(self) -> list[LiveMessage]: ...       # everything queued, oldest first
    @property
    def queued_bytes(self) -> int: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...                   # no more messages will come

class MseMuxer(ConsumerThread):
    THREAD_PREFIX: str
    fragments: int
    errors: int
    def __init__(self, name: str, queue: HandoffQueue[MediaPacket],
                 with_audio: bool = True, on_exit: Callable[[MseMuxer], None] | None = None,
                 source: MseSource | None = None) -> None: ...
    def subscribe(self, sub: LiveSubscription) -> bool: ...
    def unsubscribe(self, sub: LiveSubscription) -> int: ...
    def viewers(self) -> int: ...

class MseSource:
    add_consumer: Callable[[HandoffQueue[MediaPacket]], None]
    remove_consumer: Callable[[HandoffQueue[MediaPacket]], None]
    release: Callable[[], None]
    with_audio: bool

class MseHub:
    def __init__(self, new_queue: Callable[[str], HandoffQueue[MediaPacket]],
                 forget_queue: Callable[[HandoffQueue[MediaPacket]], None],
                 watch: Callable[[MseMuxer], None] = ...) -> None: ...
    def subscribe(self, key: str, source: Callable[[], MseSource | None],
                  on_ready: Callable[[], None]) -> LiveSubscription | None: ...
    def unsubscribe(self, sub: LiveSubscription) -> None: ...   # never blocks
    def muxer_count(self) -> int: ...
    def viewers(self) -> dict[str, int]: ...
    def stop(self, timeout: float) -> None: ...
