"""Object detection end to end: the real daemon, the GStreamer test camera, real SQLite, a real
detection service over HTTP, tiny ONNX models built here (tests/detection/object_models.py).

One daemon watches the `objects264` mount (a white ball moving in the right half of the
picture) with five streams for one observation window:

- `obj`: the in-process ONNX model `ball.onnx`, detection-based recording only (pre 3 s,
  post 2 s, one look every OBJ_INTERVAL s). Its detection schedule opens only once the
  stream has run a while (the recorder has filled its pre-buffer, which is longer with a
  detector than without), so the clip's pre-buffer can be checked;
- `zoned`: the same, with an include zone over the LEFT half - the ball is never there (its
  model is switched on at the same time);
- `api`: `detection_model = api-detection` with the stream's own `detection_api_url` (the
  test's detection service, object_service.py, with credentials in the URL) before
  `[api_detection] url` (a dead address), continuous recording in 4 s segments; the service
  is stopped for a while in the middle of the window and started again;
- `broken`: a corrupt model file, continuous recording;
- `lite`: `ball.tflite`, the same model as a uint8-quantised `.tflite` run by LiteRT
  (tflite_models.py); a corrupt `.tflite` is only listed;
- `classes`: `ball.onnx` with LightNVR's class filter including only person and car;
- `zperson`: `ball.onnx`, one include zone over the whole picture whose class filter
  (`filter_classes`, LightNVR's per-zone list) names only `person`;
- `zball`: the same zone, and an include zone over the right half that lists `car, ball`.

The tests then read what a user would: stream status, GET /api/detection/models, the event
history, the detections and recordings (SQLite) and the clips (decoded).
"""

from __future__ import annotations

import base64
import importlib.util
import io
import itertools
import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import av
import pytest

from tests.detection.daemon_db import db_rows
from tests.detection.object_models import LABEL, build, build_wrong_layout
from tests.detection.object_service import DetectionService
from tests.detection.tflite_models import build_tflite
from tests.fixtures.camera import TestCamera
from tests.fixtures.daemon import DaemonProcess, start_daemon
from tests.fixtures.wait import wait_until

pytestmark = [pytest.mark.camera, pytest.mark.slow]

MOUNT = "objects264"
SECRET = "pw-Secret-9"  # the detection service's password: never in a log or an answer
INTERVAL = 1
# obj's interval: longer than the camera's 2 s GOP plus the check's slack, so a clip with only
# pre_detection_buffer (without the interval) cannot pass the pre-buffer check by GOP rounding
OBJ_INTERVAL = 4
CLOSED = "0" * 168  # a weekly detection schedule that never looks
PRE = 3
POST = 2
SEGMENT = 4
OUTAGE = 6.0  # seconds the detection service is down
LEFT = [{"x": 0, "y": 0}, {"x": 0.5, "y": 0}, {"x": 0.5, "y": 1}, {"x": 0, "y": 1}]
RIGHT = [{"x": 0.5, "y": 0}, {"x": 1, "y": 0}, {"x": 1, "y": 1}, {"x": 0.5, "y": 1}]
WHOLE = [{"x": 0, "y": 0}, {"x": 1, "y": 0}, {"x": 1, "y": 1}, {"x": 0, "y": 1}]
PERSON_ONLY = {"id": "people", "name": "people only", "polygon": WHOLE, "enabled": True,
               "type": "include", "filter_classes": "person"}
DETECT = {"detection_based_recording": True, "detection_interval": INTERVAL,
          "pre_detection_buffer": PRE, "post_detection_buffer": POST,
          "detection_threshold": 50, "streaming_enabled": False, "record_audio": False}


@dataclass
class Observed:
    daemon: DaemonProcess
    service: DetectionService
    switched: float            # when obj and zoned began to look
    down: tuple[float, float]  # the service's outage
    segments: tuple[int, int]  # api's segments_written when the service stopped / came back
    down_status: dict[str, Any]  # GET /api/streams/api's detection while the service was down
    status: dict[str, dict[str, Any]]
    zones: dict[str, Any]      # GET /api/streams/zball/zones
    bad_zone: tuple[int, bytes]  # POST of a zone whose filter_classes is a number
    snapshot: tuple[int, bytes]  # GET of the first obj event's snapshot_url
    models: dict[str, Any]
    events: list[dict[str, Any]]
    live: dict[str, Any]       # GET /api/detection/results/obj during the run
    recordings: dict[str, list[sqlite3.Row]]
    detections: dict[str, list[sqlite3.Row]]
    log: str                   # the daemon's log file after it stopped
    labels: list[str]          # GET /api/recordings/detection-labels
    labelled: list[dict[str, Any]]  # GET /api/recordings?label=ball



