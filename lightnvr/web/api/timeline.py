"""Timeline API: recorded segments of a stream, an HLS VOD playlist over them, and play-at-time.

The manifest: our recordings are fragmented MP4 files (init section, then moof+mdat pairs), so
each recording becomes an `#EXT-X-MAP` (its init bytes) plus one `#EXT-X-BYTERANGE` media
segment per group of fragments (~TARGET_SEGMENT seconds), all addressed on
`/api/recordings/play/{id}`; `#EXT-X-DISCONTINUITY` separates recordings. hls.js and Safari
play fMP4 byte-range playlists (HLS version 7). A file that cannot be parsed is listed as one
whole-file segment. The UI may also play the JSON segment list one recording after another.

A segment still being written is on the timeline too (`"recording": true`), up to its live
edge (the file's last write, recordings.live_edge); in the manifest it ends with its last whole
fragment, so a player gets what is on disk now and the UI fetches a new manifest to go on.

The segments answer also carries `detection_intervals`: the stream's detections in the range,
merged into runs (detections less than MARK_GAP seconds apart are one event), so the ruler can
mark when something was seen without drawing thousands of ticks.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime
import time
from typing import TYPE_CHECKING, Any

from lightnvr.database.detections import DetectionsRepo
from lightnvr.storage.paths import recording_file
from lightnvr.web import media
from lightnvr.web.api._nvr_schemas import describe_timeline
from lightnvr.web.api.recordings import live_edge, overlapping, parse_time
from lightnvr.web.api.streams import path_stream
from lightnvr.web.fmp4_sync import SyncCache
from lightnvr.web.http import Access, HTTPError, Request, Response

if TYPE_CHECKING:
    from lightnvr.database.recordings import Recording
    from lightnvr.web.context import WebContext
    from lightnvr.web.router import Router

MAX_SEGMENTS = 8640  # a day of 10 s segments, as the C project
MAX_MANIFEST_RECORDINGS = 100
TARGET_SEGMENT = 6.0
_DAY = 86400.0
_SYNCS = SyncCache()  # which fragments may start an HLS segment (web/fmp4_sync.py)
MARK_GAP = 10.0  # s: a person walking through gives one mark, not one per detection interval
MAX_MARK_DETECTIONS = 20000


def local_time(ts: float) -> str:
    """`ts` as the C project's timeline shows times: local "YYYY-MM-DD HH:MM:SS"."""
    return datetime.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def segment_json(r: Recording, end: float, has_detection: bool) -> dict[str, Any]:
    """One timeline segment in LightNVR's shape, ending at `end` (the live edge of a segment
    still being written); the same object for /segments and /segments-by-ids."""
    return {
        "id": r.id, "stream": r.stream_name, "start_time": local_time(r.start_time),
        "end_time": local_time(end), "duration": round(end - r.start_time),
        "size": r.to_dict()["size"], "size_bytes": r.size_bytes,
        "has_detection": has_detection, "capture_method": r.trigger_type,
        "recording": not r.is_complete,
        "start_timestamp": r.start_time, "end_timestamp": end,
        "local_start_timestamp": r.start_time, "local_end_timestamp": end,
    }


def _range(req: Request) -> tuple[float, float]:
    start = parse_time(req.arg("start"), "start")
    end = parse_time(req.arg("end"), "end")
    raw_end = (req.arg("end") or "").strip()
    now = time.time()
    if end is not None and len(raw_end) == 10 and raw_end[4] == "-":
        end += _DAY - 1  # a date-only end means the whole day, as the C project
    start = now - _DAY if start is None else start
    end = now if end is None else end
    if end < start:
        raise HTTPError(400, "query parameter 'end' must not be before 'start'")
    return start, end


def _stream_arg(ctx: WebContext, req: Request) -> str:
    name = req.arg("stream")
    if not name:
        raise HTTPError(400, "missing required query parameter: stream")
    req.params.setdefault("stream", name)
    return path_stream(ctx, req, "stream").name


def _segments(ctx: WebContext, stream: str, start: float, end: float) -> list[Recording]:
    """Complete rows and the open one(s) with their live edge as `end_time`, by start."""
    rows: list[Recording] = []
    for r in overlapping(ctx, stream, start, end):
        live = live_edge(ctx, r)
        if live is not None:
            r = dataclasses.replace(r, end_time=live[0], size_bytes=live[1])
        elif r.end_time is None:
            continue
        rows.append(r)
    return rows[:MAX_SEGMENTS]


