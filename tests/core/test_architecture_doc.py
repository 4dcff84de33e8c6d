"""docs/architecture.md says what the daemon does: its shutdown order and its heartbeats.

The real daemon runs with one camera stream that records, serves live view and watches for
motion, and with MQTT on (a real mosquitto broker), so every always-present and per-stream
component exists. On SIGTERM it logs the components it stops, in order, and the heartbeats
the watchdog covered; both are compared with the document's tables. A component or heartbeat
added in code but not in the document (or the other way round) fails here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures.camera import TestCamera
from tests.fixtures.daemon import DaemonProcess
from tests.fixtures.mqtt_broker import Broker
from tests.fixtures.wait import wait_until

pytestmark = [pytest.mark.camera]

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"
# Components the document lists that this test cannot bring up, each with the reason.
NOT_STARTED_HERE = {
    "swap": "needs [memory] use_swap with a swap file (tests/core/test_swap.py)",
    "go2rtc": "needs [go2rtc] enabled with its binary (tests/video/test_go2rtc_*.py)",
    "reader:<stream>/sub": "needs a sub_stream_url (tests/detection/test_motion_substream.py)",
    "reader:<stream>/live-sub": "needs an MSE sub-stream viewer (tests/video/test_live_mse.py)",
    "mse:<stream>": "needs an MSE viewer (tests/video/test_live_mse.py)",
    "mse:<stream>/sub": "needs an MSE viewer of a sub-stream (tests/video/test_live_mse.py)",
}


def _table(text: str, first_header: str) -> list[list[str]]:
    """Rows (cells) of the markdown table whose header row starts with `first_header`."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == first_header:
            rows = []
            for row in lines[i + 2:]:
                if not row.startswith("|"):
                    break
                rows.append([c.strip() for c in row.strip().strip("|").split("|")])
            return rows
    raise AssertionError(f"no table with header {first_header!r} in {DOC}")


def _doc_shutdown_order() -> list[tuple[int, str]]:
    return [(int(r[0]), r[1].strip("`")) for r in _table(DOC.read_text(), "priority")]


def _doc_heartbeats(header: str) -> set[str]:
    names: set[str] = set()
    for row in _table(DOC.read_text(), header):
        names.update(re.findall(r"`([^`]+)`", row[0]))
    return names


def _log_line(d: DaemonProcess, prefix: str) -> str:
    text = (d.base / "lightnvr.log").read_text()
    found = re.findall(rf"{re.escape(prefix)}(.*)$", text, re.M)
    assert found, f"no {prefix!r} line in the log:\n{d.log_tail()}"
    return str(found[-1]).strip()


def _generic(name: str, stream: str) -> str:
    """`recorder:cam` -> `recorder:<stream>`."""
    return name.replace(f":{stream}", ":<stream>")


def test_shutdown_order_and_heartbeats_match_the_document(
        daemon_factory: Callable[..., DaemonProcess], rtsp_camera: TestCamera,
        mqtt_broker: Broker) -> None:
    d = daemon_factory({"mqtt": mqtt_broker.mqtt_config()})
    status, body = d.call("POST", "/api/streams", {
        "name": "cam", "url": rtsp_camera.url("live264"), "record": True,
        "streaming_enabled": True, "detection_based_recording": True,
        "detection_model": "motion"})
    assert status in (200, 201), body
    assert wait_until(lambda: d.json("/api/streams/cam")["state"] == "active", 30), \
        d.log_tail()
    assert wait_until(lambda: d.json("/api/mqtt/status").get("connected") is True, 20), \
        d.json("/api/mqtt/status")
    assert d.stop() == 0, d.log_tail()

    stopped = _log_line(d, "shutdown: stopping ")
    m = re.match(r"\d+ component\(s\): (.*)", stopped)
    assert m, stopped
    order = [c.strip() for c in m.group(1).split(",")]
    doc = _doc_shutdown_order()
    doc_names = [name for _, name in doc]
    assert [p for p, _ in doc] == sorted((p for p, _ in doc), reverse=True), \
        "the document's table must list components from the first stopped to the last"
    assert [c for c in order if c not in doc_names] == [], \
        f"components stopped by the daemon but missing from {DOC.name}: {order}"
    missing = [c for c in doc_names if c not in order and c not in NOT_STARTED_HERE]
    assert missing == [], f"{DOC.name} lists components the daemon did not register: {missing}"
    assert order == [c for c in doc_names if c in order], \
        f"the daemon stops in another order than {DOC.name} says: {order}"

    beats = [b.strip() for b in _log_line(d, "watchdog heartbeats: ").split(",")]
    for critical, header in ((True, "heartbeat"), (False, "heartbeat (not critical)")):
        running = {_generic(b.replace(" (not critical)", ""), "cam") for b in beats
                   if b.endswith("(not critical)") != critical}
        documented = _doc_heartbeats(header)
        assert running - documented == set(), \
            f"heartbeats (critical: {critical}) the daemon has but {DOC.name}'s table " \
            f"{header!r} does not list: {running - documented}"
        assert documented - running - set(NOT_STARTED_HERE) == set(), \
            f"{DOC.name} lists heartbeats (critical: {critical}) that did not exist: " \
            f"{documented - running}"