def _detected_since(d: DaemonProcess, stream: str, since: float) -> bool:
    rows = d.json(f"/api/detection/results/{stream}")["detections"]
    return any(r["timestamp"] >= since for r in rows)


@pytest.fixture(scope="module")
def observed(rtsp_camera: TestCamera, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[Observed]:
    base = tmp_path_factory.mktemp("objects")
    models = base / "models"
    build(models / "ball.onnx")
    build_wrong_layout(models / "mean.onnx")
    (models / "corrupt.onnx").write_bytes(b"\x08\x07garbage, not a model" * 20)
    build_tflite(models / "ball.tflite", "uint8")
    (models / "corrupt.tflite").write_bytes(b"TFL3" + bytes(300))
    service = DetectionService().start()
    d = start_daemon(base / "d", {"models": {"path": models}, "api_detection": {
        "url": "http://127.0.0.1:9/nothing-listens-here", "backend": "tflite"},
        "detection": {"event_snapshots": True}})
    service_url = service.url.replace("http://", f"http://objuser:{SECRET}@")
    try:
        url = rtsp_camera.url(MOUNT)
        streams = {
            # excluding another class keeps the ball
            "obj": {**DETECT, "detection_model": "ball.onnx", "record": False,
                    "detection_interval": OBJ_INTERVAL, "detection_schedule": CLOSED,
                    "detection_object_filter": "exclude", "detection_object_filter_list": "car"},
            "classes": {**DETECT, "detection_model": "ball.onnx", "record": False,
                        "detection_object_filter": "include",
                        "detection_object_filter_list": "person, car"},
            "zoned": {**DETECT, "detection_model": "", "record": False},
            "api": {**DETECT, "detection_model": "api-detection", "record": True,
                    "segment_duration": SEGMENT, "detection_api_url": service_url},
            "broken": {**DETECT, "detection_model": "corrupt.onnx", "record": True,
                       "segment_duration": SEGMENT},
            "lite": {**DETECT, "detection_model": "ball.tflite", "record": False},
            "zperson": {**DETECT, "detection_model": "ball.onnx", "record": False},
            "zball": {**DETECT, "detection_model": "ball.onnx", "record": False},
        }
        for name, body in streams.items():
            status, reply = d.call("POST", "/api/streams", {"name": name, "url": url, **body})
            assert status in (200, 201), reply
        wait_until(lambda: all(d.json(f"/api/streams/{n}")["state"] == "active"
                               for n in streams), 30, what="every stream active")
        status, reply = d.call("POST", "/api/streams/zoned/zones", {"zones": [
            {"id": "left", "name": "left half", "polygon": LEFT, "enabled": True,
             "type": "include"}]})
        assert status in (200, 201), reply
        for name, zones in (("zperson", [PERSON_ONLY]), ("zball", [PERSON_ONLY, {
                "id": "right", "name": "cars and balls", "polygon": RIGHT, "enabled": True,
                "type": "include", "filter_classes": "car, ball"}])):
            status, reply = d.call("POST", f"/api/streams/{name}/zones", {"zones": zones})
            assert status in (200, 201), reply
        zones_body = d.json("/api/streams/zball/zones")
        bad_zone = d.call("POST", "/api/streams/zball/zones",
                          {"zones": [{**PERSON_ONLY, "filter_classes": 5}]})
        # the recorders have been filling their pre-buffers; now the model looks
        wait_until(lambda: False, PRE + OBJ_INTERVAL + 2.0, step=0.5)
        switched = time.time()
        for name, change in (("obj", {"detection_schedule": "1" * len(CLOSED)}),
                             ("zoned", {"detection_model": "ball.onnx"})):
            status, reply = d.call("PUT", f"/api/streams/{name}", change)
            assert status == 200, reply
        wait_until(lambda: _detected_since(d, "obj", switched)
                   and _detected_since(d, "api", switched)
                   and _detected_since(d, "lite", switched)
                   and _detected_since(d, "zball", switched), 30,
                   what="detections of obj, api, lite and zball")
        live = d.json("/api/detection/results/obj")
        service.stop()
        down_from = time.time()
        segments_down = d.json("/api/streams/api")["stats"]["segments_written"]
        wait_until(lambda: d.json("/api/streams/api")["detection"]["error"], 20,
                   what="the api stream reports the service down")
        down_status = d.json("/api/streams/api")["detection"]
        wait_until(lambda: time.time() >= down_from + OUTAGE, OUTAGE + 5, step=0.5)
        service.start()
        up = time.time()
        segments_up = d.json("/api/streams/api")["stats"]["segments_written"]
        wait_until(lambda: _detected_since(d, "api", up), 40, what="api detections resume")
        wait_until(lambda: False, POST + 2 * INTERVAL + 1.0, step=0.5)  # post buffer ends
        status_of = {n: d.json(f"/api/streams/{n}") for n in streams}
        models_body = d.json("/api/detection/models")
        events = d.json("/api/events?kind=detection&stream=obj&limit=1000")["events"]
        snapshot = d.call("GET", events[0]["details"].get("snapshot_url", "/none"))
        labels = d.json("/api/recordings/detection-labels")["labels"]
        labelled = d.json(f"/api/recordings?label={LABEL}&stream=obj&include_incomplete=1")
        # the daemon stops while the service holds a request unanswered
        asked = len(service.requests)
        service.hang.set()
        wait_until(lambda: len(service.requests) > asked, 20, what="a request to a hung service")
    finally:
        code = d.stop()
        service.stop()
    assert code == 0, d.log_tail()
    recs = {n: db_rows(d, "SELECT * FROM recordings WHERE stream_name = ? ORDER BY start_time",
                     n) for n in streams}
    dets = {n: db_rows(d, "SELECT * FROM detections WHERE stream_name = ? ORDER BY timestamp",
                     n) for n in streams}
    log = (d.base / "lightnvr.log").read_text(errors="replace")
    yield Observed(d, service, switched, (down_from, up), (segments_down, segments_up),
                   down_status, status_of, zones_body, bad_zone, snapshot, models_body, events,
                   live,
                   recs, dets, log, labels,
                   labelled["recordings"] if isinstance(labelled, dict) else labelled)


def _assert_ball_rows(observed: Observed, stream: str) -> None:
    """The stream's detection rows: the ball, the model's score, a box in the right half."""
    rows = observed.detections[stream]
    assert rows, observed.daemon.log_tail()
    for r in rows:
        assert r["label"] == LABEL
        assert r["confidence"] == pytest.approx(0.9, abs=0.01)
        cx = r["x"] + r["width"] / 2
        assert cx > 0.5 and 0 < r["width"] < 0.5 and 0 < r["height"] < 0.5, dict(r)


def test_model_detects_the_object_with_its_label_where_it_is(observed: Observed) -> None:
    """The ONNX model's detections are stored with the labels file's label and a box in the
    right half of the picture (where the ball moves), shown by the live results route and
    in the event history."""
    _assert_ball_rows(observed, "obj")
    assert {x["label"] for x in observed.live["detections"]} == {LABEL}
    assert observed.events, "detection events in the history"
    for e in observed.events:
        assert [o["label"] for o in e["details"]["objects"]] == [LABEL]
    assert LABEL in observed.labels  # the recordings list's label filter offers it
    assert observed.labelled, "a recording found by its detection label"
    st = observed.status["obj"]["detection"]
    assert st["state"] == "running" and st["error"] == "" and st["frames"] > 0


def test_detection_clip_has_its_pre_buffer_and_linked_rows(observed: Observed) -> None:
    """Detection-based recording: the first detection starts a `detection` clip that begins
    at least pre_detection_buffer s plus one detection interval before it (the model looks
    once per interval, so the object may have appeared that much earlier; the recorder's GOP
    buffer) and decodes; every detection row names the clip that holds it."""
    rows = observed.detections["obj"]
    recs = [r for r in observed.recordings["obj"] if r["is_complete"]]
    assert recs and all(r["trigger_type"] == "detection" for r in recs)
    by_id = {r["id"]: r for r in recs}
    for r in rows:
        assert r["recording_id"] in by_id, (dict(r), list(by_id))
    # (a recording's times come from the media clock: on a loaded machine the camera runs
    # slower than the wall clock, so only "before" is compared, never "within")
    first = rows[0]
    clip = by_id[first["recording_id"]]
    # 1 s of slack for the detector's lag behind the recorder (less than OBJ_INTERVAL minus
    # the 2 s GOP, so pre_detection_buffer alone fails)
    assert clip["start_time"] <= first["timestamp"] - PRE - OBJ_INTERVAL + 1.0, \
        (dict(first), dict(clip))
    with av.open(str(observed.daemon.base / "rec" / clip["file_path"])) as c:
        assert sum(1 for _ in c.decode(video=0)) >= (clip["end_time"] - clip["start_time"]) * 10


def test_object_outside_the_include_zone_gives_nothing(observed: Observed) -> None:
    """Same model, same scene, an include zone over the left half: the ball's box centre is
    always on the right - no detection, no clip (while `obj` detects)."""
    assert observed.detections["obj"]
    assert observed.status["zoned"]["detection"]["frames"] > 0, "the detector did look"
    assert observed.detections["zoned"] == []
    assert observed.recordings["zoned"] == []


def test_zone_class_filter_counts_only_the_labels_it_lists(observed: Observed) -> None:
    """LightNVR's per-zone `filter_classes`: a zone over the whole picture that lists only
    `person` lets no ball through (no row, no clip); beside it, a zone over the right half
    listing `car, ball` does (rows with the ball's box in that zone). The zones API returns
    the lists and answers a filter that is not a string with 400 and a JSON error."""
    assert observed.status["zperson"]["detection"]["frames"] > 0, "the detector did look"
    assert observed.detections["zperson"] == []
    assert observed.recordings["zperson"] == []
    rows = observed.detections["zball"]
    assert rows, observed.daemon.log_tail()
    assert {r["label"] for r in rows} == {LABEL}
    assert all(r["x"] + r["width"] / 2 > 0.5 for r in rows)
    assert [z["filter_classes"] for z in observed.zones["zones"]] == ["person", "car, ball"]
    status, body = observed.bad_zone
    assert status == 400 and "filter_classes" in json.loads(body)["error"], body


def test_event_snapshot_is_the_streams_picture_over_http(observed: Observed) -> None:
    """[detection] event_snapshots: every object event links the JPEG of its picture
    (`snapshot_url`, /api/snapshots/...); downloaded over HTTP it decodes to a picture of the
    stream's size, with the white ball where the model saw it (the right half)."""
    urls = [e["details"].get("snapshot_url", "") for e in observed.events]
    assert urls and all(u.startswith("/api/snapshots/obj/") for u in urls), urls
    status, body = observed.snapshot
    assert status == 200, body[:200]
    with av.open(io.BytesIO(body), mode="r", format="mjpeg") as c:
        frame = next(c.decode(video=0))
    stats = observed.status["obj"]["stats"]
    assert (frame.width, frame.height) == (stats["width"], stats["height"])
    gray = frame.to_ndarray(format="gray")
    right, left = gray[:, gray.shape[1] // 2:], gray[:, :gray.shape[1] // 2]
    assert (right > 240).sum() > 50 and (right > 240).sum() > 10 * (left > 240).sum()


def test_class_filter_keeps_only_the_listed_labels(observed: Observed) -> None:
    """detection_object_filter include person, car: the ball is seen by the model but never
    stored or recorded; exclude car (obj) keeps it."""
    assert observed.status["classes"]["detection"]["frames"] > 0, "the detector did look"
    assert observed.detections["classes"] == []
    assert observed.recordings["classes"] == []
    assert observed.detections["obj"]


def test_api_engine_speaks_lightnvr_protocol(observed: Observed) -> None:
    """The service got JPEGs in the multipart field `file` with LightNVR's query, and the
    NVR stored its answers: label, box in the right half."""
    seen = observed.service.requests
    assert seen
    stats = observed.status["api"]["stats"]
    basic = "Basic " + base64.b64encode(f"objuser:{SECRET}".encode()).decode()
    for s in seen:
        assert s.authorization == basic  # the URL's credentials, as curl sends them
        assert s.path == "/api/v1/detect"
        assert s.field == "file" and s.content_type == "image/jpeg"
        assert s.query == {"backend": ["tflite"], "confidence_threshold": ["0.50"],
                           "return_image": ["false"]}
        assert s.jpeg_size == (stats["width"], stats["height"])  # the whole picture
    rows = observed.detections["api"]
    assert rows and {r["label"] for r in rows} == {"ball"}
    assert all(r["x"] + r["width"] / 2 > 0.5 for r in rows)
    assert all(r["confidence"] == pytest.approx(0.8) for r in rows)
    # the password shows nowhere but in the admin's own stream settings: not in the log,
    # not in the detector's status or error, not in the models list
    assert SECRET not in observed.log
    error = observed.down_status["error"]
    assert "objuser:***@" in error and SECRET not in error, error
    assert SECRET not in json.dumps([s["detection"] for s in observed.status.values()])
    assert SECRET not in json.dumps(observed.models)


def test_service_outage_recording_gap_free_and_detection_resumes(observed: Observed) -> None:
    """While the service is down, continuous recording goes on without a gap (detection
    never holds the reader) and detection resumes after it returns; the stream's status
    said what was wrong meanwhile."""
    down, up = observed.down
    recs = [r for r in observed.recordings["api"] if r["is_complete"]]
    # segments were finished while the service was down (OUTAGE > SEGMENT)...
    assert observed.segments[1] > observed.segments[0], observed.segments
    # ... and every one follows the one before without a gap
    for a, b in itertools.pairwise(recs):
        assert b["start_time"] - a["end_time"] < 1.0, (a["end_time"], b["start_time"])
    rows = observed.detections["api"]
    assert [r for r in rows if r["timestamp"] < down]
    assert [r for r in rows if r["timestamp"] > up]
    assert not [r for r in rows if down + 1.0 < r["timestamp"] < up - 1.0]


def test_detector_waiting_for_a_hung_service_stops_within_its_deadline(
        observed: Observed) -> None:
    """The daemon was stopped while the service held a request unanswered: every thread
    stopped within its deadline (exit code 0, no detector reported overrunning)."""
    assert observed.service.hang.is_set()
    assert "detect:api exited" in observed.log
    assert "did not stop within" not in observed.log
    assert "overran" not in observed.log


def test_unusable_models_are_reported_and_nothing_else_stops(observed: Observed) -> None:
    """A corrupt model and a missing runtime: the stream's status says so (state "error",
    the reason), its recording goes on; /api/detection/models lists every model, with input
    size, layout and labels or why it cannot be used."""
    broken = observed.status["broken"]
    assert broken["state"] == "active"
    assert broken["detection"]["state"] == "error"
    assert "corrupt.onnx cannot be loaded" in broken["detection"]["error"]
    assert len([r for r in observed.recordings["broken"] if r["is_complete"]]) >= 3
    listed = {m["id"]: m for m in observed.models["models"]}
    assert {"motion", "api-detection", "ball.onnx", "mean.onnx", "corrupt.onnx",
            "ball.tflite", "corrupt.tflite"} <= set(listed)
    ball = listed["ball.onnx"]
    assert (ball["supported"], ball["input_width"], ball["input_height"], ball["layout"],
            ball["labels"]) == (True, 128, 128, "end2end", ["ball", "other"])
    assert listed["mean.onnx"]["supported"] is False
    assert "output layout not supported" in listed["mean.onnx"]["unsupported_reason"]
    assert "cannot be loaded" in listed["corrupt.onnx"]["unsupported_reason"]
    assert listed["corrupt.tflite"]["supported"] is False
    reason = listed["corrupt.tflite"]["unsupported_reason"]
    assert ("ai-edge-litert" if importlib.util.find_spec("ai_edge_litert") is None
            else "cannot be loaded") in reason, reason


def test_tflite_model_detects_the_object_in_the_daemon(observed: Observed) -> None:
    """A uint8-quantised `.tflite` model run by LiteRT in the daemon: detections with the
    labels file's label and a box in the right half (where the ball moves); the models
    list describes it."""
    pytest.importorskip("ai_edge_litert")
    lite = observed.status["lite"]["detection"]
    assert lite["state"] == "running" and lite["error"] == "", lite
    _assert_ball_rows(observed, "lite")
    m = {x["id"]: x for x in observed.models["models"]}["ball.tflite"]
    assert (m["supported"], m["input_width"], m["layout"], m["labels"][0]) == \
        (True, 64, "end2end", LABEL)
