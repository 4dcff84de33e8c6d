#!/usr/bin/python3
"""A real RTSP test camera on loopback: Debian's GStreamer RTSP server with live and looped mounts.

Run it with Debian's ``/usr/bin/python3`` (it needs ``gi``; the project venv does not have it):

    /usr/bin/python3 tools/test_camera.py --port 8554 --media-dir .cache/test-media

Mounts (all on ``rtsp://127.0.0.1:PORT/<mount>``):

- ``live264``  videotestsrc (moving ball + clock) -> x264enc, GOP 30, + AAC audio
- ``live265``  the same picture -> x265enc, + AAC audio
- ``live264na`` H.264 only (no audio track)
- ``still264`` motion-detection scene: a static picture (colour bars) with sensor-like noise
  (``snow`` blended at low alpha), H.264 only: a detector must see no motion in it
- ``moving264`` the same scene with a large dark ball (about a quarter of the picture's height,
  "person-sized") moving across it all the time
- ``half264``  the same scene with the ball moving in the right half of the picture only
  (zone tests: nothing ever moves in the left half)
- ``alt264``   the same scene, the ball shown only during the last ``--alt-motion`` seconds of
  every ``--alt-still`` + ``--alt-motion`` seconds of the wall clock (default 20 + 5 s,
  the scene issue #11 asks for): motion happens exactly when
  ``time.time() % period >= still``, so a test on the same machine knows when it does
- ``longgop264`` ``moving264`` with one keyframe every ``LONG_GOP_SECONDS`` (10 s: GOP 150
  at 15 fps), for detection on cameras whose GOP is much longer than the detection interval
- ``objects264`` ``half264`` with a white ball (object-detection tests: the brightest thing in
  the picture, always in the right half)
- ``levels264`` latency scene: a flat gray picture (320x180, GOP 1 s) whose level steps by the
  wall clock: level ``int(time.time() / LEVEL_PERIOD) % LEVELS``, gray ``level * LEVEL_STEP``
  (black, then lighter, ... then white), so a viewer that reads the gray knows when the camera
  showed it (glass-to-glass latency, unambiguous while under ``LEVELS * LEVEL_PERIOD``)
- ``file264``  ``<media-dir>/clip264.mp4`` (H.264 + AAC) looped WITHOUT re-encoding
- ``file265``  ``<media-dir>/clip265.mp4`` (H.265 + AAC) looped without re-encoding
  (file mounts exist only when the clip is there; make clips with tools/make_test_clips.py)

Prints ``READY rtsp://127.0.0.1:PORT/`` on stdout once it is listening. Several clients may
read a mount at once (one shared pipeline per mount). Stop it (SIGTERM/SIGINT) and start it
again on the same port to simulate a camera outage.

Design: one GLib main loop thread (this process's main thread) runs the server. File mounts
loop gaplessly: a flushing SEGMENT seek once the media is prepared, then a NON-flushing segment
seek on every SEGMENT_DONE, so the running time (and RTP timestamps) keeps increasing and
clients never see EOS / RTCP BYE. Their publish clock mode is CLOCK_AND_OFFSET so that a new
client's ``PLAY Range: npt=0-`` does not rewind the shared pipeline for everyone.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

# Before any subclass of a GStreamer type is defined: otherwise GstMessage is not yet a
# registered type, RTSPMedia's signals break and every mount answers 503.
Gst.init(None)

LONG_GOP_SECONDS = 10  # longgop264's keyframe spacing
LEVEL_PERIOD, LEVELS, LEVEL_STEP = 1.0, 12, 23  # levels264 (tests/ui/test_live_view.py)


def _video_source(width: int, height: int, fps: int) -> str:
    return (
        f"videotestsrc is-live=true pattern=ball ! "
        f"video/x-raw,width={width},height={height},framerate={fps}/1 ! "
        "clockoverlay ! videoconvert ! video/x-raw,format=I420"
    )


_AUDIO = (
    "audiotestsrc is-live=true wave=sine volume=0.2 ! audio/x-raw,rate=48000,channels=1 ! "
    "audioconvert ! voaacenc bitrate=64000 ! rtpmp4gpay name=pay1 pt=97"
)


def live_launches(width: int, height: int, fps: int, kbps: int) -> dict[str, str]:
    """Launch lines of the live (encoded on the fly) mounts."""
    v = _video_source(width, height, fps)
    gop = max(1, fps * 2)
    x264 = (f"x264enc tune=zerolatency speed-preset=ultrafast bitrate={kbps} key-int-max={gop} ! "
            "video/x-h264,profile=baseline ! rtph264pay name=pay0 pt=96 config-interval=-1")
    x265 = (f"x265enc tune=zerolatency speed-preset=ultrafast bitrate={max(kbps // 2, 200)} "
            f"key-int-max={gop} ! rtph265pay name=pay0 pt=96 config-interval=-1")
    return {
        "live264": f"( {v} ! {x264} {_AUDIO} )",
        "live265": f"( {v} ! {x265} {_AUDIO} )",
        "live264na": f"( {v} ! {x264} )",
    }


def file_launch(path: str, vcodec: str) -> str:
    """Launch line that sends a clip's video and audio without re-encoding."""
    return (
        f"( filesrc location={path} ! qtdemux name=d "
        f"d.video_0 ! queue ! {vcodec}parse ! rtp{vcodec}pay name=pay0 pt=96 config-interval=-1 "
        "d.audio_0 ! queue ! aacparse ! rtpmp4gpay name=pay1 pt=97 )"
    )


