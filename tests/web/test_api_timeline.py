"""Timeline API: segments, the fMP4 byte-range HLS manifest (played back by ffmpeg), play."""

from __future__ import annotations

import json
import subprocess

import pytest

from lightnvr.database.detections import DetectionsRepo, NewDetection
from tests.fixtures.web import LiveWeb

T0 = 1_700_000_000.0


pytestmark = pytest.mark.api_env(streams=["cam"])


def test_segments_shape_and_detection_marks(env: LiveWeb) -> None:
    ids = [env.add_recording("cam", T0 + i * 6) for i in range(3)]
    DetectionsRepo(env.testdb.db).add_many([NewDetection("cam", T0 + 7, "person")])
    status, body = env.api.call(
        "GET", f"/api/timeline/segments?stream=cam&start={int(T0 - 10)}&end={int(T0 + 100)}")
    assert status == 200 and body["segment_count"] == 3 and body["stream"] == "cam"
    segs = body["segments"]
    assert [s["id"] for s in segs] == ids
    assert [s["has_detection"] for s in segs] == [False, True, False]
    assert segs[0]["start_timestamp"] == T0 and segs[0]["end_timestamp"] == T0 + 6
    assert segs[0]["duration"] == 6 and isinstance(segs[0]["start_time"], str)
    _, body = env.api.call("GET", "/api/timeline/segments?stream=cam&start=2023-11-14T22:13:27Z"
                                    "&end=2023-11-14T22:13:40Z")
    assert [s["id"] for s in body["segments"]] == ids[1:]


@pytest.mark.parametrize("query,status", [
    ("", 400), ("stream=nope", 404), ("stream=..", 400), ("stream=cam&start=bad", 400),
    ("stream=cam&start=2000&end=1000", 400)])
def test_segments_errors(env: LiveWeb, query: str, status: int) -> None:
    assert env.api.call("GET", f"/api/timeline/segments?{query}")[0] == status


def test_manifest_is_byte_range_fmp4_hls_that_ffmpeg_plays(env: LiveWeb) -> None:
    ids = [env.add_recording("cam", T0 + i * 6) for i in range(2)]
    r = env.api.request(
        "GET", f"/api/timeline/manifest?stream=cam&start={int(T0)}&end={int(T0 + 12)}")
    status, h, raw = r.status, r.headers, r.body
    assert status == 200 and h["content-type"] == "application/vnd.apple.mpegurl"
    text = raw.decode()
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U" and lines[-1] == "#EXT-X-ENDLIST"
    assert text.count("#EXT-X-MAP:") == 2 and "#EXT-X-DISCONTINUITY" in lines
    assert f'URI="/api/recordings/play/{ids[0]}.mp4",BYTERANGE=' in text
    extinf = sum(float(x.split(":")[1].rstrip(",")) for x in lines if x.startswith("#EXTINF"))
    assert extinf == pytest.approx(12.0, abs=0.5)
    target = int(next(x for x in lines if x.startswith("#EXT-X-TARGETDURATION")).split(":")[1])
    assert all(float(x.split(":")[1].rstrip(",")) <= target
               for x in lines if x.startswith("#EXTINF"))
    # The real test of validity: an HLS client follows the maps and byte ranges end to end.
    # Each recording alone must play every frame; across the discontinuity ffmpeg's HLS demuxer
    # (unlike hls.js, which re-bases timestamps there) drops frames whose time goes backwards,
    # so the two-recording playlist is only required to play past the switch to the full length.
    for n, (lo, hi) in enumerate(((T0, T0 + 5), (T0 + 7, T0 + 11))):
        frames, seconds = _play(env, lo, hi)
        assert (frames, seconds) == (60, pytest.approx(6.0, abs=0.2)), n
    frames, seconds = _play(env, T0, T0 + 12)
    assert frames > 100 and seconds == pytest.approx(12.0, abs=0.2)


def _play(env: LiveWeb, start: float, end: float) -> tuple[int, float]:
    """(video frames, seconds) ffprobe decodes from the manifest of [start, end]."""
    url = (f"http://127.0.0.1:{env.port}/api/timeline/manifest?stream=cam&start={int(start)}"
           f"&end={int(end)}")
    headers = "".join(f"{k}: {v}\r\n" for k, v in env.api.credential_headers().items())
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-headers", headers,
         "-count_frames", "-select_streams", "v:0", "-show_entries",
         "stream=nb_read_frames:format=duration", "-of", "json", url],
        capture_output=True, text=True, timeout=60, check=False)
    assert probe.returncode == 0, probe.stderr
    out = json.loads(probe.stdout)
    return int(out["streams"][0]["nb_read_frames"]), float(out["format"]["duration"])


def test_manifest_404_without_recordings(env: LiveWeb) -> None:
    assert env.api.call("GET", "/api/timeline/manifest?stream=cam&start=1&end=2")[0] == 404


def test_play_redirects_to_covering_recording(env: LiveWeb) -> None:
    ids = [env.add_recording("cam", T0 + i * 6) for i in range(2)]
    r = env.api.request("GET", f"/api/timeline/play?stream=cam&t={T0 + 8.5}")
    status, h = r.status, r.headers
    assert status == 302 and h["location"] == f"/api/recordings/play/{ids[1]}#t=2.5"
    r = env.api.request("GET", f"/api/timeline/play?stream=cam&start={int(T0 + 30)}")
    status, h = r.status, r.headers
    assert status == 302 and h["location"].startswith(f"/api/recordings/play/{ids[1]}")
    assert env.api.call("GET", "/api/timeline/play?stream=cam&t=100")[0] == 404
    assert env.api.call("GET", "/api/timeline/play?stream=cam&t=abc")[0] == 400
