"""Stream-copy muxing helpers shared by the recorder and the live writer."""

from __future__ import annotations

import logging
from typing import Any

from lightnvr.video.avcompat import add_stream_copy
from lightnvr.video.packet import MediaPacket, StreamInfo

log = logging.getLogger(__name__)

# Fragmented MP4 that survives SIGKILL: moov first, a fragment per keyframe and at least every
# second, each written through at once -> a crash loses at most ~1 s (docs/storage.md,
# Recording step 3).
FRAGMENTED_MP4_OPTIONS = {
    "movflags": "frag_keyframe+empty_moov+default_base_moof",
    "flush_packets": "1",
    "frag_duration": "1000000",
}


def add_streams(out: Any, info: StreamInfo, with_audio: bool, what: str) -> tuple[Any, Any]:
    """(video stream, audio stream or None) added to the output container `out`.

    H.265 is tagged `hvc1` (FFmpeg's default `hev1` is refused by Safari/Chromium and some
    players). Audio the container cannot take is left out with a warning: never breaks video.
    """
    video = add_stream_copy(out, info.video_template)
    if info.video_codec == "hevc":
        video.codec_context.codec_tag = "hvc1"
    audio = None
    if with_audio and info.audio_template is not None:
        try:
            audio = add_stream_copy(out, info.audio_template)
        except ValueError as exc:
            log.warning("%s: audio %s left out: %s", what, info.audio_codec, exc)
    return video, audio


def make_packet(item: MediaPacket, stream: Any, in_place: bool = False) -> Any:
    """A PyAV packet for `stream`: a fresh one, or with `in_place` the demuxer's own packet
    when the pool holds it (BufferPool.adopt) - no copy at all. mux() rewrites a packet's
    timestamps and stream in place, so `in_place` is for ONE consumer of a reader (the
    recorder); the bytes are never changed, so the others may read them meanwhile."""
    import av

    pkt = item.buffer.adopted if in_place else None
    if pkt is not None:
        pkt.stream = stream
        pkt.time_base = item.info.time_base(item.is_video)
        pkt.pts = item.pts
        pkt.dts = item.dts
        pkt.duration = item.duration
        pkt.is_keyframe = item.is_keyframe
        return pkt
    data = item.buffer.view()
    size = len(data)
    if not size:
        raise ValueError(f"refusing to mux an empty packet: {item!r}")
    # A copy, never the view: the muxer's interleaving queue keeps packets after mux()
    # returns, while our slab goes back to the pool at release() and is overwritten by the
    # next packet. The copy goes into memory FFmpeg allocates and frees itself: av.Packet(b)
    # of a Python bytes object would be freed through a callback that takes the GIL from
    # inside the next mux() call (one more GIL handoff per packet, a futex under contention).
    pkt = av.Packet(size)
    memoryview(pkt)[:] = data
    pkt.stream = stream
    pkt.time_base = item.info.time_base(item.is_video)
    pkt.pts = item.pts
    pkt.dts = item.dts
    if item.duration:
        pkt.duration = item.duration
    pkt.is_keyframe = item.is_keyframe
    return pkt