def scene_launches(width: int, height: int, fps: int, kbps: int) -> dict[str, str]:
    """Launch lines of the motion-detection scenes (see the module doc)."""
    caps = f"video/x-raw,width={width},height={height},framerate={fps}/1"
    x264 = _scene_x264(kbps, max(1, fps * 2))
    # Noise: snow at quarter size, scaled up (2x2 blobs, like a small sensor's grain), blended
    # at 15 % over the bars: every pixel flickers by up to ~+-20 gray levels, every frame.
    base = (f"videotestsrc is-live=true pattern=smpte75 ! {caps} ! m.sink_0 "
            f"videotestsrc is-live=true pattern=snow ! "
            f"video/x-raw,width={width // 2},height={height // 2},framerate={fps}/1 ! "
            f"videoscale ! {caps} ! m.sink_1 ")
    # The ball is drawn at a quarter of the size and scaled up, so it is large; its
    # transparent background (AYUV) leaves the bars visible.
    ball = ("videotestsrc is-live=true pattern=ball background-color=0x00000000 "
            "foreground-color=0xff202020 ! "
            f"video/x-raw,format=AYUV,width={width // 4},height={height // 4},framerate={fps}/1 "
            f"! videoscale ! video/x-raw,width={width},height={height} ! m.sink_2 ")
    # The output size is the scene's, whatever the layers' positions (the compositor would
    # otherwise grow to hold every layer).
    mix = ("compositor name=m sink_1::alpha=0.15 sink_2::zorder=3 {alpha} ! videoconvert ! "
           f"video/x-raw,format=I420,width={width},height={height} ! {{enc}} ")
    half = width // 2
    right_ball = ("videotestsrc is-live=true pattern=ball background-color=0x00000000 "
                  "foreground-color=0xff202020 ! "
                  f"video/x-raw,format=AYUV,width={half // 2},height={height // 4},"
                  f"framerate={fps}/1 ! videoscale ! video/x-raw,width={half},height={height}"
                  " ! m.sink_2 ")
    # A long-GOP camera (one keyframe every LONG_GOP_SECONDS): keyframe-only detection sees it
    # at most once per GOP, every-frame detection at its interval.
    long_gop = _scene_x264(kbps, max(1, fps * LONG_GOP_SECONDS))
    # Object detection: a WHITE ball in the right half (the bars are at most 75 % white, the
    # noise adds little), so a model that boxes "the brightest pixels" boxes the ball.
    white_ball = right_ball.replace("foreground-color=0xff202020", "foreground-color=0xffffffff")
    return {
        "still264": f"( {mix.format(alpha='', enc=x264)} {base} )",
        "moving264": f"( {mix.format(alpha='', enc=x264)} {base} {ball} )",
        "alt264": f"( {mix.format(alpha='sink_2::alpha=0', enc=x264)} {base} {ball} )",
        "half264": f"( {mix.format(alpha=f'sink_2::xpos={half}', enc=x264)} {base} "
                   f"{right_ball} )",
        "longgop264": f"( {mix.format(alpha='', enc=long_gop)} {base} {ball} )",
        "objects264": f"( {mix.format(alpha=f'sink_2::xpos={half}', enc=x264)} {base} "
                      f"{white_ball} )",
    }


def _scene_x264(kbps: int, gop: int) -> str:
    return (f"x264enc tune=zerolatency speed-preset=ultrafast bitrate={kbps} key-int-max={gop} "
            "! video/x-h264,profile=baseline ! rtph264pay name=pay0 pt=96 config-interval=-1")


class AlternatingMedia(GstRtspServer.RTSPMedia):  # type: ignore[misc]
    """alt264: shows the ball (compositor pad sink_2) while the wall clock is in a motion
    phase. `still`/`motion` are set on the class by build_server()."""

    still = 20.0
    motion = 5.0

    def do_prepared(self):  # type: ignore[no-untyped-def]
        GLib.timeout_add(50, self._tick)

    def _tick(self) -> bool:
        status = self.get_status()
        # do_prepared runs while the status may still read PREPARING: stop the timer only
        # once the media is being torn down (a stopped timer would freeze the scene).
        if status in (GstRtspServer.RTSPMediaStatus.UNPREPARING,
                      GstRtspServer.RTSPMediaStatus.UNPREPARED,
                      GstRtspServer.RTSPMediaStatus.ERROR):
            return False
        mixer = self.get_element().get_by_name("m")
        pad = mixer.get_static_pad("sink_2") if mixer is not None else None
        if pad is not None:
            moving = time.time() % (self.still + self.motion) >= self.still
            pad.set_property("alpha", 1.0 if moving else 0.0)
        return True


