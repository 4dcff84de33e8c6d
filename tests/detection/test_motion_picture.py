"""A motion event's picture is the frame in which the detector found the motion.

Before, the stream manager took the stream's newest keyframe at the callback: a detector that
lags under load (its queue holds a few keyframes) then shows a later moment, possibly after
the motion (a full test run once got both pictures of a burst without the ball). Here the real
MotionDetectorThread analyses a real H.264 clip in which a white box moves one step per
keyframe; every picture it hands to `on_motion` must show the box where that frame had it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from lightnvr.core.memory.handoff import HandoffQueue
from lightnvr.core.memory.pool import BufferPool
from lightnvr.core.stream_config import StreamConfig
from lightnvr.video.detection.detector import MotionDetectorThread
from lightnvr.video.detection.motion import MotionResult
from lightnvr.video.packet import MediaPacket, StreamInfo

W, H = 320, 240
BOX = 60
STILL = 4  # frames without the box (the detector's background)
MOVING = 5


def _box_x(frame_index: int) -> int:
    return 20 + 40 * (frame_index - STILL)


def _picture(frame_index: int) -> npt.NDArray[np.uint8]:
    rgb = np.full((H, W, 3), 90, np.uint8)
    if frame_index >= STILL:
        x = _box_x(frame_index)
        rgb[90:90 + BOX, x:x + BOX] = 250
    return rgb


def _clip(path: Path) -> Path:
    """Every frame a keyframe (the detector samples keyframes by default)."""
    with av.open(str(path), "w", format="mp4") as out:
        s: Any = out.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        s.codec_context.gop_size = 1
        for i in range(STILL + MOVING):
            frame = av.VideoFrame.from_ndarray(_picture(i), format="rgb24")
            out.mux(s.encode(frame))
        out.mux(s.encode(None))
    return path


def _grey(jpeg: bytes) -> npt.NDArray[np.uint8]:
    codec: Any = av.CodecContext.create("mjpeg", "r")
    frames = codec.decode(av.Packet(jpeg))
    out: npt.NDArray[np.uint8] = frames[0].to_ndarray(format="gray")
    return out


def test_each_motion_picture_shows_the_box_where_the_analysed_frame_had_it(
        tmp_path: Path) -> None:
    seen: list[tuple[float, bytes]] = []

    def on_motion(stream: str, result: MotionResult, wall: float,
                  picture: Callable[[], bytes]) -> None:
        seen.append((wall, picture()))

    config = StreamConfig(name="yard", url="rtsp://127.0.0.1/yard", detection_interval=1)
    queue: HandoffQueue[MediaPacket] = HandoffQueue("detect:yard", 64)
    detector = MotionDetectorThread(config, queue, on_motion)
    pool = BufferPool.from_budget(8 * 1024 * 1024)
    t0 = 1_800_000_000.0
    with av.open(str(_clip(tmp_path / "box.mp4"))) as clip:
        video = clip.streams.video[0]
        info = StreamInfo(video, None)
        for i, pkt in enumerate(p for p in clip.demux(video) if p.size):
            assert pkt.is_keyframe and pkt.pts is not None and pkt.dts is not None
            item = MediaPacket(info, True, True, pkt.pts, pkt.dts, pkt.duration or 0,
                               pool.acquire_copy(bytes(pkt)), t0 + i)  # one frame a second
            try:
                detector._handle(item)  # what the detector thread does with each packet
            finally:
                item.release()
    # the box appears and moves on at every frame: each is motion
    assert len(seen) >= MOVING - 1, [w - t0 for w, _ in seen]
    for wall, jpeg in seen:
        index = round(wall - t0)
        grey = _grey(jpeg)
        assert grey.shape == (H, W)  # the stream's own size, not the detector's small grey
        x = _box_x(index)
        inside = float(grey[95:85 + BOX, x + 5:x + BOX - 5].mean())
        assert inside > 200, (index, inside)  # the box of that very frame
        for other in range(STILL, STILL + MOVING):
            ox = _box_x(other)
            if abs(ox - x) >= BOX:  # where another frame had it, this one does not
                assert float(grey[95:85 + BOX, ox + 5:ox + BOX - 5].mean()) < 150, (index, other)
