"""Export a time range of one stream as a single MP4, cut at keyframes, never re-encoded.

`GET /api/export?stream=NAME&start=T&end=T[&download=1]` (T: epoch seconds or ISO 8601, as
everywhere in the API). The recordings that overlap the range — the segment still being
written too — are remuxed with PyAV, packets copied as they are: the file starts at the last
keyframe at or before `start` (so it decodes from its first frame) and ends with the last
frame before `end`. Its duration is therefore the range plus at most one GOP.

Bounded work: at most MAX_RANGE seconds, MAX_EXPORTS exports at a time (each holds a web
worker while it streams; more answer 429 with Retry-After), nothing written to disk (as the
batch ZIP: a viewer must not be able to fill the recordings filesystem). The answer is
fragmented MP4 (moov first, then fragments) built while it is sent, so it has no
Content-Length. Recordings whose video parameters differ from the first one's (a camera that
changed resolution or codec mid-range) end the export there (logged): one MP4 holds one video
format.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lightnvr.storage.paths import recording_file
from lightnvr.web import media
from lightnvr.web.api.recordings import iso, overlapping, parse_time
from lightnvr.web.api.streams import path_stream
from lightnvr.web.http import Access, HTTPError, Request, Response
from lightnvr.web.stream_sink import StreamSink

if TYPE_CHECKING:
    from lightnvr.database.recordings import Recording
    from lightnvr.web.context import WebContext
    from lightnvr.web.router import Router

log = logging.getLogger(__name__)

MAX_RANGE = 3 * 3600.0  # s: an afternoon; longer spans are what the ZIP of segments is for
MAX_EXPORTS = 2
FRAGMENTED = {"movflags": "frag_keyframe+empty_moov+default_base_moof"}


@dataclass(frozen=True, slots=True)
class ExportPlan:
    """What one export copies: the stream's recordings overlapping [start, end), by start."""

    stream: str
    start: float
    end: float
    files: tuple[tuple[Recording, str], ...]


def _same_format(a: Any, b: Any) -> bool:
    ca, cb = a.codec_context, b.codec_context
    return bool(ca.name == cb.name and ca.width == cb.width and ca.height == cb.height
                and (ca.extradata or b"") == (cb.extradata or b""))


class _Remux:
    """Copies packets of several recordings into one output, on one wall-clock time axis."""

    def __init__(self, plan: ExportPlan, sink: StreamSink) -> None:
        import av  # only here: the web layer touches media for exports and thumbnails alone

        self.plan = plan
        self.sink = sink
        self.out = av.open(sink, "w", format="mp4", options=dict(FRAGMENTED))
        self.ovideo: Any = None
        self.oaudio: Any = None
        self.template: Any = None
        self.origin: float | None = None  # wall time of the output's t=0 (the first keyframe)
        self.last_dts: dict[int, int] = {}
        self.truncated = False
        self.video_packets = 0

    def run(self) -> Iterator[bytes]:
        import av

        from lightnvr.video.avcompat import add_stream_copy

        try:
            for rec, path in self.plan.files:
                try:
                    src = av.open(path)
                except (OSError, av.FFmpegError):
                    log.warning("export: %s cannot be read, skipped", path, exc_info=True)
                    continue
                with src:
                    if not src.streams.video:
                        continue
                    v = src.streams.video[0]
                    a = src.streams.audio[0] if src.streams.audio else None
                    if self.template is None:
                        self.template = v
                        self.ovideo = add_stream_copy(self.out, v)
                        if a is not None:
                            self.oaudio = add_stream_copy(self.out, a)
                        self.out.start_encoding()
                    elif not _same_format(self.template, v):
                        self.truncated = True
                        break
                    done = yield from self._copy(rec, src, v, a)
                    if done:
                        break
            if self.template is not None:
                self.out.close()
                yield self.sink.take()
        finally:
            if self.template is None:
                self.out.close()  # nothing written: still release the muxer

    def _copy(self, rec: Recording, src: Any, v: Any,
              a: Any) -> Generator[bytes, None, bool]:
        """Copy one recording's packets in [start, end); True once `end` is reached."""
        origin_ticks = v.start_time or 0  # the file's first video timestamp = rec.start_time
        tb = v.time_base
        offset = self.plan.start - rec.start_time
        if offset > 0:
            # backward + keyframe: lands on the last keyframe at or before `start`
            src.seek(origin_ticks + int(offset / tb), stream=v, backward=True, any_frame=False)
        started = self.origin is not None
        streams = [s for s in (v, a) if s is not None]
        for pkt in src.demux(*streams):
            if pkt.dts is None or pkt.size == 0:
                continue
            ptb = pkt.time_base
            wall = rec.start_time + float((pkt.dts - (origin_ticks * tb / ptb)) * ptb)
            is_video = pkt.stream is v
            if is_video:
                if wall >= self.plan.end:
                    return True
                if not started:
                    if not pkt.is_keyframe:
                        continue
                    started = True
                    self.origin = wall
            elif not started or wall >= self.plan.end:
                continue
            out_stream = self.ovideo if is_video else self.oaudio
            if out_stream is None:
                continue
            assert self.origin is not None
            shift = round((wall - self.origin) / float(ptb)) - pkt.dts
            dts = pkt.dts + shift
            if dts <= self.last_dts.get(id(out_stream), -1):
                continue  # overlap between recordings: each instant once
            self.last_dts[id(out_stream)] = dts
            pkt.pts = (pkt.pts + shift) if pkt.pts is not None else dts
            pkt.dts = dts
            pkt.stream = out_stream
            self.out.mux(pkt)
            if is_video:
                self.video_packets += 1
            chunk = self.sink.take()
            if chunk:
                yield chunk
        return False


