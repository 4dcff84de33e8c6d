"""Detection API and its repos: results, models, motion trigger with zones, tags and
detection-triggered recording, over the one web harness (real SQLite, real HTTP, the real
StreamManager; the RTSP test camera where a stream must run)."""

from __future__ import annotations

import dataclasses
import importlib.util
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from lightnvr.core.recordings_store import SegmentOpened
from lightnvr.database.detections import DetectionsRepo, NewDetection
from lightnvr.database.zones import InvalidZone, ZonesRepo, zone_from_json
from lightnvr.video.stream_manager import StreamManager, StreamState
from lightnvr.web.http import Role
from tests.fixtures.wait import wait_until
from tests.fixtures.web import LiveWeb

SQUARE = [[0, 0], [1, 0], [1, 1], [0, 1]]


@pytest.fixture
def env(web_factory: Callable[..., LiveWeb]) -> LiveWeb:
    """The one web harness with stream "cam" in the database (not started)."""
    e = web_factory()
    e.add_stream("cam", detection_interval=5)
    return e


def test_detections_repo_ranges_and_labels(env: LiveWeb) -> None:
    repo = DetectionsRepo(env.testdb.db)
    assert repo.add_many([]) == 0
    assert repo.add_many([NewDetection("cam", 100.0 + i, "person" if i % 3 else "car", 0.5)
                          for i in range(9)]) == 9
    got = repo.in_range("cam", 102, 105)
    assert [d.timestamp for d in got] == [105, 104, 103, 102]
    assert repo.timestamps("cam", 0, 101) == [100.0, 101.0]
    assert repo.labels_summary("cam", 0, 1000) == [("person", 6), ("car", 3)]
    assert repo.labels() == ["car", "person"]
    assert repo.prune_before(104) == 4 and len(repo.in_range("cam", 0, 1000)) == 5


def test_zone_parsing_rejects_bad_shapes() -> None:
    z = zone_from_json("cam", {"id": "z", "polygon": SQUARE, "filter_classes": ["person"]})
    assert z.filter_classes == "person" and z.accepts("Person", 0.1) and not z.accepts("car", 1)
    for bad, field in (({"polygon": SQUARE[:2]}, "zones[0].polygon"),
                       ({"polygon": SQUARE, "color": "red"}, "zones[0].color"),
                       ({"polygon": SQUARE, "id": "a/b"}, "zones[0].id"),
                       ({"polygon": SQUARE, "min_confidence": 3}, "zones[0].min_confidence"),
                       ({"polygon": SQUARE, "enabled": "yes"}, "zones[0].enabled")):
        with pytest.raises(InvalidZone) as exc:
            zone_from_json("cam", bad)
        assert exc.value.field == field


def test_results_recent_and_ranged(env: LiveWeb) -> None:
    now = time.time()
    DetectionsRepo(env.testdb.db).add_many([
        NewDetection("cam", now - 5, "person", 0.9, 0.1, 0.2, 0.3, 0.4),
        NewDetection("cam", now - 3600, "car", 0.7)])
    status, body = env.api.call("GET", "/api/detection/results/cam")
    assert status == 200 and [d["label"] for d in body["detections"]] == ["person"]
    assert body["detections"][0]["x"] == pytest.approx(0.1)
    assert body["stream_status"] == "Stopped"
    _, body = env.api.call("GET", f"/api/detection/results/cam?start={int(now - 7200)}"
                                    f"&end={int(now)}")
    assert [d["label"] for d in body["detections"]] == ["person", "car"]
    assert env.api.call("GET", "/api/detection/results/nope")[0] == 404
    assert env.api.call("GET", "/api/detection/results/cam?start=xx")[0] == 400


def test_models_list_in_c_shape(env: LiveWeb) -> None:
    """LightNVR's shape: the built-in motion detector first, `count`, the runtimes' and SOD's
    availability; `api-detection` only once [api_detection] url is set. (Model files under
    [models] path, with their sizes, layouts, labels or errors, are listed by the real daemon
    in tests/detection/test_objects_daemon.py.)"""
    status, body = env.api.call("GET", "/api/detection/models")
    assert status == 200 and body["count"] == len(body["models"])
    assert [m["id"] for m in body["models"]] == ["motion"]
    assert body["models"][0]["type"] == "builtin" and body["models"][0]["supported"] is True
    assert body["sod_available"] is False
    assert body["litert_available"] is (importlib.util.find_spec("ai_edge_litert") is not None)
    env.ctx.config = dataclasses.replace(env.ctx.config, api_detection=dataclasses.replace(
        env.ctx.config.api_detection, url="http://127.0.0.1:9/detect"))
    status, body = env.api.call("GET", "/api/detection/models")
    assert [m["id"] for m in body["models"]] == ["motion", "api-detection"]


