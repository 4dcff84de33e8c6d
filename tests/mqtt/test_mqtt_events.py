"""MQTT end to end: the real daemon, the real RTSP test camera, Debian's mosquitto.

What a user of LightNVR's MQTT integration relies on (docs/mqtt.md): a motion trigger puts
the event's JPEG and then its JSON on `{prefix}/detections/{stream}[/snapshot]`; a
subscriber that connects late still sees the retained availability and discovery; Home
Assistant's config messages carry what HA requires and keep their unique ids across a
restart; deleting a stream removes its entities; the recording switch records; and the
events table holds what was published.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.fixtures.daemon import DaemonProcess, start_daemon
from tests.fixtures.mqtt_broker import Broker, Subscriber
from tests.fixtures.wait import wait_until

pytestmark = pytest.mark.timeout(120)

# Home Assistant's MQTT discovery documentation: the keys each component requires, and the
# keys every discovered entity with a device needs (unique_id for the device registry,
# device.identifiers or connections).
HA_REQUIRED = {"camera": {"topic"}, "binary_sensor": {"state_topic"},
               "sensor": {"state_topic"}, "switch": {"command_topic"}}


def _add_stream(d: DaemonProcess, name: str, url: str, **extra: Any) -> None:
    status, body = d.call("POST", "/api/streams", {"name": name, "url": url,
                                                   "streaming_enabled": False,
                                                   "record": False, **extra})
    assert status in (200, 201), body[:300]


def _wait(pred: Callable[[], object], timeout: float, what: str) -> Any:
    return wait_until(pred, timeout, step=0.2, what=what)


def _stream_active(d: DaemonProcess, name: str) -> bool:
    """Streaming, with a keyframe to snapshot (an event's JPEG needs one)."""
    return d.call("GET", f"/api/streams/{name}/snapshot")[0] == 200


def _events(d: DaemonProcess) -> list[sqlite3.Row]:
    db = sqlite3.connect(f"file:{d.base / 'db' / 'lightnvr.db'}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        return db.execute("SELECT * FROM events ORDER BY id").fetchall()
    finally:
        db.close()


def _config(broker: Broker, **extra: Any) -> dict[str, dict[str, Any]]:
    return {"mqtt": broker.mqtt_config(**extra)}


def test_motion_trigger_publishes_snapshot_then_event_and_records_it(
        mqtt_broker: Broker, daemon_factory: Callable[..., DaemonProcess],
        rtsp_camera: Any) -> None:
    d = daemon_factory(_config(mqtt_broker, topic_prefix="nvr1"))
    with Subscriber(mqtt_broker, "nvr1/#") as sub:
        _add_stream(d, "front", rtsp_camera.url("file264"))
        _wait(lambda: _stream_active(d, "front"), 30, "stream front active")
        sub.wait_for("nvr1/streams/front/status", lambda p: b'"online"' in p, 20)
        status, body = d.call("POST", "/api/motion/trigger", {
            "stream": "front", "action": "pulse", "duration_ms": 1000,
            "objects": [{"label": "person", "confidence": 0.92}, "car"]})
        assert status == 202, body
        event = sub.wait_for("nvr1/detections/front", timeout=15)
        snap = sub.wait_for("nvr1/detections/front/snapshot", timeout=1)
        assert snap.payload[:2] == b"\xff\xd8", "the snapshot is a JPEG"
        assert snap.at <= event.at, "the snapshot arrives before the event"
        body_json = orjson.loads(event.payload)
        assert body_json["stream"] == "front" and body_json["count"] == 2
        assert abs(body_json["timestamp"] - time.time()) < 60
        assert body_json["snapshot_topic"] == "nvr1/detections/front/snapshot"
        assert Path(body_json["snapshot_path"]).read_bytes() == snap.payload
        labels = {o["label"]: o for o in body_json["detections"]}
        assert labels["person"]["confidence"] == pytest.approx(0.92)
        for o in labels.values():
            assert {"x", "y", "width", "height"} <= o.keys()
        # The snapshot URL serves the same JPEG through the web server.
        status, jpeg = d.call("GET", body_json["snapshot_url"])
        assert status == 200 and jpeg == snap.payload
        sub.wait_for("nvr1/cameras/front/motion", lambda p: p == b"ON", 5)
        sub.wait_for("nvr1/cameras/front/person", lambda p: p == b"1", 5)
    # The events table has what was published.
    rows = _wait(lambda: [r for r in _events(d) if r["stream_name"] == "front"
                          and orjson.loads(r["details"] or "{}").get("kind") == "detection"],
                 5, "a detection row")
    assert "person" in rows[-1]["description"]
    kinds = {orjson.loads(r["details"] or "{}").get("kind") for r in _events(d)}
    assert "stream_online" in kinds
    # ... and the API shows that history.
    history = d.json("/api/events?stream=front&kind=detection")["events"]
    assert history and history[0]["details"]["objects"][0]["label"] == "person"
    assert {e["kind"] for e in d.json("/api/events?stream=front")["events"]} >= {
        "detection", "stream_online"}


def test_late_subscriber_sees_retained_availability_and_discovery(
        mqtt_broker: Broker, daemon_factory: Callable[..., DaemonProcess],
        rtsp_camera: Any) -> None:
    d = daemon_factory(_config(mqtt_broker, ha_discovery=True, client_id="nvr-a"))
    _add_stream(d, "yard", rtsp_camera.url("file264"))
    _wait(lambda: d.json("/api/mqtt/status")["state"] == "connected", 15, "MQTT connected")
    time.sleep(2)  # give the hub a poll to announce the stream (the subscriber comes later)
    with Subscriber(mqtt_broker, "lightnvr/#", "homeassistant/#") as sub:
        avail = sub.wait_for("lightnvr/availability", timeout=5)
        assert avail.payload == b"online" and avail.retain
        cfg = sub.wait_for("homeassistant/switch/nvr-a/yard_recording/config", timeout=5)
        assert cfg.retain
        assert orjson.loads(cfg.payload)["command_topic"] == \
            "lightnvr/cameras/yard/recording/set"
    assert d.stop() == 0
    with Subscriber(mqtt_broker, "lightnvr/availability") as sub:
        assert sub.wait_for("lightnvr/availability", timeout=5).payload == b"offline"


def _discovery(sub: Subscriber, prefix: str = "homeassistant/") -> dict[str, dict[str, Any]]:
    return {m.topic: orjson.loads(m.payload) for m in sub.messages
            if m.topic.startswith(prefix) and m.topic.endswith("/config") and m.payload}


def test_ha_discovery_required_fields_stable_ids_and_removal(
        mqtt_broker: Broker, tmp_path: Path, rtsp_camera: Any) -> None:
    conf = _config(mqtt_broker, ha_discovery=True, client_id="garage", ha_snapshot_interval=1)
    dog = "homeassistant/sensor/garage/drive_dog_count/config"
    d = start_daemon(tmp_path / "d", conf)
    try:
        _add_stream(d, "drive", rtsp_camera.url("file264"))
        with Subscriber(mqtt_broker, "homeassistant/#") as sub:
            _wait(lambda: len(_discovery(sub)) >= 4, 15, "four discovery configs")
            first = _discovery(sub)
            # A detection of a new label adds that label's count sensor.
            _wait(lambda: _stream_active(d, "drive"), 30, "stream drive active")
            d.call("POST", "/api/motion/trigger", {"stream": "drive", "action": "pulse",
                                                   "label": "dog"})
            label = orjson.loads(sub.wait_for(dog, timeout=10).payload)
            assert label["state_topic"] == "lightnvr/cameras/drive/dog"
        by_component = {t.split("/")[1]: body for t, body in first.items()}
        assert set(by_component) == set(HA_REQUIRED)
        for component, body in by_component.items():
            assert HA_REQUIRED[component] <= body.keys(), (component, body)
            assert body["unique_id"] and body["device"]["identifiers"]
            assert body["availability"][0]["topic"] == "lightnvr/availability"
        ids = {t: b["unique_id"] for t, b in first.items()}
        assert len(set(ids.values())) == len(ids), "unique ids are unique"
        assert d.stop() == 0
        d = start_daemon(tmp_path / "d", conf)  # same database and config: a restart
        with Subscriber(mqtt_broker, "homeassistant/#", "lightnvr/cameras/+/snapshot") as sub:
            # Restart publishes again (retained copies arrive first; wait for the live ones).
            _wait(lambda: sum(1 for m in sub.messages if m.topic in ids and not m.retain) >= 4,
                  15, "discovery published again after the restart")
            assert {t: b["unique_id"] for t, b in _discovery(sub).items() if t in ids} == ids
            # The camera entity is fed a JPEG every ha_snapshot_interval (1) seconds.
            camera_topic = by_component["camera"]["topic"]
            frames = _wait(lambda: sub.on(camera_topic)[1:], 15, "two camera snapshots")
            assert all(f.payload[:2] == b"\xff\xd8" and not f.retain for f in frames)
            # Deleting the stream removes every entity, also the label sensor of the last run.
            status, answer = d.call("DELETE", "/api/streams/drive")
            assert status in (200, 204), answer
            for topic in [*first, dog]:
                sub.wait_for(topic, lambda p: p == b"", 10)
        with Subscriber(mqtt_broker, "homeassistant/#") as late:
            time.sleep(1.0)
            assert _discovery(late) == {}, "no retained entity of the deleted stream remains"
    finally:
        d.stop()


def test_recording_switch_over_mqtt_starts_and_stops_a_manual_recording(
        mqtt_broker: Broker, daemon_factory: Callable[..., DaemonProcess],
        rtsp_camera: Any) -> None:
    d = daemon_factory(_config(mqtt_broker, ha_discovery=True))
    _add_stream(d, "porch", rtsp_camera.url("file264"))
    _wait(lambda: _stream_active(d, "porch"), 30, "stream porch active")
    with Subscriber(mqtt_broker, "lightnvr/#") as sub:
        sub.wait_for("lightnvr/cameras/porch/recording", lambda p: p == b"OFF", 10)
        sub.publish("lightnvr/cameras/porch/recording/set", "SELF-DESTRUCT")
        sub.publish("lightnvr/cameras/nosuch/recording/set", "ON")
        sub.publish("lightnvr/cameras/porch/recording/set", "ON")
        sub.wait_for("lightnvr/cameras/porch/recording", lambda p: p == b"ON", 10)
        sub.wait_for("lightnvr/recordings/porch", lambda p: b'"started"' in p, 15)
        time.sleep(3)
        sub.publish("lightnvr/cameras/porch/recording/set", "OFF")
        sub.wait_for("lightnvr/recordings/porch", lambda p: b'"stopped"' in p, 15)
    rows = _wait(lambda: d.json("/api/recordings?stream=porch").get("recordings"), 10,
                 "a recording row")
    files = list((d.base / "rec").rglob("*.mp4"))
    assert files and any(f.stat().st_size > 10_000 for f in files)
    assert rows
    log = d.log_tail(20000)
    assert "ignored command b'SELF-DESTRUCT'" in log
    assert "nosuch" in log
