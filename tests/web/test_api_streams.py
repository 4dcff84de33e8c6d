"""Stream API over the one web harness (real SQLite, HTTP and StreamManager; the RTSP test
camera where a stream must run): shapes, validation, live apply/remove, zones, retention."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest

from lightnvr.video.stream_manager import StreamState
from lightnvr.web.http import Role
from tests.fixtures.wait import wait_until
from tests.fixtures.web import LiveWeb


@pytest.mark.camera
def test_list_is_an_array_with_status_and_c_fields(env: LiveWeb, rtsp_camera: Any) -> None:
    # credentials in the URL, as real cameras need (the test camera ignores them)
    url = rtsp_camera.url("live264na").replace("rtsp://", "rtsp://u:secret@")
    env.stream_manager.apply(env.add_stream("front door", url=url, detection_threshold=0.42))
    env.add_stream("back", enabled=False)
    sm = env.stream_manager
    assert wait_until(lambda: (st := sm.status("front door")) is not None
                      and st.state == StreamState.ACTIVE and st.recording and st.packets > 0,
                      30), sm.status("front door")
    before = sm.status("front door")
    status, body = env.api.call("GET", "/api/streams")
    after = sm.status("front door")
    assert status == 200 and isinstance(body, list)
    by_name = {s["name"]: s for s in body}
    front = by_name["front door"]
    assert front["url"] == url  # admins may edit credentials
    assert front["detection_threshold"] == 42  # percent, as the C API
    assert front["recording_schedule"] == [True] * 168
    assert front["status"] == "Running" and front["state"] == "active"
    # the API reports the manager's own figures, read between these two looks at them
    assert before is not None and after is not None and front["recording"] is True
    assert before.packets <= front["stats"]["packets"] <= after.packets
    assert before.bytes <= front["stats"]["bytes"] <= after.bytes
    assert by_name["back"]["status"] == "Stopped" and by_name["back"]["stats"] is None


def test_viewers_never_see_credentials(env: LiveWeb) -> None:
    env.add_stream("cam", url="rtsp://admin:hunter2@10.0.0.5:554/s",
                   sub_stream_url="rtsp://a:b@10.0.0.5/sub")
    viewer = env.make_user("vera", Role.VIEWER)
    for path in ("/api/streams", "/api/streams/cam", "/api/streams/cam/full"):
        r = viewer.request("GET", path)
        status, raw = r.status, r.body
        assert status == 200
        assert b"hunter2" not in raw and b"a:b@" not in raw
    _, one = viewer.call("GET", "/api/streams/cam")
    assert one["url"] == "rtsp://10.0.0.5:554/s"


def test_create_applies_at_once_and_conflicts(env: LiveWeb) -> None:
    status, body = env.api.call("POST", "/api/streams", {
        "name": "Garage 1", "url": "rtsp://cam/garage", "detection_threshold": 65,
        "detection_based_recording": 0, "is_onvif": False, "recording_schedule": [False] * 168,
        "record_on_schedule": True})
    assert status == 201 and body == {"success": True, "name": "Garage 1"}
    cfg = env.testdb.streams.get("Garage 1")
    assert cfg is not None and cfg.detection_threshold == pytest.approx(0.65)
    assert cfg.recording_schedule == "0" * 168 and cfg.record_on_schedule
    assert env.stream_manager.configs() == [cfg]  # running, with the stored settings
    status, body = env.api.call("POST", "/api/streams", {"name": "Garage 1", "url": "rtsp://x"})
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
def test_create_rejects_bad_fields_with_400_naming_the_field(env: LiveWeb, payload: dict,
                                                             field: str) -> None:
    status, body = env.api.call("POST", "/api/streams", payload)
    assert status == 400, body
    assert body["field"] == field and field in body["error"]
    assert env.testdb.streams.count() == 0 and env.stream_manager.names() == []


def test_bad_bodies_are_400_not_500(env: LiveWeb) -> None:
    for raw in (b"", b"{", b"[]", b"null", b'"x"'):
        r = env.api.request("POST", "/api/streams", body=raw,
                            headers={"Content-Type": "application/json"})
        status, payload = r.status, r.body
        assert status == 400 and b'"error"' in payload


def test_max_streams_enforced(web_factory: Callable[..., LiveWeb]) -> None:
    env = web_factory(config={"streams": {"max_streams": 2}})
    env.testdb.streams.delete("front")
    for n in ("a", "b"):
        assert env.api.call("POST", "/api/streams", {"name": n, "url": "rtsp://x"})[0] == 201
    status, body = env.api.call("POST", "/api/streams", {"name": "c", "url": "rtsp://x"})
    assert status == 409 and "max_streams" in body["error"]
    assert env.stream_manager.names() == ["a", "b"]


def test_update_merges_and_reapplies(env: LiveWeb) -> None:
    env.add_stream("cam")
    status, body = env.api.call("PUT", "/api/streams/cam",
                                  {"url": "rtsp://cam/new", "fps": 12, "unknown_key": 1})
    assert status == 200 and body["success"] and body["restarted"] is True
    cfg = env.testdb.streams.get("cam")
    assert cfg is not None and cfg.url == "rtsp://cam/new" and cfg.fps == 12
    assert env.stream_manager.configs() == [cfg]  # the manager runs the new settings
    assert env.api.call("PUT", "/api/streams/cam", {"name": "other"})[0] == 400
    assert env.api.call("PUT", "/api/streams/nope", {"fps": 1})[0] == 404


def test_delete_soft_then_permanent(env: LiveWeb) -> None:
    env.add_stream("cam")
    env.stream_manager.apply(env.testdb.streams.get("cam"))  # type: ignore[arg-type]
    assert env.stream_manager.names() == ["cam"]
    status, body = env.api.call("DELETE", "/api/streams/cam")
    assert status == 200 and body["permanent"] is False
    assert env.stream_manager.names() == [] and env.stream_manager.status("cam") is None
    assert env.testdb.streams.get("cam") is None
    assert env.api.call("GET", "/api/streams/cam")[0] == 404
    env.add_stream("cam2")
    assert env.api.call("DELETE", "/api/streams/cam2?permanent=maybe")[0] == 400
    status, body = env.api.call("DELETE", "/api/streams/cam2?permanent=true")
    assert status == 200 and body["permanent"] is True
    with env.testdb.db.reader() as c:
        assert c.execute("SELECT COUNT(*) FROM streams WHERE name='cam2'").fetchone()[0] == 0


def test_unknown_and_unsafe_names(env: LiveWeb) -> None:
    assert env.api.call("GET", "/api/streams/missing")[0] == 404
    assert env.api.call("GET", "/api/streams/%2e%2e")[0] == 400
    assert env.api.call("GET", "/api/streams/a%01b/full")[0] == 400


@pytest.mark.camera
def test_probe_endpoint(env: LiveWeb, rtsp_camera: Any) -> None:
    """The API probes the URL it was given: two mounts of the real camera answer their own
    codecs, a closed port answers `success: false` with the reason (more on the answer's
    shape: tests/web/test_api_camera.py)."""
    for mount, codec in (("live264", "h264"), ("live265", "hevc")):
        status, body = env.api.call("POST", "/api/streams/test",
                                    {"url": rtsp_camera.url(mount), "protocol": 0})
        assert status == 200 and body["success"] is True, body
        assert (body["info"]["codec"], body["info"]["width"]) == (codec, 640), body
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"rtsp://127.0.0.1:{s.getsockname()[1]}/live264"
    status, body = env.api.call("POST", "/api/streams/test", {"url": dead, "protocol": 0})
    assert status == 200 and body["success"] is False and body["message"], body
    assert env.api.call("POST", "/api/streams/test", {"protocol": 0})[0] == 400
    assert env.stream_manager.names() == []  # a probe starts no stream


@pytest.mark.camera
def test_manual_recording_control(env: LiveWeb, rtsp_camera: Any) -> None:
    url = rtsp_camera.url("live264na")
    env.add_stream("cont", url=url, streaming_enabled=False)  # continuous recording configured
    env.add_stream("man", url=url, record=False, streaming_enabled=False)
    for n in ("cont", "man"):
        env.stream_manager.apply(env.testdb.streams.get(n))  # type: ignore[arg-type]

    def state() -> dict[str, Any]:
        status, body = env.api.call("GET", "/api/streams/man/recording")
        assert status == 200, body
        return dict(body)

    status, _ = env.api.call("POST", "/api/streams/cont/recording", {"action": "start"})
    assert status == 409
    assert state()["state"] == "idle" and state()["manual_control_allowed"] is True
    assert env.api.call("POST", "/api/streams/man/recording", {"action": "stop"})[0] == 409
    status, _body = env.api.call("POST", "/api/streams/man/recording", {"action": "start"})
    assert status == 202 and env.stream_manager.manual_recording("man") is True
    # the camera's frames reach a segment file that the recorder opened for it
    assert wait_until(lambda: state()["state"] == "recording", 30), state()
    assert state()["capture_method"] == "manual"
    assert env.api.call("POST", "/api/streams/man/recording", {"action": "stop"})[0] == 200
    assert env.stream_manager.manual_recording("man") is False
    assert wait_until(lambda: state()["state"] == "idle", 30), state()
    assert env.api.call("POST", "/api/streams/man/recording", {"action": "jump"})[0] == 400
    viewer = env.make_user("vic", Role.VIEWER)
    assert viewer.call("POST", "/api/streams/man/recording", {"action": "start"})[0] == 403
    _, seen = viewer.call("GET", "/api/streams/man/recording")
    assert seen["manual_control_reason"] == "read_only"


def test_zones_roundtrip_and_validation(env: LiveWeb) -> None:
    env.add_stream("a")
    env.add_stream("b")
    zone = {"id": "zone_1", "name": "Door", "polygon": [{"x": 0.1, "y": 0.1}, [0.9, 0.1],
                                                        {"x": 0.5, "y": 0.9}],
            "filter_classes": "person,car", "min_confidence": 0.4}
    for s in ("a", "b"):  # the same zone id on two streams (the C UI does this)
        status, body = env.api.call("POST", f"/api/streams/{s}/zones", {"zones": [zone]})
        assert status == 200 and body["count"] == 1
    _, got = env.api.call("GET", "/api/streams/a/zones")
    assert got["zones"][0]["id"] == "zone_1"
    assert got["zones"][0]["polygon"][1] == {"x": 0.9, "y": 0.1}
    bad = dict(zone, polygon=[[0.1, 0.1], [2, 0.5], [0.3, 0.3]])
    status, body = env.api.call("POST", "/api/streams/a/zones", {"zones": [bad]})
    assert status == 400 and body["field"] == "zones[0].polygon[1].x"
    assert env.api.call("POST", "/api/streams/a/zones", {"zones": [zone] * 20})[0] == 400
    _, full = env.api.call("GET", "/api/streams/a/full")
    assert len(full["zones"]) == 1
    assert env.api.call("DELETE", "/api/streams/a/zones")[1]["count"] == 1
    assert env.api.call("GET", "/api/streams/a/zones")[1]["zones"] == []
    assert env.api.call("GET", "/api/streams/b/zones")[1]["zones"][0]["name"] == "Door"


def test_retention_get_put(env: LiveWeb) -> None:
    env.add_stream("cam")
    _, body = env.api.call("GET", "/api/streams/cam/retention")
    assert body == {"stream_name": "cam", "retention_days": -1, "detection_retention_days": -1,
                    "max_storage_mb": 0}
    status, body = env.api.call("PUT", "/api/streams/cam/retention",
                                  {"retention_days": 7, "max_storage_mb": 500})
    assert status == 200 and body["retention_days"] == 7
    cfg = env.testdb.streams.get("cam")
    assert cfg is not None and cfg.retention_days == 7 and cfg.max_storage_mb == 500
    status, body = env.api.call("PUT", "/api/streams/cam/retention", {"retention_days": -3})
    assert status == 400 and body["field"] == "retention_days"


@pytest.mark.camera
def test_refresh_restarts_only_that_stream(env: LiveWeb, rtsp_camera: Any) -> None:
    """A refreshed stream starts over (its packet count begins again from zero) while the
    other one keeps counting."""
    sm = env.stream_manager
    for name in ("cam", "other"):
        sm.apply(env.add_stream(name, url=rtsp_camera.url("live264na"), record=False,
                                streaming_enabled=False))

    def packets(name: str) -> int:
        st = sm.status(name)
        return st.packets if st is not None else -1

    assert wait_until(lambda: packets("cam") > 30 and packets("other") > 30, 30), sm.statuses()
    cam_before, other_before = packets("cam"), packets("other")
    status, body = env.api.call("POST", "/api/streams/cam/refresh")
    assert status == 202 and body["stream"] == "cam"
    assert packets("cam") < cam_before  # a new reader: its count starts again
    assert packets("other") >= other_before
    assert wait_until(lambda: packets("cam") > 0, 30), "the refreshed stream did not resume"


def test_viewer_cannot_write_streams(env: LiveWeb) -> None:
    env.add_stream("cam")
    viewer = env.make_user("vic", Role.VIEWER)
    assert viewer.call("POST", "/api/streams", {"name": "n", "url": "rtsp://x"})[0] == 403
    assert viewer.call("PUT", "/api/streams/cam", {"fps": 1})[0] == 403
    assert viewer.call("DELETE", "/api/streams/cam")[0] == 403
    assert env.client().call("GET", "/api/streams")[0] == 401
    api_user = env.make_user("robot", Role.API)
    assert api_user.call("PUT", "/api/streams/cam", {"fps": 3})[0] == 200
