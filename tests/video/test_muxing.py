"""Muxing from pooled packets: what reaches the file is exactly what the camera sent."""

from __future__ import annotations

import io
from pathlib import Path

import av

from lightnvr.core.memory.pool import BufferPool
from lightnvr.video.muxing import FRAGMENTED_MP4_OPTIONS, add_streams, make_packet
from lightnvr.video.packet import MediaPacket, StreamInfo


def test_slab_reuse_after_release_never_reaches_the_file(test_media: dict[str, Path]) -> None:
    """The muxer keeps interleaved packets after mux() returns; a slab recycled at once (a
    tiny pool) and scribbled over must not change what is written."""
    src = av.open(str(test_media["h264"]))
    video, audio = src.streams.video[0], src.streams.audio[0]
    info = StreamInfo(video, audio)
    originals: dict[str, list[bytes]] = {"video": [], "audio": []}
    pool = BufferPool([(256 * 1024, 2)])  # every packet lands in one of two slabs
    out_buf = io.BytesIO()
    out = av.open(out_buf, "w", format="mp4", options=dict(FRAGMENTED_MP4_OPTIONS))
    ov, oa = add_streams(out, info, True, "test")
    for n, pkt in enumerate(src.demux(video, audio)):
        if pkt.dts is None or n > 400:
            continue
        is_video = pkt.stream.index == video.index
        originals["video" if is_video else "audio"].append(bytes(pkt))
        item = MediaPacket(info, is_video, bool(pkt.is_keyframe), int(pkt.pts or pkt.dts),
                           int(pkt.dts), int(pkt.duration or 0), pool.acquire_copy(pkt), 0.0)
        out.mux(make_packet(item, ov if is_video else oa))
        item.release()
        scribble = pool.acquire_copy(b"\xee" * 200_000)  # the next camera packet
        scribble.release()
    out.close()
    src.close()
    written: dict[str, list[bytes]] = {"video": [], "audio": []}
    with av.open(io.BytesIO(out_buf.getvalue()), "r") as check:
        for pkt in check.demux():
            if pkt.size:
                written[str(pkt.stream.type)].append(bytes(pkt))
    assert written["video"] == originals["video"]
    assert written["audio"] == originals["audio"]
