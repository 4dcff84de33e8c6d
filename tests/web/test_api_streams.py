"""Stream API over a real server: shapes, validation, live apply/remove, zones, retention."""

from __future__ import annotations

from pathlib import Path

import pytest

from lightnvr.web.http import Role
from tests.web.api_support import ApiEnv


def test_list_is_an_array_with_status_and_c_fields(env: ApiEnv) -> None:
    env.add_stream("front door", url="rtsp://u:secret@cam/1", detection_threshold=0.42)
    env.manager.apply(env.streams.get("front door"))  # type: ignore[arg-type]
    env.add_stream("back", enabled=False)
    status, body = env.admin.json("GET", "/api/streams")
    assert status == 200 and isinstance(body, list)
    by_name = {s["name"]: s for s in body}
    front = by_name["front door"]
    assert front["url"] == "rtsp://u:secret@cam/1"  # admins may edit credentials
    assert front["detection_threshold"] == 42  # percent, as the C API
    assert front["recording_schedule"] == [True] * 168
    assert front["status"] == "Running" and front["state"] == "active"
    # the API reports the manager's own figures (the real camera's: tests/web/test_api_camera.py)
    st = env.manager.status("front door")
    assert st is not None and front["recording"] is True
    assert (front["stats"]["packets"], front["stats"]["bytes"]) == (st.packets, st.bytes)
    assert by_name["back"]["status"] == "Stopped" and by_name["back"]["stats"] is None


def test_viewers_never_see_credentials(env: ApiEnv) -> None:
    env.add_stream("cam", url="rtsp://admin:hunter2@10.0.0.5:554/s",
                   sub_stream_url="rtsp://a:b@10.0.0.5/sub")
    viewer = env.user("vera", Role.VIEWER)
    for path in ("/api/streams", "/api/streams/cam", "/api/streams/cam/full"):
        status, _, raw = viewer.request("GET", path)
        assert status == 200
        assert b"hunter2" not in raw and b"a:b@" not in raw
    _, one = viewer.json("GET", "/api/streams/cam")
    assert one["url"] == "rtsp://10.0.0.5:554/s"


def test_create_applies_at_once_and_conflicts(env: ApiEnv) -> None:
    status, body = env.admin.json("POST", "/api/streams", {
        "name": "Garage 1", "url": "rtsp://cam/garage", "detection_threshold": 65,
        "detection_based_recording": 0, "is_onvif": False, "recording_schedule": [False] * 168,
        "record_on_schedule": True})
    assert status == 201 and body == {"success": True, "name": "Garage 1"}
    cfg = env.streams.get("Garage 1")
    assert cfg is not None and cfg.detection_threshold == pytest.approx(0.65)
    assert cfg.recording_schedule == "0" * 168 and cfg.record_on_schedule
    assert env.manager.calls[-1] == ("apply", cfg)
    status, body = env.admin.json("POST", "/api/streams", {"name": "Garage 1", "url": "rtsp://x"})
    assert status == 409 and "already exists" in body["error"]


@pytest.mark.parametrize("payload,field", [
    ({"url": "rtsp://x"}, "name"),
    ({"name": "a/b", "url": "rtsp://x"}, "name"),
    ({"name": "..", "url": "rtsp://x"}, "name"),
    ({"name": "ok", "url": ""}, "url"),
    ({"name": "ok", "url": "rtsp://x", "protocol": 7}, "protocol"),
    ({"name": "ok", "url": "rtsp://x", "segment_duration": "long"}, "segment_duration"),
    ({"name": "ok", "url": "rtsp://x", "enabled": "yes"}, "enabled"),
    ({"name": "ok", "url": "rtsp://x", "detection_threshold": 150}, "detection_threshold"),
    ({"name": "ok", "url": "rtsp://x", "recording_schedule": [True] * 3}, "recording_schedule"),
    ({"name": "ok", "url": "rtsp://x", "retention_days": -5}, "retention_days"),
    ({"name": "x" * 200, "url": "rtsp://x"}, "name"),
])
def test_create_rejects_bad_fields_with_400_naming_the_field(env: ApiEnv, payload: dict,
                                                             field: str) -> None:
    status, body = env.admin.json("POST", "/api/streams", payload)
    assert status == 400, body
    assert body["field"] == field and field in body["error"]
    assert env.streams.count() == 0 and not env.manager.calls