class ExportApi:
    """The /api/export handler and its concurrency bound."""

    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx
        self._slots = threading.BoundedSemaphore(MAX_EXPORTS)

    def plan(self, req: Request) -> ExportPlan:
        """The checked request (400/404 naming what is wrong)."""
        if not req.arg("stream"):
            raise HTTPError(400, "missing required query parameter: stream")
        req.params.setdefault("stream", req.arg("stream") or "")
        stream = path_stream(self.ctx, req, "stream").name
        start = parse_time(req.arg("start"), "start")
        end = parse_time(req.arg("end"), "end")
        if start is None or end is None:
            raise HTTPError(400, "query parameters 'start' and 'end' are required "
                                 "(epoch seconds or ISO 8601)")
        if end <= start:
            raise HTTPError(400, "query parameter 'end' must be after 'start'")
        if end - start > MAX_RANGE:
            raise HTTPError(400, f"the range is {end - start:.0f} s; an export may span at "
                                 f"most {MAX_RANGE:.0f} s (download longer spans as a ZIP "
                                 "of recordings)")
        if start > time.time():
            raise HTTPError(400, "query parameter 'start' lies in the future")
        root = self.ctx.config.storage.path
        files: list[tuple[Recording, str]] = []
        for rec in overlapping(self.ctx, stream, start, end):
            path = recording_file(root, rec.file_path)
            if media.is_within(root, path):
                files.append((rec, path))
        if not files:
            raise HTTPError(404, f"no recordings of '{stream}' between {iso(start)} and "
                                 f"{iso(end)}")
        return ExportPlan(stream, start, end, tuple(files))

    def export(self, req: Request) -> Response:
        plan = self.plan(req)
        if not self._slots.acquire(blocking=False):
            raise HTTPError(429, f"{MAX_EXPORTS} exports are already running; try again when "
                                 "one has finished", {"Retry-After": "10"})
        released = threading.Event()

        def release() -> None:
            if not released.is_set():
                released.set()
                self._slots.release()

        span = int(plan.end - plan.start)
        name = f"{plan.stream}_{iso(plan.start).replace(':', '-')}_{span}s.mp4"
        disposition = "attachment" if (req.arg("download") or "1") != "0" else "inline"
        headers = {"Content-Type": "video/mp4", "Cache-Control": "no-store",
                   "Content-Disposition": f'{disposition}; filename="{name}"'}
        if req.method == "HEAD":
            release()
            return Response(200, b"", headers)
        return Response(200, self._stream(plan, release), headers, close=release)

    def _stream(self, plan: ExportPlan, release: Any) -> Iterator[bytes]:
        remux = _Remux(plan, StreamSink())
        sent = 0
        log.info("export of %s %s..%s started (%d recordings)", plan.stream, iso(plan.start),
                 iso(plan.end), len(plan.files))
        try:
            for chunk in remux.run():
                sent += len(chunk)
                yield chunk
        except Exception:
            # Headers are gone: the client sees a cut file. Logged once, never a traceback
            # in the answer.
            log.warning("export of %s failed after %d bytes", plan.stream, sent, exc_info=True)
        finally:
            release()
            log.info("export of %s ended: %d bytes, %d video frames%s", plan.stream, sent,
                     remux.video_packets, " (truncated: format changed)" if remux.truncated
                     else "")


def register(router: Router, ctx: WebContext) -> None:
    """Add GET /api/export."""
    api = ExportApi(ctx)
    router.add("GET", "/api/export", api.export, Access.READ,
               "One MP4 of a stream's time range, cut at keyframes without re-encoding")
