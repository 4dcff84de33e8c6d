"""One camera's ingest thread: connect, demux (no decode), repair timestamps, fan packets out.

Design: `StreamReader` owns one thread, `reader:<stream>`. It opens the camera through an
injected opener (source.py; `demo://` is in-process), demuxes packets and, per packet:
joins same-dts video packets into one access unit (FFmpeg's RTP depacketizer can split an IDR
that way and the MP4 muxer then fails), repairs timestamps (timestamps.py), hands the
demuxer's packet itself to the BufferPool (`adopt`: counted, never copied; a joined access
unit is copied once into a slab) and puts one shared `MediaPacket` on every consumer's
HandoffQueue (one buffer reference per consumer). `put()` never blocks, so a slow consumer
never stalls the camera. The latest keyframe is kept (one more reference) for snapshots.

State machine: STARTING -> ACTIVE on the first packet; on an error, a normal end of the
demuxer (servers that go away often look like end-of-file) or `stall_timeout` without a
packet (FFmpeg's read timeout) -> RECONNECTING, retried with exponential backoff from
`backoff_initial` to `backoff_max`; permanent errors (source.PermanentSourceError, 401/403/404,
no video) -> ERROR with a readable message, retried every `error_retry` seconds, or never for
a bad URL scheme. `stop()` sets the stop event, joins against one deadline and then closes
the consumers' queues, so consumers finish even if FFmpeg is still inside a blocking read
(bounded by the read timeout; the thread is a daemon thread).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lightnvr.core.clock import SYSTEM_CLOCK, Clock
from lightnvr.core.cpu_affinity import StreamCpuAffinity
from lightnvr.core.heartbeat import Heartbeat
from lightnvr.core.memory.handoff import HandoffQueue
from lightnvr.core.memory.pool import BufferPool
from lightnvr.core.redact import redact_text, redact_url
from lightnvr.core.stream_config import StreamConfig
from lightnvr.video.packet import MediaPacket, StreamInfo
from lightnvr.video.source import (
    PermanentSourceError,
    Source,
    describe_error,
    open_source,
)
from lightnvr.video.states import StreamState
from lightnvr.video.timestamps import TimestampRepair

log = logging.getLogger(__name__)

Opener = Callable[..., Source]


@dataclass(frozen=True, slots=True)
class ReaderSettings:
    backoff_initial: float = 0.5
    backoff_max: float = 3.0
    stall_timeout: float = 10.0
    open_timeout: float = 5.0
    error_retry: float = 30.0  # permanent errors that may heal (401, 404): slow retry
    # A refused connection (camera rebooting, RTSP server restarting) fails at once and costs
    # nothing, so it is retried at least this often whatever the backoff: recording resumes
    # within ~3 s of the camera's return instead of up to backoff_max + GOP + open time.
    refused_retry: float = 1.0


class StreamReader:
    """Reads one camera in its own thread; see the module doc for the state machine."""

    def __init__(self, config: StreamConfig, pool: BufferPool,
                 settings: ReaderSettings | None = None, clock: Clock | None = None,
                 opener: Opener | None = None, heartbeat: Heartbeat | None = None,
                 want_audio: bool = True,
                 cpu_affinity: StreamCpuAffinity | None = None) -> None:
        self.config = config
        self.name = config.name
        self._pool = pool
        self.settings = settings or ReaderSettings()
        self._clock = clock or SYSTEM_CLOCK
        self._opener: Opener = opener or open_source
        self._heartbeat = heartbeat
        self._want_audio = want_audio
        self._cpu_affinity = cpu_affinity  # the stream CPUs (core/cpu_affinity.py)
        self._stop = threading.Event()
        self._lock = threading.Lock()  # consumers tuple swaps and the kept keyframe
        self._consumers: tuple[HandoffQueue[MediaPacket], ...] = ()
        self._keyframe: MediaPacket | None = None
        self._thread: threading.Thread | None = None
        self.state = StreamState.INACTIVE
        self.last_error = ""
        self.info: StreamInfo | None = None
        self.packets = 0
        self.bytes = 0
        self.reconnects = 0
        self._repairs_done = 0
        self._refused = False
        self._fixers: tuple[TimestampRepair, ...] = ()
        self.last_packet_mono: float | None = None
        self.bitrate_bps = 0
        self.fps_measured = 0.0
        self.state_changed = threading.Condition()

    # -- consumers -------------------------------------------------------------------------
    def add_consumer(self, queue: HandoffQueue[MediaPacket]) -> None:
        with self._lock:
            self._consumers = (*self._consumers, queue)

    def remove_consumer(self, queue: HandoffQueue[MediaPacket]) -> None:
        with self._lock:
            self._consumers = tuple(q for q in self._consumers if q is not queue)

    def latest_keyframe(self) -> MediaPacket | None:
        """The last keyframe with one reference retained for the caller (release it)."""
        with self._lock:
            kf = self._keyframe
            if kf is not None:
                kf.buffer.retain()
            return kf

    @property
    def timestamp_repairs(self) -> int:
        return self._repairs_done + sum(f.repairs for f in self._fixers)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"reader:{self.name}",
                                        daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self, timeout: float) -> bool:
        """Stop the thread (waiting up to `timeout` s), then close every consumer's queue."""
        self._stop.set()
        ok = True
        if self._thread is not None:
            self._thread.join(max(0.0, timeout))
            ok = not self._thread.is_alive()
            if not ok:
                log.warning("reader:%s did not stop within %.1f s (blocked in FFmpeg I/O)",
                            self.name, timeout)
        for q in self._consumers:
            q.close()
        return ok

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _set_state(self, state: StreamState, error: str | None = None) -> None:
        with self.state_changed:
            if error is not None:
                # last_error reaches the API and the log: never with credentials in it,
                # whoever produced the text (FFmpeg quotes URLs in its errors).
                self.last_error = redact_text(error)
            if state != self.state:
                log.info("stream %s: %s -> %s%s", self.name, self.state.value, state.value,
                         f" ({self.last_error})" if error else "")
                self.state = state
            self.state_changed.notify_all()

    def wait_for_state(self, states: set[StreamState], timeout: float) -> bool:
        """True once the state is one of `states` (tests, probe)."""
        deadline = time.monotonic() + timeout
        with self.state_changed:
            while self.state not in states:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.state_changed.wait(left)
            return True

    # -- the thread ------------------------------------------------------------------------
    def _run(self) -> None:
        log.info("reader:%s started (%s)", self.name, redact_url(self.config.url))
        if self._cpu_affinity is not None:
            self._cpu_affinity.enter(reader=True)
        try:
            self._loop()
        except Exception:
            log.error("reader:%s crashed", self.name, exc_info=True)
            self._set_state(StreamState.ERROR, "internal error in the reader (see log)")
        finally:
            if self._cpu_affinity is not None:
                self._cpu_affinity.leave()
            self._drop_keyframe()
            if self.state != StreamState.ERROR:
                self._set_state(StreamState.INACTIVE)
            log.info("reader:%s exited", self.name)

    def _loop(self) -> None:
        s = self.settings
        backoff = s.backoff_initial
        self._set_state(StreamState.STARTING)
        while not self._stop.is_set():
            self._beat()
            delay, flowed = self._session()
            if self._stop.is_set():
                break
            if flowed:
                backoff = s.backoff_initial
            if delay is None:  # transient failure: back off
                delay = min(backoff, s.refused_retry) if self._refused else backoff
                backoff = min(backoff * 2, s.backoff_max)
                self.reconnects += 1
                if self.state != StreamState.ERROR:
                    self._set_state(StreamState.RECONNECTING)
            if delay < 0:  # permanent, never retried
                self._stop.wait()
                break
            self._wait(delay)

    def _wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._beat()
            self._stop.wait(min(left, 1.0))

    def _session(self) -> tuple[float | None, bool]:
        """One connection: (delay before the next attempt or None for backoff, packets flowed)."""
        s = self.settings
        url = self.config.url
        started = time.monotonic()
        self._refused = False
        try:
            source = self._opener(url, self.config.protocol, s.open_timeout, s.stall_timeout,
                                  self._want_audio, self._stop)
        except PermanentSourceError as exc:
            self._set_state(StreamState.ERROR, exc.message)
            return (s.error_retry if exc.retry else -1.0), False
        except Exception as exc:
            message, permanent = describe_error(exc, url)
            if permanent:
                self._set_state(StreamState.ERROR, message)
                return s.error_retry, False
            self._refused = isinstance(exc, ConnectionRefusedError)
            if time.monotonic() - started >= s.open_timeout - 0.05:
                # FFmpeg reports its interrupted open as "invalid data": say what happened.
                message = f"no answer from {redact_url(url)} within {s.open_timeout:g} s"
            self._set_state(self.state, message)
            log.debug("stream %s: open failed: %s", self.name, message)
            return None, False
        flowed = False
        try:
            self.info = source.info
            log.info("stream %s: connected, %s", self.name, source.info.describe())
            flowed = self._pump(source)
            if not self._stop.is_set():
                self._set_state(self.state, "camera closed the stream or stopped sending")
        except Exception as exc:
            message, _ = describe_error(exc, url)
            if not self._stop.is_set():
                self._set_state(self.state, message)
                log.info("stream %s: read failed: %s", self.name, message)
        finally:
            self._retire_fixers()
            try:
                source.close()
            except Exception:
                log.debug("stream %s: close failed", self.name, exc_info=True)
        return None, flowed

    def _retire_fixers(self) -> None:
        self._repairs_done += sum(f.repairs for f in self._fixers)
        self._fixers = ()

    def _beat(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.beat()

    def _drop_keyframe(self) -> None:
        with self._lock:
            kf, self._keyframe = self._keyframe, None
        if kf is not None:
            kf.release()

    # -- per packet: the hot path ----------------------------------------------------------
    def _pump(self, source: Source) -> bool:
        """Demux until the source ends, fails or we are stopped; True if packets flowed."""
        info = source.info
        vidx = source.video_index
        vfix = TimestampRepair(info.video_time_base)
        afix = TimestampRepair(info.time_base(False))
        self._fixers = (vfix, afix)
        stop = self._stop
        mono = time.monotonic
        pending: Any = None  # the video access unit being assembled
        parts: list[Any] | None = None  # further same-dts packets of that access unit
        tick = mono() + 1.0
        tick_bytes, tick_video = self.bytes, 0
        packets_before = self.packets
        for pkt in source.packets():
            if stop.is_set():
                break
            if not pkt.size:
                # An empty packet (a demuxer's marker) must never become a 0-byte sample:
                # the MP4 demuxer then refuses the whole fragment.
                vfix.repairs += 1
                continue
            if pkt.stream_index == vidx:
                dts = pkt.dts
                if pending is not None:
                    if dts is not None and dts == pending.dts:
                        if parts is None:
                            parts = [pkt]
                        else:
                            parts.append(pkt)
                        vfix.repairs += 1
                        continue
                    self._emit(info, True, pending, parts, vfix)
                    tick_video += 1
                pending, parts = pkt, None
            else:
                self._emit(info, False, pkt, None, afix)
            now = mono()
            self.last_packet_mono = now
            if now >= tick:
                dt = now - tick + 1.0
                self.bitrate_bps = int((self.bytes - tick_bytes) * 8 / dt)
                self.fps_measured = tick_video / dt
                tick, tick_bytes, tick_video = now + 1.0, self.bytes, 0
                self._beat()
        return self.packets > packets_before

    def _emit(self, info: StreamInfo, is_video: bool, pkt: Any, parts: list[Any] | None,
              fix: TimestampRepair) -> None:
        fixed = fix.fix(pkt.pts, pkt.dts)
        if fixed is None:
            return
        key = bool(pkt.is_keyframe)
        if parts is None:
            # No copy: the pool holds the demuxer's packet itself (docs/performance.md).
            buf = self._pool.adopt(pkt, pkt.size)
        else:
            key = key or any(p.is_keyframe for p in parts)
            buf = self._pool.acquire_copy(b"".join([bytes(pkt), *(bytes(p) for p in parts)]))
        item = MediaPacket(info, is_video, key, fixed[0], fixed[1], pkt.duration or 0, buf,
                           self._clock.wall())
        self.packets += 1
        self.bytes += buf.size
        if self.state != StreamState.ACTIVE:
            self._set_state(StreamState.ACTIVE, "")
        consumers = self._consumers
        if is_video and key:
            self._keep_keyframe(item)
        if not consumers:
            buf.release()
            return
        for _ in range(len(consumers) - 1):
            buf.retain()
        for q in consumers:
            q.put(item)

    def _keep_keyframe(self, item: MediaPacket) -> None:
        item.buffer.retain()
        with self._lock:
            old, self._keyframe = self._keyframe, item
        if old is not None:
            old.release()
