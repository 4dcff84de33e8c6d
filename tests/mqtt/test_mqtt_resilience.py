"""MQTT when things go wrong, and secured: a broker outage while the camera records and events
keep coming, a wrong password, TLS with a test CA plus username/password.

The outage is OUTAGE_SECONDS: the issue's 30 s (LIGHTNVR_MQTT_OUTAGE overrides it for a quicker
local run); the outbox rule and the reconnect bound do not depend on the length, only the number
of queued events does.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from tests.fixtures.daemon import DaemonProcess
from tests.fixtures.mqtt_broker import Broker, Subscriber
from tests.mqtt.test_mqtt_events import _add_stream, _stream_active, _wait

pytestmark = pytest.mark.timeout(180)
OUTAGE_SECONDS = float(os.environ.get("LIGHTNVR_MQTT_OUTAGE", "30"))
RECONNECT_BOUND = 5.0  # the issue: reconnect within 5 s of the broker's return


def _status(d: DaemonProcess) -> dict[str, Any]:
    result: dict[str, Any] = d.json("/api/mqtt/status")
    return result


def test_broker_outage_keeps_recording_queues_events_and_reconnects(
        mqtt_broker_factory: Callable[..., Broker], daemon_factory: Callable[..., DaemonProcess],
        rtsp_camera: Any) -> None:
    broker = mqtt_broker_factory(persistence=True)
    d = daemon_factory({"mqtt": broker.mqtt_config()})
    _add_stream(d, "gate", rtsp_camera.url("file264"), record=True, segment_duration=5)
    _wait(lambda: _stream_active(d, "gate"), 30, "stream gate active")
    sub = Subscriber(broker, "lightnvr/#", session="outage-test-subscriber")
    try:
        _wait(lambda: _status(d)["state"] == "connected", 10, "connected")
        broker.stop()
        outage_start = time.time()
        _wait(lambda: _status(d)["state"] != "connected", 10, "the daemon notices the outage")
        sent = 0
        while time.time() - outage_start < OUTAGE_SECONDS:
            status, body = d.call("POST", "/api/motion/trigger", {
                "stream": "gate", "action": "pulse", "label": f"outage{sent}"}, timeout=5)
            assert status == 202, body  # the web thread is never held up by MQTT
            sent += 1
            time.sleep(1.0)
        during = _status(d)
        assert during["state"] in ("disconnected", "connecting") and during["last_error"]
        broker.start()
        back = time.monotonic()
        _wait(lambda: _status(d)["state"] == "connected", RECONNECT_BOUND + 1,
              "reconnected after the broker's return")
        assert time.monotonic() - back <= RECONNECT_BOUND + 0.5  # +poll step of _wait
        # Each outage event arrives, or is counted as dropped (oldest first) by the outbox.
        dropped = _status(d)["dropped"]

        def outage_events() -> int:
            labels = {orjson.loads(m.payload)["detections"][0]["label"]
                      for m in sub.on("lightnvr/detections/gate")}
            return sum(1 for i in range(sent) if f"outage{i}" in labels)

        _wait(lambda: outage_events() + dropped >= sent, 15,
              f"{sent} outage events delivered or counted as dropped")
        assert sent >= OUTAGE_SECONDS / 2
    finally:
        sub.close()
    # Recording went on through the outage: completed segments from before it to after it,
    # each starting where the previous one ended.
    outage_end = outage_start + OUTAGE_SECONDS

    def spans() -> list[tuple[float, float]]:
        rows = d.json("/api/recordings?stream=gate&sort=start_time&order=asc&limit=100")
        return sorted((r["start_time_unix"], r["end_time_unix"]) for r in rows["recordings"]
                      if r["end_time_unix"] > r["start_time_unix"])

    covering = _wait(lambda: [s for s in spans() if s[1] >= outage_start - 5]
                     if any(e >= outage_end for _, e in spans()) else None, 20,
                     "a completed segment after the outage")
    assert covering[0][0] <= outage_start, covering
    for (_, end), (start, _) in itertools.pairwise(covering):
        assert start - end < 1.5, f"gap of {start - end:.1f} s in recording: {covering}"
    # No thread stuck: the daemon stops in order, no component overruns its deadline.
    assert d.stop() == 0
    assert "did not stop" not in d.log_tail(50000)


def test_wrong_password_is_reported_and_retried_with_backoff(
        mqtt_broker_factory: Callable[..., Broker],
        daemon_factory: Callable[..., DaemonProcess]) -> None:
    broker = mqtt_broker_factory(users={"nvr": "right-password"})
    d = daemon_factory({"mqtt": broker.mqtt_config(username="nvr", password="wrong")})
    _wait(lambda: _status(d)["state"] == "refused", 10, "refused")
    first = _status(d)
    assert "username and password" in first["last_error"], first
    time.sleep(8)
    later = _status(d)
    # Retried, but backing off: 0.5, 1, 2, 4 s ... not once every half second.
    assert later["attempts"] > first["attempts"]
    assert later["attempts"] - first["attempts"] <= 5, later
    assert "username and password" in d.log_tail(20000)


def test_tls_with_test_ca_and_password_auth(
        mqtt_broker_factory: Callable[..., Broker], daemon_factory: Callable[..., DaemonProcess],
        rtsp_camera: Any) -> None:
    broker = mqtt_broker_factory(users={"nvr": "s3cret-pw", "viewer": "viewer-pw"}, tls=True)
    d = daemon_factory({"mqtt": broker.mqtt_config(username="nvr", password="s3cret-pw")})
    _add_stream(d, "lane", rtsp_camera.url("file264"))
    _wait(lambda: _status(d)["state"] == "connected", 15, "TLS connection")
    with Subscriber(broker, "lightnvr/#", username="viewer", password="viewer-pw") as sub:
        _wait(lambda: _stream_active(d, "lane"), 30, "stream lane active")
        d.call("POST", "/api/motion/trigger", {"stream": "lane", "action": "pulse",
                                               "label": "person"})
        event = sub.wait_for("lightnvr/detections/lane", timeout=10)
        assert orjson.loads(event.payload)["detections"][0]["label"] == "person"
    # The same broker without our CA: the certificate is refused, and the status says so.
    d2 = daemon_factory({"mqtt": {**broker.mqtt_config(username="nvr", password="s3cret-pw"),
                                  "tls_ca_file": ""}})
    _wait(lambda: _status(d2)["last_error"], 10, "an error without the CA")
    error = _status(d2)["last_error"]
    assert "certificate" in error.lower() and "tls_ca_file" in error, error
