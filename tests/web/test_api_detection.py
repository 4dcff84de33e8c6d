"""Detection API and its repos: results, models, motion trigger with zones, tags and
detection-triggered recording (a contract-shaped stand-in for the API's side of the seam, and
the real StreamManager with the demo camera end to end)."""

from __future__ import annotations

import dataclasses
import importlib.util
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lightnvr.core.memory.pool import BufferPool
from lightnvr.core.recordings_store import SegmentOpened
from lightnvr.core.stream_config import StreamConfig
from lightnvr.database.detections import DetectionsRepo, NewDetection
from lightnvr.database.zones import InvalidZone, ZonesRepo, zone_from_json
from lightnvr.video.stream_manager import StreamManager, StreamState, VideoSettings
from lightnvr.web.http import Role
from tests.fixtures.wait import wait_until
from tests.web.api_support import ApiEnv, RecordingStreamManager, Status

SQUARE = [[0, 0], [1, 0], [1, 1], [0, 1]]
DEMO = "demo://testsrc2?seconds=4"  # GOP 2 s


@dataclasses.dataclass
class TriggerStandIn(RecordingStreamManager):
    """The stand-in plus `trigger_detection`; `clip` says whether an event makes a clip."""

    triggers: list[tuple[str, bool, float | None]] = dataclasses.field(default_factory=list)
    clip: bool = True

    def trigger_detection(self, name: str, active: bool, duration: float | None = None,
                          objects: object = ()) -> bool:
        if name not in self.running:
            return False
        self.triggers.append((name, active, duration))
        return True

    def status(self, name: str) -> Status | None:
        st = super().status(name)
        if st is not None:  # the contract's StreamStatus.detection_recording
            clip = self.clip and bool(self.triggers) and self.triggers[-1][1]
            st.detection_recording = clip
        return st


@pytest.fixture
def env(tmp_path: Path) -> Iterator[ApiEnv]:
    e = ApiEnv(tmp_path)
    e.add_stream("cam", detection_interval=5)
    e.manager = TriggerStandIn(str(e.hls_path))
    e.ctx.stream_manager = e.manager  # type: ignore[assignment]
    yield e
    e.close()


def test_detections_repo_ranges_and_labels(env: ApiEnv) -> None:
    repo = DetectionsRepo(env.db)
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


def test_results_recent_and_ranged(env: ApiEnv) -> None:
    now = time.time()
    DetectionsRepo(env.db).add_many([NewDetection("cam", now - 5, "person", 0.9, 0.1, 0.2, 0.3,
                                                  0.4),
                                     NewDetection("cam", now - 3600, "car", 0.7)])
    status, body = env.admin.json("GET", "/api/detection/results/cam")
    assert status == 200 and [d["label"] for d in body["detections"]] == ["person"]
    assert body["detections"][0]["x"] == pytest.approx(0.1)
    assert body["stream_status"] == "Stopped"
    _, body = env.admin.json("GET", f"/api/detection/results/cam?start={int(now - 7200)}"
                                    f"&end={int(now)}")
    assert [d["label"] for d in body["detections"]] == ["person", "car"]
    assert env.admin.json("GET", "/api/detection/results/nope")[0] == 404
    assert env.admin.json("GET", "/api/detection/results/cam?start=xx")[0] == 400


def test_models_list_in_c_shape(env: ApiEnv) -> None:
    """LightNVR's shape: the built-in motion detector first, `count`, the runtimes' and SOD's
    availability; `api-detection` only once [api_detection] url is set. (Model files under
    [models] path, with their sizes, layouts, labels or errors, are listed by the real daemon
    in tests/detection/test_objects_daemon.py.)"""
    status, body = env.admin.json("GET", "/api/detection/models")
    assert status == 200 and body["count"] == len(body["models"])
    assert [m["id"] for m in body["models"]] == ["motion"]
    assert body["models"][0]["type"] == "builtin" and body["models"][0]["supported"] is True
    assert body["sod_available"] is False
    assert body["litert_available"] is (importlib.util.find_spec("ai_edge_litert") is not None)
    env.ctx.config = dataclasses.replace(env.ctx.config, api_detection=dataclasses.replace(
        env.ctx.config.api_detection, url="http://127.0.0.1:9/detect"))
    status, body = env.admin.json("GET", "/api/detection/models")
    assert [m["id"] for m in body["models"]] == ["motion", "api-detection"]


