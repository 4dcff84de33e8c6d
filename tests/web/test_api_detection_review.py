"""Reviewing detections over HTTP: the recordings list's label filter, a recording's detections,
and the timeline's detection marks (real server, real SQLite, real clip files)."""

from __future__ import annotations

from lightnvr.database.detections import DetectionsRepo, NewDetection
from tests.fixtures.web import LiveWeb

T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z


def _detect(env: LiveWeb, stream: str, at: float, label: str,
            recording_id: int | None = None) -> None:
    DetectionsRepo(env.testdb.db).add_many([NewDetection(stream, at, label, 0.9, 0.1, 0.2, 0.3, 0.4,
                                                  recording_id)])


def test_label_filter_keeps_only_recordings_with_that_label(env: LiveWeb) -> None:
    person = env.add_recording("front", T0, trigger="detection")
    car = env.add_recording("front", T0 + 100, trigger="detection")
    quiet = env.add_recording("front", T0 + 200)
    _detect(env, "front", T0 + 2, "person", person)
    _detect(env, "front", T0 + 103, "car", car)
    for label, want in (("person", [person]), ("car", [car]), ("motion", [])):
        status, body = env.api.call("GET", f"/api/recordings?label={label}&order=asc")
        assert status == 200, body
        assert [r["id"] for r in body["recordings"]] == want, label
        assert body["pagination"]["total"] == len(want)
    status, body = env.api.call("GET", "/api/recordings?order=asc")
    assert [r["id"] for r in body["recordings"]] == [person, car, quiet]  # no label: all


def test_a_recording_lists_the_detections_within_it(env: LiveWeb) -> None:
    rec = env.add_recording("front", T0, seconds=6, trigger="detection")
    other = env.add_recording("back", T0, seconds=6)
    _detect(env, "front", T0 + 4, "motion", rec)
    _detect(env, "front", T0 + 1, "person")
    _detect(env, "front", T0 + 30, "motion")  # after the clip: not in it
    _detect(env, "back", T0 + 2, "car")       # another stream at the same time: not in it
    status, body = env.api.call("GET", f"/api/recordings/{rec}/detections")
    assert status == 200, body
    got = [(d["label"], d["offset"], d["recording_id"]) for d in body["detections"]]
    assert got == [("person", 1.0, None), ("motion", 4.0, rec)]  # oldest first
    assert body["count"] == 2 and body["recording_id"] == rec
    assert body["detections"][0]["x"] == 0.1 and body["detections"][0]["height"] == 0.4
    status, body = env.api.call("GET", f"/api/recordings/{other}/detections")
    assert [d["label"] for d in body["detections"]] == ["car"]
    status, _ = env.api.call("GET", "/api/recordings/999999/detections")
    assert status == 404
    status, _ = env.client().call("GET", f"/api/recordings/{rec}/detections")
    assert status == 401


def test_timeline_marks_detection_events_as_merged_runs(env: LiveWeb) -> None:
    env.add_stream("front")
    env.add_recording("front", T0, seconds=6)
    # one walk-through (three detections 2 s apart), then a car a minute later
    for dt in (1.0, 3.0, 5.0):
        _detect(env, "front", T0 + dt, "motion")
    _detect(env, "front", T0 + 65, "car")
    status, body = env.api.call(
        "GET", f"/api/timeline/segments?stream=front&start={int(T0 - 60)}&end={int(T0 + 120)}")
    assert status == 200, body
    marks = body["detection_intervals"]
    assert [(m["start_timestamp"], m["end_timestamp"], m["count"], m["labels"])
            for m in marks] == [(T0 + 1, T0 + 5, 3, ["motion"]), (T0 + 65, T0 + 65, 1, ["car"])]
    status, body = env.api.call(
        "GET", f"/api/timeline/segments?stream=front&start={int(T0 + 100)}&end={int(T0 + 200)}")
    assert body["detection_intervals"] == []