class LevelMedia(GstRtspServer.RTSPMedia):  # type: ignore[misc]
    """levels264: the gray level follows the wall clock (see the module doc). The colour is
    set only when the level changes: videotestsrc does not take a property change at every
    frame from another thread well (a crash under many clients)."""

    gray = -1

    def do_prepared(self):  # type: ignore[no-untyped-def]
        GLib.timeout_add(5, self._tick)

    def _tick(self) -> bool:
        if self.get_status() in (GstRtspServer.RTSPMediaStatus.UNPREPARING,
                                 GstRtspServer.RTSPMediaStatus.UNPREPARED,
                                 GstRtspServer.RTSPMediaStatus.ERROR):
            return False
        src = self.get_element().get_by_name("lvl")
        gray = int(time.time() / LEVEL_PERIOD) % LEVELS * LEVEL_STEP
        if src is not None and gray != self.gray:
            self.gray = gray
            src.set_property("foreground-color", 0xFF000000 | gray * 0x010101)
        return True


class LoopMedia(GstRtspServer.RTSPMedia):  # type: ignore[misc]
    """A file media that loops gaplessly (see the module's Design paragraph)."""

    def do_prepared(self):  # type: ignore[no-untyped-def]  # GObject vfunc: no annotations
        self.get_element().seek(
            1.0, Gst.Format.TIME, Gst.SeekFlags.FLUSH | Gst.SeekFlags.SEGMENT,
            Gst.SeekType.SET, 0, Gst.SeekType.NONE, -1)

    def do_handle_message(self, message):  # type: ignore[no-untyped-def]
        if message.type == Gst.MessageType.SEGMENT_DONE:
            # Non-flushing: running time keeps growing, so RTP timestamps stay monotonic.
            self.get_element().seek(
                1.0, Gst.Format.TIME, Gst.SeekFlags.SEGMENT,
                Gst.SeekType.SET, 0, Gst.SeekType.NONE, -1)
            return True
        return bool(GstRtspServer.RTSPMedia.do_handle_message(self, message))


def build_server(args: argparse.Namespace) -> GstRtspServer.RTSPServer:
    server = GstRtspServer.RTSPServer()
    server.set_address(args.address)
    server.set_service(str(args.port))
    mounts = server.get_mount_points()
    width, height = (int(x) for x in args.size.split("x"))
    for name, launch in live_launches(width, height, args.fps, args.kbps).items():
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(launch)
        factory.set_shared(True)  # one encoder per mount, whatever the number of clients
        mounts.add_factory("/" + name, factory)
    AlternatingMedia.still, AlternatingMedia.motion = args.alt_still, args.alt_motion
    for name, launch in scene_launches(width, height, args.fps, args.kbps).items():
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(launch)
        factory.set_shared(True)
        if name == "alt264":
            factory.set_media_gtype(AlternatingMedia)
        mounts.add_factory("/" + name, factory)
    levels = GstRtspServer.RTSPMediaFactory()
    levels.set_launch(
        f"( videotestsrc name=lvl is-live=true pattern=solid-color ! "
        f"video/x-raw,width=320,height=180,framerate={args.fps}/1 ! "
        f"{_scene_x264(300, args.fps)} )")
    levels.set_shared(True)
    levels.set_media_gtype(LevelMedia)
    mounts.add_factory("/levels264", levels)
    media_dir = os.path.abspath(args.media_dir) if args.media_dir else ""
    for name, clip, vcodec in (("file264", "clip264.mp4", "h264"),
                               ("file265", "clip265.mp4", "h265")):
        path = os.path.join(media_dir, clip)
        if not media_dir or not os.path.isfile(path):
            continue
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(file_launch(path, vcodec))
        factory.set_shared(True)
        factory.set_media_gtype(LoopMedia)
        factory.set_publish_clock_mode(GstRtspServer.RTSPPublishClockMode.CLOCK_AND_OFFSET)
        mounts.add_factory("/" + name, factory)
    return server


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8554)
    ap.add_argument("--address", default="127.0.0.1")
    ap.add_argument("--media-dir", default="", help="folder with clip264.mp4 / clip265.mp4")
    ap.add_argument("--size", default="1280x720", help="live mounts' picture size WxH")
    ap.add_argument("--fps", type=int, default=15)
    ap.add_argument("--kbps", type=int, default=2000, help="live H.264 bitrate")
    ap.add_argument("--alt-still", type=float, default=20.0, help="alt264: still seconds")
    ap.add_argument("--alt-motion", type=float, default=5.0, help="alt264: motion seconds")
    args = ap.parse_args(argv)
    server = build_server(args)
    if server.attach(None) == 0:
        print(f"ERROR cannot listen on {args.address}:{args.port}", file=sys.stderr, flush=True)
        return 1
    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, sig, loop.quit)
    print(f"READY rtsp://{args.address}:{args.port}/", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
