"""Live view: stream-copy one camera into a rolling HLS playlist (fMP4 segments of ~2 s).

Design: `LiveWriter` owns one thread, `live:<stream>`, fed by its HandoffQueue (governor role
LIVE: under PRESSURE only keyframes arrive, under CRITICAL nothing). It muxes packets without
re-encoding through FFmpeg's HLS muxer into `<hls_path>/<stream>/index.m3u8` + `seg_N.m4s`
(+ `init.mp4`); the playlist keeps `list_size` segments and older segments are deleted by the
muxer, so the directory stays bounded. The playlist is written to a temp file and renamed, so
the web server never serves a half-written one. A reconnect (new StreamInfo) reopens the
muxer, continuing the segment numbers. The thread exits when its queue is closed and drained,
then removes its files (stale live video must not be served). H.265 is tagged `hvc1`.
"""

from __future__ import annotations

import logging
import os
import shutil
from typing import Any

from lightnvr.core.memory.handoff import HandoffQueue
from lightnvr.video.consumer import ConsumerThread, consume
from lightnvr.video.muxing import add_streams, make_packet
from lightnvr.video.packet import MediaPacket, StreamInfo

log = logging.getLogger(__name__)

PLAYLIST = "index.m3u8"
# FFmpeg's interleaver holds packets until every stream of the output has one queued, or until
# they span max_interleave_delta (default 10 s). Under governor PRESSURE the live queue passes
# only video keyframes, no audio, so with the default a playlist with an audio track froze for
# ~10 s and then caught up in a burst, while an audio-less one kept going. Half a second still
# interleaves normal RTSP arrival order (audio and video within ~0.1 s of each other).
INTERLEAVE_DELTA_US = 500_000


def _nothing() -> None:
    return None


class LiveWriter(ConsumerThread):
    """HLS output of one stream; see the module doc."""

    THREAD_PREFIX = "live"

    def __init__(self, name: str, hls_root: str, queue: HandoffQueue[MediaPacket],
                 segment_seconds: float = 2.0, list_size: int = 5,
                 with_audio: bool = True) -> None:
        super().__init__()
        self.name = name
        self.directory = os.path.join(hls_root, name)
        self.queue = queue
        self.segment_seconds = segment_seconds
        self.list_size = list_size
        self.with_audio = with_audio
        self._out: Any = None
        self._info: StreamInfo | None = None
        self._streams: tuple[Any, Any] = (None, None)
        self._started = False
        self._next_number = 0
        self.packets = 0

    def _run(self) -> None:
        log.info("live:%s started (%s)", self.name, self.directory)
        try:
            consume(self.queue, self._one, _nothing, self._wake, beat=self._beat)
        finally:
            self._close()
            self.queue.discard_all()
            shutil.rmtree(self.directory, ignore_errors=True)
            log.info("live:%s exited", self.name)

    def _one(self, item: MediaPacket) -> None:
        try:
            self._handle(item)
        except Exception:
            if self._count_error("packet not written") % 10 == 0:
                self._close()
        finally:
            item.release()

    def _handle(self, item: MediaPacket) -> None:
        if item.info is not self._info:
            self._close()
            self._info = item.info
        if self._out is None:
            if not (item.is_video and item.is_keyframe):
                return  # a playlist starts on a keyframe
            self._open(item.info)
        stream = self._streams[0] if item.is_video else self._streams[1]
        if stream is None:
            return
        self._out.mux(make_packet(item, stream))
        self.packets += 1

    def _open(self, info: StreamInfo) -> None:
        import av

        os.makedirs(self.directory, exist_ok=True)
        self._remove_segments()  # a new muxer would never delete the old one's segments
        options = {
            "hls_time": f"{self.segment_seconds:g}",
            "hls_list_size": str(self.list_size),
            "hls_segment_type": "fmp4",
            "hls_fmp4_init_filename": "init.mp4",
            "hls_segment_filename": os.path.join(self.directory, "seg_%d.m4s"),
            "hls_flags": "delete_segments+independent_segments+temp_file+omit_endlist",
            "start_number": str(self._next_number),
            # See INTERLEAVE_DELTA_US: never hold video back waiting for audio that was dropped.
            "max_interleave_delta": str(INTERLEAVE_DELTA_US),
        }
        out = av.open(os.path.join(self.directory, PLAYLIST), "w", format="hls",
                      options=options)
        try:
            self._streams = add_streams(out, info, self.with_audio, f"live:{self.name}")
        except Exception:
            out.close()
            raise
        self._out = out

    def _close(self) -> None:
        out, self._out = self._out, None
        if out is None:
            return
        try:
            out.close()
        except Exception:
            log.debug("live:%s: close failed", self.name, exc_info=True)
        # Continue numbering after a reopen so players never see a segment name reused.
        self._next_number = self._highest_segment() + 1

    def _segment_numbers(self) -> list[int]:
        try:
            names = os.listdir(self.directory)
        except OSError:
            return []
        stems = (n[4:].split(".")[0] for n in names if n.startswith("seg_"))
        return [int(s) for s in stems if s.isdigit()]

    def _highest_segment(self) -> int:
        return max(self._segment_numbers(), default=self._next_number)

    def _remove_segments(self) -> None:
        for n in self._segment_numbers():
            try:
                os.unlink(os.path.join(self.directory, f"seg_{n}.m4s"))
            except OSError:
                pass