def test_bad_bodies_are_400_not_500(env: ApiEnv) -> None:
    for raw in (b"", b"{", b"[]", b"null", b'"x"'):
        status, _, payload = env.admin.request("POST", "/api/streams", raw=raw,
                                               headers={"Content-Type": "application/json"})
        assert status == 400 and b'"error"' in payload


def test_max_streams_enforced(tmp_path: Path) -> None:
    env = ApiEnv(tmp_path, "[streams]\nmax_streams = 2\n")
    try:
        for n in ("a", "b"):
            assert env.admin.json("POST", "/api/streams", {"name": n, "url": "rtsp://x"})[0] == 201
        status, body = env.admin.json("POST", "/api/streams", {"name": "c", "url": "rtsp://x"})
        assert status == 409 and "max_streams" in body["error"]
    finally:
        env.close()


def test_update_merges_and_reapplies(env: ApiEnv) -> None:
    env.add_stream("cam")
    status, body = env.admin.json("PUT", "/api/streams/cam",
                                  {"url": "rtsp://cam/new", "fps": 12, "unknown_key": 1})
    assert status == 200 and body["success"] and body["restarted"] is True
    cfg = env.streams.get("cam")
    assert cfg is not None and cfg.url == "rtsp://cam/new" and cfg.fps == 12
    assert env.manager.calls[-1] == ("apply", cfg)
    assert env.admin.json("PUT", "/api/streams/cam", {"name": "other"})[0] == 400
    assert env.admin.json("PUT", "/api/streams/nope", {"fps": 1})[0] == 404


def test_delete_soft_then_permanent(env: ApiEnv) -> None:
    env.add_stream("cam")
    env.manager.apply(env.streams.get("cam"))  # type: ignore[arg-type]
    status, body = env.admin.json("DELETE", "/api/streams/cam")
    assert status == 200 and body["permanent"] is False
    assert ("remove", "cam") in env.manager.calls and "cam" not in env.manager.running
    assert env.streams.get("cam") is None
    assert env.admin.json("GET", "/api/streams/cam")[0] == 404
    env.add_stream("cam2")
    assert env.admin.json("DELETE", "/api/streams/cam2?permanent=maybe")[0] == 400
    status, body = env.admin.json("DELETE", "/api/streams/cam2?permanent=true")
    assert status == 200 and body["permanent"] is True
    with env.db.reader() as c:
        assert c.execute("SELECT COUNT(*) FROM streams WHERE name='cam2'").fetchone()[0] == 0


def test_unknown_and_unsafe_names(env: ApiEnv) -> None:
    assert env.admin.json("GET", "/api/streams/missing")[0] == 404
    assert env.admin.json("GET", "/api/streams/%2e%2e")[0] == 400
    assert env.admin.json("GET", "/api/streams/a%01b/full")[0] == 400


def test_probe_endpoint(env: ApiEnv) -> None:
    """The API passes the manager's probe answer through and asks about the URL it was
    given (the real camera's answer: tests/web/test_api_camera.py)."""
    for url in ("rtsp://good/1", "rtsp://bad/1"):
        expected = env.manager.probe(url)
        status, body = env.admin.json("POST", "/api/streams/test", {"url": url, "protocol": 0})
        assert status == 200 and env.manager.calls[-1] == ("probe", url)
        assert body["success"] is expected.ok
        if expected.ok:
            info = body["info"]
            assert (info["codec"], info["width"], info["height"]) == (
                expected.video_codec, expected.width, expected.height)
        else:
            assert expected.error in body["message"]
    assert env.admin.json("POST", "/api/streams/test", {"protocol": 0})[0] == 400


