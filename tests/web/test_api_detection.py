"""Detection API and its repos: results, models, motion trigger with zones and tags."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lightnvr.core.recordings_store import SegmentOpened
from lightnvr.database.detections import DetectionsRepo, NewDetection
from lightnvr.database.zones import InvalidZone, ZonesRepo, zone_from_json
from lightnvr.web.http import Role
from tests.web.api_support import ApiEnv

SQUARE = [[0, 0], [1, 0], [1, 1], [0, 1]]


@pytest.fixture
def env(tmp_path: Path) -> Iterator[ApiEnv]:
    e = ApiEnv(tmp_path)
    e.add_stream("cam", detection_interval=5)
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


def test_models_list_is_empty_in_c_shape(env: ApiEnv) -> None:
    status, body = env.admin.json("GET", "/api/detection/models")
    assert status == 200 and body["models"] == [] and body["count"] == 0


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
    assert body["recording_triggered"] is False and "warning" in body
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