def test_motion_trigger_stores_filters_and_tags(env: LiveWeb) -> None:
    ZonesRepo(env.testdb.db).replace("cam", [zone_from_json("cam", {
        "id": "door", "polygon": SQUARE, "filter_classes": "person", "min_confidence": 0.5})])
    open_id = env.testdb.recordings.segment_opened(SegmentOpened(
        "cam", str(env.storage_path / "cam" / "open.mp4"), time.time() - 10, 1, 1, 1, "h264"))
    status, body = env.api.call("POST", "/api/motion/trigger", {
        "stream": "cam", "action": "pulse", "duration_ms": 5000,
        "objects": ["person", {"label": "car", "confidence": 0.9},
                    {"label": "person", "confidence": 0.2}],
        "tags": ["frigate", "gate"]})
    assert status == 202, body
    assert body["detections_stored"] == 1 and body["tags_applied"] == 2
    assert body["recording_triggered"] is False and "not running" in body["warning"]
    assert body["duration_ms"] == 5000
    stored = DetectionsRepo(env.testdb.db).in_range("cam", 0, time.time() + 1)
    assert [(d.label, d.zone_id) for d in stored] == [("person", "door")]
    assert env.testdb.recordings.tags(open_id) == ["frigate", "gate"]
    status, body = env.api.call("POST", "/api/motion/trigger", {"stream": "cam",
                                                                  "action": "stop"})
    assert status == 202 and body["detections_stored"] == 0


@pytest.mark.parametrize("payload,status", [
    ({"action": "start"}, 400), ({"stream": "cam"}, 400),
    ({"stream": "cam", "action": "start", "duration_ms": 10}, 400),
    ({"stream": "cam", "action": "pulse", "duration_ms": 10**9}, 400),
    ({"stream": "cam", "action": "pulse", "confidence": 2}, 400),
    ({"stream": "cam", "action": "pulse", "objects": "person"}, 400),
    ({"stream": "cam", "action": "pulse", "tags": ["x"] * 17}, 400),
    ({"stream": "ghost", "action": "start"}, 404),
])
def test_motion_trigger_errors(env: LiveWeb, payload: dict, status: int) -> None:
    assert env.api.call("POST", "/api/motion/trigger", payload)[0] == status


def test_motion_trigger_refuses_viewers(env: LiveWeb) -> None:
    viewer = env.make_user("vic", Role.VIEWER)
    assert viewer.call("POST", "/api/motion/trigger", {"stream": "cam",
                                                       "action": "start"})[0] == 403


@pytest.mark.camera
def test_motion_trigger_hands_events_to_the_stream_manager(env: LiveWeb,
                                                           rtsp_camera: Any) -> None:
    """Start, pulse (given and default length) and stop reach the real manager: a stream with
    nothing else to record answers `recording_triggered` and really records a "detection" clip
    that lasts the pulse; a stream recording continuously is never triggered (its segment
    covers the event)."""
    url = rtsp_camera.url("live264na")
    for name, continuous in (("clip", False), ("plain", True)):
        r = env.api.post("/api/streams", json={
            "name": name, "url": url, "record": continuous, "streaming_enabled": False,
            "detection_based_recording": True, "pre_detection_buffer": 0,
            "post_detection_buffer": 0})
        assert r.status == 201, r.text
    mgr = env.stream_manager
    assert wait_until(lambda: all((st := mgr.status(n)) is not None and st.packets > 0
                                  for n in ("clip", "plain")), 30), mgr.statuses()

    def trigger(stream: str, **payload: Any) -> dict[str, Any]:
        status, body = env.api.call("POST", "/api/motion/trigger", {"stream": stream, **payload})
        assert status == 202 and "warning" not in body, body
        return dict(body)

    def detecting() -> bool:
        st = mgr.status("clip")
        return st is not None and st.detection_recording

    assert trigger("plain", action="start")["recording_triggered"] is False
    assert trigger("plain", action="stop")["recording_triggered"] is False
    assert trigger("clip", action="start")["recording_triggered"] is True
    assert detecting()
    assert trigger("clip", action="stop")["recording_triggered"] is False
    assert wait_until(lambda: not detecting(), 15), "the clip did not end after stop"
    for payload, seconds in (({"duration_ms": 2500}, 2.5), ({}, 2.0)):
        t0 = time.time()
        assert trigger("clip", action="pulse", **payload)["recording_triggered"] is True
        assert wait_until(lambda: not detecting(), 20), "the pulse never ended"
        # the pulse lasted its length: not cut short (the manager got the duration)
        assert time.time() - t0 >= seconds - 0.2, payload
    assert {r.trigger_type for r in _rows(env, "plain")} == {"scheduled"}
    clips = _rows(env, "clip")
    # events closer than the grace period share one clip, so count the kind, not the rows
    assert clips and {r.trigger_type for r in clips} == {"detection"}, clips