class TimelineApi:
    """Handlers of the /api/timeline routes."""

    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx
        self.detections = DetectionsRepo(ctx.db)
        self.layouts = media.LayoutCache()

    def segments(self, req: Request) -> Response:
        stream = _stream_arg(self.ctx, req)
        start, end = _range(req)
        rows = _segments(self.ctx, stream, start, end)
        marks = self.detections.timestamps(stream, start - 86400, end + 86400) if rows else []
        out: list[dict[str, Any]] = []
        for r in rows:
            r_end = r.end_time or r.start_time
            i = bisect.bisect_left(marks, r.start_time)
            has_det = r.trigger_type == "detection" or (i < len(marks) and marks[i] <= r_end)
            out.append(segment_json(r, r_end, has_det))
        return Response.json({"segments": out, "stream": stream, "start_time": local_time(start),
                              "end_time": local_time(end), "segment_count": len(out),
                              "detection_intervals": self.intervals(stream, start, end)})

    def intervals(self, stream: str, start: float, end: float) -> list[dict[str, Any]]:
        """Detections in [start, end] merged into runs, oldest first, with their labels."""
        rows = self.detections.in_range(stream, start, end, MAX_MARK_DETECTIONS)
        runs: list[dict[str, Any]] = []
        for d in reversed(rows):  # in_range is newest first
            if runs and d.timestamp - runs[-1]["end_timestamp"] < MARK_GAP:
                run = runs[-1]
                run["end_timestamp"] = d.timestamp
                run["count"] += 1
                if d.label not in run["labels"]:
                    run["labels"].append(d.label)
            else:
                runs.append({"start_timestamp": d.timestamp, "end_timestamp": d.timestamp,
                             "count": 1, "labels": [d.label]})
        return runs

    def manifest(self, req: Request) -> Response:
        stream = _stream_arg(self.ctx, req)
        start, end = _range(req)
        rows = _segments(self.ctx, stream, start, end)[:MAX_MANIFEST_RECORDINGS]
        if not rows:
            raise HTTPError(404, "no recordings found for the specified time range")
        text = build_playlist(self.ctx, rows, self.layouts)
        if "#EXTINF" not in text:  # only an open segment with nothing whole in it yet
            raise HTTPError(404, "nothing playable in the specified time range yet")
        return Response.text(text, content_type="application/vnd.apple.mpegurl",
                             headers={"Cache-Control": "no-cache"})

    def play(self, req: Request) -> Response:
        stream = _stream_arg(self.ctx, req)
        at = parse_time(req.arg("t") or req.arg("start"), "t")
        at = time.time() if at is None else at
        rows = _segments(self.ctx, stream, at - 3600, at + 3600)
        if not rows:
            raise HTTPError(404, "no recording found near the requested time")

        def distance(r: Recording) -> float:
            r_end = r.end_time or r.start_time
            return 0.0 if r.start_time <= at <= r_end else min(abs(at - r.start_time),
                                                               abs(at - r_end))
        best = min(rows, key=distance)
        offset = max(0.0, at - best.start_time)
        return Response.redirect(f"/api/recordings/play/{best.id}#t={offset:.1f}")



def register(router: Router, ctx: WebContext) -> None:
    """Add the /api/timeline routes."""
    api = TimelineApi(ctx)
    describe_timeline()
    router.add("GET", "/api/timeline/segments", api.segments, Access.READ,
               "Recorded segments of a stream in a time range")
    router.add("GET", "/api/timeline/manifest", api.manifest, Access.READ,
               "HLS VOD playlist (fMP4 byte ranges) over recorded segments")
    router.add("GET", "/api/timeline/play", api.play, Access.READ,
               "Redirect to the recording covering ?stream=&t=")


def build_playlist(ctx: WebContext, rows: list[Recording], layouts: media.LayoutCache) -> str:
    """An HLS v7 VOD playlist over `rows` (by start time; an open one up to its last whole
    fragment, see the module doc)."""
    body: list[str] = []
    longest = 1.0
    for n, r in enumerate(rows):
        url = f"/api/recordings/play/{r.id}.mp4"
        duration = max(0.001, (r.end_time or r.start_time) - r.start_time)
        path = recording_file(ctx.config.storage.path, r.file_path)
        layout = layouts.get(path) if media.is_within(ctx.config.storage.path, path) else None
        if n:
            body.append("#EXT-X-DISCONTINUITY")
        body.append(f"#EXT-X-PROGRAM-DATE-TIME:"
                    f"{datetime.datetime.fromtimestamp(r.start_time, datetime.UTC).isoformat()}")
        if layout is not None and not r.is_complete:
            layout, duration = _whole_fragments(layout)
        if layout is None and not r.is_complete:
            body.pop()  # nothing playable yet: leave the open segment out
            if n and body and body[-1] == "#EXT-X-DISCONTINUITY":
                body.pop()
            continue
        if layout is None:
            body += [f"#EXTINF:{duration:.3f},", url]
            longest = max(longest, duration)
            continue
        body.append(f'#EXT-X-MAP:URI="{url}",BYTERANGE="{layout.init_length}@0"')
        starts = _SYNCS.get(path, layout)
        for seg_start, offset, length, seg_dur in _groups(layout, duration, starts):
            del seg_start
            body += [f"#EXTINF:{seg_dur:.3f},", f"#EXT-X-BYTERANGE:{length}@{offset}", url]
            longest = max(longest, seg_dur)
    head = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-PLAYLIST-TYPE:VOD",
            f"#EXT-X-TARGETDURATION:{int(longest) + 1}", "#EXT-X-MEDIA-SEQUENCE:0",
            "#EXT-X-INDEPENDENT-SEGMENTS"]
    return "\n".join([*head, *body, "#EXT-X-ENDLIST", ""])


def _whole_fragments(layout: media.Fmp4Layout) -> tuple[media.Fmp4Layout | None, float]:
    """The open segment's layout without its newest fragment (it may still be written), and
    the playable duration: up to the start of that fragment. None when nothing is left."""
    frags = layout.fragments
    if len(frags) < 2:
        return None, 0.0
    return dataclasses.replace(layout, fragments=frags[:-1]), frags[-1].start


def _groups(layout: media.Fmp4Layout, duration: float,
            starts: list[bool] | None = None) -> list[tuple[float, int, int, float]]:
    """(start, offset, length, duration) of fragment groups of about TARGET_SEGMENT seconds,
    each beginning at a fragment `starts` allows (one that opens on a keyframe: fmp4_sync)."""
    frags = layout.fragments
    out: list[tuple[float, int, int, float]] = []
    i = 0
    while i < len(frags):
        j = i + 1
        while j < len(frags) and (frags[j].start - frags[i].start < TARGET_SEGMENT
                                  or (starts is not None and not starts[j])):
            j += 1
        end_t = frags[j].start if j < len(frags) else max(duration, frags[i].start)
        last = frags[j - 1]
        out.append((frags[i].start, frags[i].offset, last.offset + last.length - frags[i].offset,
                    max(0.001, end_t - frags[i].start)))
        i = j
    return out