def test_motion_trigger_stores_filters_and_tags(env: ApiEnv) -> None:
    ZonesRepo(env.db).replace("cam", [zone_from_json("cam", {
        "id": "door", "polygon": SQUARE, "filter_classes": "person", "min_confidence": 0.5})])
    open_id = env.recordings.segment_opened(SegmentOpened(
        "cam", str(env.storage_path / "cam" / "open.mp4"), time.time() - 10, 1, 1, 1, "h264"))
    status, body = env.admin.json("POST", "/api/motion/trigger", {
        "stream": "cam", "action": "pulse", "duration_ms": 5000,
        "objects": ["person", {"label": "car", "confidence": 0.9},
                    {"label": "person", "confidence": 0.2}],
        "tags": ["frigate", "gate"]})
    assert status == 202, body
    assert body["detections_stored"] == 1 and body["tags_applied"] == 2
    assert body["recording_triggered"] is False and "not running" in body["warning"]
    assert body["duration_ms"] == 5000
    stored = DetectionsRepo(env.db).in_range("cam", 0, time.time() + 1)
    assert [(d.label, d.zone_id) for d in stored] == [("person", "door")]
    assert env.recordings.tags(open_id) == ["frigate", "gate"]
    status, body = env.admin.json("POST", "/api/motion/trigger", {"stream": "cam",
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
def test_motion_trigger_errors(env: ApiEnv, payload: dict, status: int) -> None:
    assert env.admin.json("POST", "/api/motion/trigger", payload)[0] == status


def test_motion_trigger_refuses_viewers(env: ApiEnv) -> None:
    viewer = env.user("v", Role.VIEWER)
    assert viewer.json("POST", "/api/motion/trigger", {"stream": "cam",
                                                       "action": "start"})[0] == 403


@pytest.mark.parametrize("payload,call,clip,triggered", [
    ({"action": "start"}, ("cam", True, None), True, True),
    ({"action": "pulse", "duration_ms": 2500}, ("cam", True, 2.5), True, True),
    ({"action": "pulse"}, ("cam", True, 2.0), True, True),
    ({"action": "stop"}, ("cam", False, None), True, False),
    ({"action": "start"}, ("cam", True, None), False, False),
])
def test_motion_trigger_hands_events_to_the_stream_manager(
        env: ApiEnv, payload: dict[str, Any], call: tuple[str, bool, float | None], clip: bool,
        triggered: bool) -> None:
    manager: TriggerStandIn = env.manager  # type: ignore[assignment]
    manager.apply(StreamConfig("cam", "rtsp://cam.local/cam", record=False))
    manager.clip = clip
    status, body = env.admin.json("POST", "/api/motion/trigger", {"stream": "cam", **payload})
    assert status == 202, body
    assert manager.triggers == [call]
    assert body["recording_triggered"] is triggered and "warning" not in body


def _rows(env: ApiEnv, stream: str) -> list[Any]:
    return sorted((r for r in env.recordings.all() if r.stream_name == stream),
                  key=lambda r: r.start_time)


def test_motion_trigger_records_detection_clips_end_to_end(tmp_path: Path) -> None:
    env = ApiEnv(tmp_path)
    clip_cfg = env.add_stream("door", url=DEMO, record=False, streaming_enabled=False,
                              detection_based_recording=True, pre_detection_buffer=2,
                              post_detection_buffer=1)
    cont_cfg = env.add_stream("yard", url=DEMO, streaming_enabled=False, segment_duration=60)
    mgr = StreamManager(VideoSettings(str(env.storage_path), str(env.hls_path),
                                      stagger_seconds=0.0), BufferPool.from_budget(32 << 20),
                        env.recordings)
    env.ctx.stream_manager = mgr
    mgr.start([clip_cfg, cont_cfg])
    try:
        _end_to_end(env, mgr)
    finally:
        mgr.stop(10)
        env.close()


def _end_to_end(env: ApiEnv, mgr: StreamManager) -> None:
    try:
        assert wait_until(lambda: all((st := mgr.status(n)) is not None
                                 and st.state == StreamState.ACTIVE for n in ("door", "yard"))
                     and mgr.status("yard").recording, 10)  # type: ignore[union-attr]
        pause = threading.Event()
        pause.wait(3.0)  # the pre-event buffer fills
        assert _rows(env, "door") == []
        t0 = time.time()
        status, body = env.admin.json("POST", "/api/motion/trigger", {
            "stream": "door", "action": "start", "label": "person", "tags": ["frigate"]})
        assert status == 202 and body["recording_triggered"] is True, body
        assert body["tags_applied"] == 1 and body["detections_stored"] == 1
        pause.wait(1.0)
        t1 = time.time()
        status, body = env.admin.json("POST", "/api/motion/trigger",
                                      {"stream": "door", "action": "stop"})
        assert status == 202 and body["recording_triggered"] is False
        # The continuous stream: no clip, the open segment carries the tags.
        status, body = env.admin.json("POST", "/api/motion/trigger", {
            "stream": "yard", "action": "pulse", "duration_ms": 1000, "tags": ["gate"]})
        assert status == 202 and body["recording_triggered"] is False
        assert body["tags_applied"] == 1 and "continuous" in body["message"]
        assert wait_until(lambda: [r.is_complete for r in _rows(env, "door")] == [True], 8)
    finally:
        mgr.stop(10)
    clip = _rows(env, "door")[0]
    assert clip.trigger_type == "detection" and env.recordings.tags(clip.id) == ["frigate"]
    assert t0 - 2 - 2.3 <= clip.start_time <= t0 - 2 + 0.3  # pre buffer, whole 2 s GOPs
    assert clip.end_time is not None and t1 + 1 - 0.3 <= clip.end_time <= t1 + 1 + 2.3
    yard = _rows(env, "yard")
    assert [r.trigger_type for r in yard] == ["scheduled"]
    assert env.recordings.tags(yard[0].id) == ["gate"]