def _rows(env: LiveWeb, stream: str) -> list[Any]:
    return sorted((r for r in env.testdb.recordings.all() if r.stream_name == stream),
                  key=lambda r: r.start_time)


@pytest.mark.camera
def test_motion_trigger_records_detection_clips_end_to_end(env: LiveWeb,
                                                           rtsp_camera: Any) -> None:
    url = rtsp_camera.url("live264na")  # GOP 2 s, like the clip bounds below assume
    clip_cfg = env.add_stream("door", url=url, record=False, streaming_enabled=False,
                              detection_based_recording=True, pre_detection_buffer=2,
                              post_detection_buffer=1)
    cont_cfg = env.add_stream("yard", url=url, streaming_enabled=False, segment_duration=60)
    mgr = env.stream_manager
    mgr.apply(clip_cfg)
    mgr.apply(cont_cfg)
    _end_to_end(env, mgr)


def _end_to_end(env: LiveWeb, mgr: StreamManager) -> None:
    try:
        assert wait_until(lambda: all((st := mgr.status(n)) is not None
                                 and st.state == StreamState.ACTIVE for n in ("door", "yard"))
                     and mgr.status("yard").recording, 10)  # type: ignore[union-attr]
        pause = threading.Event()
        pause.wait(3.0)  # the pre-event buffer fills
        assert _rows(env, "door") == []
        t0 = time.time()
        status, body = env.api.call("POST", "/api/motion/trigger", {
            "stream": "door", "action": "start", "label": "person", "tags": ["frigate"]})
        assert status == 202 and body["recording_triggered"] is True, body
        assert body["tags_applied"] == 1 and body["detections_stored"] == 1
        pause.wait(1.0)
        t1 = time.time()
        status, body = env.api.call("POST", "/api/motion/trigger",
                                      {"stream": "door", "action": "stop"})
        assert status == 202 and body["recording_triggered"] is False
        # The continuous stream: no clip, the open segment carries the tags.
        status, body = env.api.call("POST", "/api/motion/trigger", {
            "stream": "yard", "action": "pulse", "duration_ms": 1000, "tags": ["gate"]})
        assert status == 202 and body["recording_triggered"] is False
        assert body["tags_applied"] == 1 and "continuous" in body["message"]
        assert wait_until(lambda: [r.is_complete for r in _rows(env, "door")] == [True], 8)
    finally:
        mgr.stop(10)  # closes the open segments (the harness's stop after it is harmless)
    clip = _rows(env, "door")[0]
    assert clip.trigger_type == "detection" and env.testdb.recordings.tags(clip.id) == ["frigate"]
    assert t0 - 2 - 2.3 <= clip.start_time <= t0 - 2 + 0.3  # pre buffer, whole 2 s GOPs
    # ends at the first keyframe after the post buffer: within one 2 s GOP, plus 1 s for the
    # camera-to-file pipeline on a loaded machine (0.3 s was too little: 0.6 s seen on a
    # busy 2-core box, with the demo source as with the camera)
    assert clip.end_time is not None and t1 + 1 - 0.3 <= clip.end_time <= t1 + 1 + 2 + 1.0
    yard = _rows(env, "yard")
    assert [r.trigger_type for r in yard] == ["scheduled"]
    assert env.testdb.recordings.tags(yard[0].id) == ["gate"]