def test_manual_recording_control(env: ApiEnv) -> None:
    env.add_stream("cont")  # continuous recording configured
    env.add_stream("man", record=False)
    for n in ("cont", "man"):
        env.manager.apply(env.streams.get(n))  # type: ignore[arg-type]
    status, _ = env.admin.json("POST", "/api/streams/cont/recording", {"action": "start"})
    assert status == 409
    _, state = env.admin.json("GET", "/api/streams/man/recording")
    assert state["state"] == "idle" and state["manual_control_allowed"] is True
    assert env.admin.json("POST", "/api/streams/man/recording", {"action": "stop"})[0] == 409
    status, _body = env.admin.json("POST", "/api/streams/man/recording", {"action": "start"})
    assert status == 202 and env.manager.manual["man"] is True
    _, state = env.admin.json("GET", "/api/streams/man/recording")
    assert state["state"] == "recording" and state["capture_method"] == "manual"
    assert env.admin.json("POST", "/api/streams/man/recording", {"action": "stop"})[0] == 200
    assert env.manager.manual["man"] is False
    assert env.admin.json("POST", "/api/streams/man/recording", {"action": "jump"})[0] == 400
    viewer = env.user("v", Role.VIEWER)
    assert viewer.json("POST", "/api/streams/man/recording", {"action": "start"})[0] == 403
    _, state = viewer.json("GET", "/api/streams/man/recording")
    assert state["manual_control_reason"] == "read_only"


def test_zones_roundtrip_and_validation(env: ApiEnv) -> None:
    env.add_stream("a")
    env.add_stream("b")
    zone = {"id": "zone_1", "name": "Door", "polygon": [{"x": 0.1, "y": 0.1}, [0.9, 0.1],
                                                        {"x": 0.5, "y": 0.9}],
            "filter_classes": "person,car", "min_confidence": 0.4}
    for s in ("a", "b"):  # the same zone id on two streams (the C UI does this)
        status, body = env.admin.json("POST", f"/api/streams/{s}/zones", {"zones": [zone]})
        assert status == 200 and body["count"] == 1
    _, got = env.admin.json("GET", "/api/streams/a/zones")
    assert got["zones"][0]["id"] == "zone_1"
    assert got["zones"][0]["polygon"][1] == {"x": 0.9, "y": 0.1}
    bad = dict(zone, polygon=[[0.1, 0.1], [2, 0.5], [0.3, 0.3]])
    status, body = env.admin.json("POST", "/api/streams/a/zones", {"zones": [bad]})
    assert status == 400 and body["field"] == "zones[0].polygon[1].x"
    assert env.admin.json("POST", "/api/streams/a/zones", {"zones": [zone] * 20})[0] == 400
    _, full = env.admin.json("GET", "/api/streams/a/full")
    assert len(full["zones"]) == 1
    assert env.admin.json("DELETE", "/api/streams/a/zones")[1]["count"] == 1
    assert env.admin.json("GET", "/api/streams/a/zones")[1]["zones"] == []
    assert env.admin.json("GET", "/api/streams/b/zones")[1]["zones"][0]["name"] == "Door"


def test_retention_get_put(env: ApiEnv) -> None:
    env.add_stream("cam")
    _, body = env.admin.json("GET", "/api/streams/cam/retention")
    assert body == {"stream_name": "cam", "retention_days": -1, "detection_retention_days": -1,
                    "max_storage_mb": 0}
    status, body = env.admin.json("PUT", "/api/streams/cam/retention",
                                  {"retention_days": 7, "max_storage_mb": 500})
    assert status == 200 and body["retention_days"] == 7
    cfg = env.streams.get("cam")
    assert cfg is not None and cfg.retention_days == 7 and cfg.max_storage_mb == 500
    status, body = env.admin.json("PUT", "/api/streams/cam/retention", {"retention_days": -3})
    assert status == 400 and body["field"] == "retention_days"


def test_refresh_restarts_only_that_stream(env: ApiEnv) -> None:
    env.add_stream("cam")
    env.add_stream("other")
    status, body = env.admin.json("POST", "/api/streams/cam/refresh")
    assert status == 202 and body["stream"] == "cam"
    touched = {c[1] if isinstance(c[1], str) else c[1].name for c in env.manager.calls}
    assert touched == {"cam"}


def test_viewer_cannot_write_streams(env: ApiEnv) -> None:
    env.add_stream("cam")
    viewer = env.user("v", Role.VIEWER)
    assert viewer.json("POST", "/api/streams", {"name": "n", "url": "rtsp://x"})[0] == 403
    assert viewer.json("PUT", "/api/streams/cam", {"fps": 1})[0] == 403
    assert viewer.json("DELETE", "/api/streams/cam")[0] == 403
    assert env.anon.json("GET", "/api/streams")[0] == 401
    api_user = env.user("robot", Role.API)
    assert api_user.json("PUT", "/api/streams/cam", {"fps": 3})[0] == 200
