"""Opening a camera: URL checks, PyAV options, and turning FFmpeg's errors into readable ones.

A *source* is what a reader demuxes: `open_source()` returns an object with `info`
(a StreamInfo), `video_index`/`audio_index`, `packets()` (an iterator of PyAV packets of those
two streams; it ends when the camera goes away) and `close()`. RTSP/RTMP/HTTP cameras go
through FFmpeg; `demo://` URLs are the in-process demo camera (demo.py).

Errors: `PermanentSourceError` means retrying soon is pointless (the user must change
something): unsupported URL scheme, authentication refused (401/403), no such path on the
camera (404), no video stream. `retry` on it says whether the reader keeps retrying slowly
(the camera's answer may change: a password fixed on the camera, a path created later) or
waits until the stream's settings change (a bad URL scheme never heals by itself). Everything
else (refused connection, timeout, end of stream) is transient: reconnect with backoff.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, Protocol
from urllib.parse import urlsplit

from lightnvr.core.redact import redact_text, redact_url
from lightnvr.video.packet import StreamInfo

log = logging.getLogger(__name__)

NETWORK_SCHEMES = frozenset({"rtsp", "rtsps", "rtmp", "rtmps", "http", "https"})
DEMO_SCHEME = "demo"
AUDIO_PASSTHROUGH = frozenset({"aac"})  # what the MP4 recorder and HLS writer accept as is
# FFmpeg protocols a camera may need, for the URL itself and for everything it makes FFmpeg
# open in turn (RTSP's TCP/UDP/RTP/TLS/HTTP-tunnel transports, HLS playlists' segments, RTMPT).
# ("rtsp" is a demuxer, not a protocol: it opens tcp/udp/tls.) Never file, concat(f), subfile,
# pipe, fd, data, crypto, cache, async or unix: a remote playlist or redirect could name them
# and make the daemon read local files or decrypt attacker-chosen input.
PROTOCOL_WHITELIST = ",".join((
    "tcp", "udp", "rtp", "srtp", "tls", "http", "https", "httpproxy",
    "rtmp", "rtmps", "rtmpt", "rtmpts", "ffrtmphttp"))


class PermanentSourceError(Exception):
    """The camera cannot work with these settings; `retry` False: do not retry at all."""

    def __init__(self, message: str, retry: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.retry = retry


class Source(Protocol):
    info: StreamInfo
    video_index: int
    audio_index: int  # -1: none

    def packets(self) -> Iterator[Any]: ...

    def close(self) -> None: ...


def check_url(url: str, allow_demo: bool = True) -> str:
    """The URL's scheme if lightnvr can open it, else PermanentSourceError(retry=False).

    `allow_demo=False` (the daemon without `[general] demo_mode`) refuses `demo://`: a stream
    stored while demo mode was on must not keep encoding clips once it is off.
    """
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        scheme = ""
    if scheme == DEMO_SCHEME and not allow_demo:
        raise PermanentSourceError(
            "demo:// cameras need [general] demo_mode = true", retry=False)
    if scheme in NETWORK_SCHEMES or scheme == DEMO_SCHEME:
        return scheme
    shown = f"'{scheme}'" if scheme else "none"
    raise PermanentSourceError(
        f"unsupported URL scheme ({shown}) in {redact_url(url)!r}: use rtsp://host[:port]/path "
        "(also rtsps, rtmp, http(s)) or demo://", retry=False)


def describe_error(exc: BaseException, url: str) -> tuple[str, bool]:
    """(readable message, permanent?) for an exception raised while opening or reading.

    The message holds no credentials: the URL is shown through `redact_url`, and FFmpeg's own
    text (which may quote the URL, or a playlist's) goes through `redact_text`.
    """
    message, permanent = _describe(exc, redact_url(url))
    return redact_text(message), permanent


def _describe(exc: BaseException, where: str) -> tuple[str, bool]:
    import av

    if isinstance(exc, av.error.HTTPUnauthorizedError):
        return f"camera refused the credentials (401 Unauthorized) at {where}: check user and " \
               "password in the URL", True
    if isinstance(exc, av.error.HTTPForbiddenError):
        return f"camera denied access (403 Forbidden) at {where}", True
    if isinstance(exc, av.error.HTTPNotFoundError):
        return f"camera has no stream at this path (404 Not Found): {where}", True
    if isinstance(exc, av.error.HTTPServerError):
        return f"camera answered with a server error (5xx) at {where}", False
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {where} (camera off or wrong port?)", False
    if isinstance(exc, av.error.ExitError | av.error.TimeoutError | TimeoutError):
        return f"no answer from {where} within the timeout", False
    if isinstance(exc, av.error.FFmpegError):
        text = exc.strerror or str(exc)
        return f"{text} ({where})", False
    return f"{type(exc).__name__}: {exc} ({where})", False


class NetworkSource:
    """An FFmpeg-demuxed camera (RTSP over TCP or UDP, RTMP, HTTP)."""

    def __init__(self, url: str, protocol: int, open_timeout: float, read_timeout: float,
                 want_audio: bool) -> None:
        import av

        options = {
            "timeout": str(int(read_timeout * 1_000_000)),  # socket I/O timeout, in µs
            "analyzeduration": "500000",  # ~0.6 s to open instead of ~1.9 s
            "probesize": "500000",
            "fflags": "nobuffer",
            "protocol_whitelist": PROTOCOL_WHITELIST,
        }
        if urlsplit(url).scheme.lower() in ("rtsp", "rtsps"):
            options["rtsp_transport"] = "udp" if protocol == 1 else "tcp"
        # No PyAV read timeout: its interrupt callback takes the GIL on every FFmpeg I/O check
        # (measured: +50% CPU per stream). Stalls are caught by the socket timeout above.
        self._container = av.open(url, options=options, timeout=(open_timeout, None))
        try:
            self._setup(url, want_audio)
        except BaseException:
            self._container.close()
            raise

    def _setup(self, url: str, want_audio: bool) -> None:
        streams = self._container.streams
        if not streams.video:
            raise PermanentSourceError(f"camera sends no video stream ({redact_url(url)})")
        video = streams.video[0]
        audio = streams.audio[0] if streams.audio else None
        if audio is not None and (not want_audio or audio.codec_context.name
                                  not in AUDIO_PASSTHROUGH):
            if want_audio:
                log.warning("%s: audio codec %s cannot be stored in MP4/HLS as is; "
                            "recording video only", redact_url(url), audio.codec_context.name)
            audio = None
        self.info = StreamInfo(video, audio)
        self.video_index = video.index
        self.audio_index = audio.index if audio is not None else -1
        self._streams = [video] if audio is None else [video, audio]

    def packets(self) -> Iterator[Any]:
        return self._container.demux(self._streams)  # type: ignore[no-any-return]

    def close(self) -> None:
        self._container.close()


def open_source(url: str, protocol: int = 0, open_timeout: float = 5.0,
                read_timeout: float = 10.0, want_audio: bool = True,
                stop: Any = None, allow_demo: bool = True) -> Source:
    """Open a camera; raises PermanentSourceError or the underlying (transient) error."""
    scheme = check_url(url, allow_demo)
    if scheme == DEMO_SCHEME:
        from lightnvr.video.demo import DemoSource

        return DemoSource(url, stop=stop)
    return NetworkSource(url, protocol, open_timeout, read_timeout, want_audio)
