"""Streams added through the API without a segment length take `[storage] mp4_segment_duration`
(default 60 s, the form's and the demo's), so a new camera's footage shows up within a minute
instead of LightNVR's 15 (issue #18); a length given in the request wins."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from tests.fixtures.daemon import DaemonProcess

DaemonFactory = Callable[..., DaemonProcess]

OFF = {"url": "rtsp://127.0.0.1:9/none", "enabled": False}  # nothing to connect to


def _add(d: DaemonProcess, body: dict[str, Any]) -> int:
    status, raw = d.call("POST", "/api/streams", {**OFF, **body})
    assert status == 201, raw
    status, raw = d.call("GET", f"/api/streams/{body['name']}")
    assert status == 200, raw
    return int(orjson.loads(raw)["segment_duration"])


def test_api_streams_default_to_configured_segment_length(daemon_factory: DaemonFactory) -> None:
    d = daemon_factory()
    assert _add(d, {"name": "plain"}) == 60
    assert _add(d, {"name": "own", "segment_duration": 30}) == 30


def test_configured_default_is_acted_on(daemon_factory: DaemonFactory) -> None:
    d = daemon_factory({"storage": {"mp4_segment_duration": 120}})
    assert _add(d, {"name": "plain"}) == 120
