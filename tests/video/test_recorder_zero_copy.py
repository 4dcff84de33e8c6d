"""The recorder's packets without copies: the reader's pool holds the demuxer's own packet
(BufferPool.adopt) and the recorder muxes that packet in place; what reaches the file is
still exactly what the camera sent, and a second consumer copying the same items meanwhile
reads the same bytes."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import av

from lightnvr.core.memory.handoff import HandoffQueue
from lightnvr.core.memory.pool import BufferPool
from lightnvr.core.stream_config import StreamConfig
from lightnvr.video.muxing import FRAGMENTED_MP4_OPTIONS, add_streams, make_packet
from lightnvr.video.packet import MediaPacket, StreamInfo
from lightnvr.video.reader import StreamReader
from tests.fixtures.camera import TestCamera
from tests.fixtures.wait import wait_until


def _written(data: bytes) -> dict[str, list[bytes]]:
    out: dict[str, list[bytes]] = {"video": [], "audio": []}
    with av.open(io.BytesIO(data), "r") as check:
        for pkt in check.demux():
            if pkt.size:
                out[str(pkt.stream.type)].append(bytes(pkt))
    return out


def test_in_place_mux_of_adopted_packets_is_bit_exact(test_media: dict[str, Path]) -> None:
    src = av.open(str(test_media["h264"]))
    video, audio = src.streams.video[0], src.streams.audio[0]
    info = StreamInfo(video, audio)
    pool = BufferPool([(256 * 1024, 2)])
    originals: dict[str, list[bytes]] = {"video": [], "audio": []}
    rec_buf, live_buf = io.BytesIO(), io.BytesIO()
    rec = av.open(rec_buf, "w", format="mp4", options=dict(FRAGMENTED_MP4_OPTIONS))
    live = av.open(live_buf, "w", format="mp4", options=dict(FRAGMENTED_MP4_OPTIONS))
    rv, ra = add_streams(rec, info, True, "rec")
    lv, la = add_streams(live, info, True, "live")
    items: list[MediaPacket] = []
    for n, pkt in enumerate(src.demux(video, audio)):
        if pkt.dts is None or n > 400:
            continue
        is_video = pkt.stream.index == video.index
        originals["video" if is_video else "audio"].append(bytes(pkt))
        items.append(MediaPacket(info, is_video, bool(pkt.is_keyframe), int(pkt.pts or pkt.dts),
                                 int(pkt.dts), int(pkt.duration or 0),
                                 pool.adopt(pkt, pkt.size), 0.0))
    assert pool.stats().adopted_in_use == len(items) and pool.stats().allocated_bytes == 0
    for item in items:
        item.buffer.retain()  # two consumers

    def live_consumer() -> None:  # copies (the default), from another thread
        for item in items:
            live.mux(make_packet(item, lv if item.is_video else la))
            item.release()

    t = threading.Thread(target=live_consumer, name="test-live")
    t.start()
    for item in items:
        pkt = make_packet(item, rv if item.is_video else ra, in_place=True)
        assert pkt is item.buffer.adopted  # the demuxer's packet itself: no copy
        rec.mux(pkt)
        item.release()
    t.join(60)
    assert not t.is_alive()
    rec.close()
    live.close()
    src.close()
    assert _written(rec_buf.getvalue()) == originals
    assert _written(live_buf.getvalue()) == originals
    s = pool.stats()
    assert (s.adopted_in_use, s.adopted_bytes, s.slabs_in_use) == (0, 0, 0)


def test_reader_hands_out_the_demuxers_packets_without_a_copy(
        rtsp_camera: TestCamera) -> None:
    pool = BufferPool.from_budget(8 * 1024 * 1024)
    q: HandoffQueue[MediaPacket] = HandoffQueue("rec:zc", 4096)
    reader = StreamReader(StreamConfig("zc", rtsp_camera.url("file264")), pool)
    reader.add_consumer(q)
    got: list[MediaPacket] = []
    reader.start()
    try:
        def collect() -> bool:
            batch = q.take_all()
            assert isinstance(batch, list)
            got.extend(batch)
            return sum(i.is_video for i in got) >= 40
        assert wait_until(collect, 30)
        held = pool.stats()
        # Every packet the consumer holds is the demuxer's own (an IDR split over several
        # same-dts packets is joined into one slab: the only copy left).
        adopted = [i for i in got if i.buffer.adopted is not None]
        assert len(adopted) >= len(got) - sum(i.is_keyframe for i in got)
        assert all(bytes(i.buffer.view()) == bytes(i.buffer.adopted) for i in adopted)
        assert held.adopted_in_use >= len(adopted) and held.adopted_bytes > 0
        assert any(not i.is_video for i in adopted) and any(i.is_video for i in adopted)
    finally:
        reader.stop(10)
        for i in got:
            i.release()
        rest = q.take_all()
        if isinstance(rest, list):
            for i in rest:
                i.release()
    assert wait_until(lambda: pool.stats().adopted_in_use == 0, 10)
