"""The parts of the MQTT path that need no broker: the outbox rule, the event hub's hand-over
and its state watcher, and which command topics are accepted."""

from __future__ import annotations

import threading
import time
from typing import Any

import orjson
import pytest

import lightnvr.database.events as events_db
from lightnvr.core.config import MqttConfig
from lightnvr.core.mqtt.client import MqttMessage, Outbox
from lightnvr.core.mqtt.service import MqttService
from lightnvr.core.mqtt.topics import Topics, label_level, topic_safe
from lightnvr.core.nvr_events import (
    DetectedObject,
    EventHub,
    EventKind,
    NvrEvent,
    StreamState,
    is_startup_announcement,
    stream_changes,
)


def _msg(i: int, size: int = 10) -> MqttMessage:
    return MqttMessage(f"t/{i}", bytes(size))


def test_outbox_drops_oldest_and_counts_by_count_and_bytes() -> None:
    box = Outbox(max_messages=3, max_bytes=1000)
    for i in range(5):
        box.put(_msg(i))
    assert box.dropped == 2
    assert [box.get().topic for _ in range(3)] == ["t/2", "t/3", "t/4"]  # type: ignore[union-attr]
    assert box.get() is None
    box = Outbox(max_messages=100, max_bytes=250)
    for i in range(4):
        box.put(_msg(i, 100))
    assert box.dropped == 2 and len(box) == 2
    # State restored after a reconnect goes first and is never the one dropped to make room.
    box.put_front([MqttMessage("state", b"")])
    assert box.get().topic == "state"  # type: ignore[union-attr]


def test_hub_emit_never_blocks_and_counts_what_a_full_queue_drops() -> None:
    hub = EventHub(capacity=10)
    started = time.monotonic()
    for i in range(1000):  # no thread consumes: a stuck sink must not hold producers
        hub.emit(NvrEvent(EventKind.DETECTION, f"s{i}", 0.0))
    assert time.monotonic() - started < 2.0
    assert hub.dropped == 990
    seen: list[str] = []
    done = threading.Event()

    def sink(e: NvrEvent) -> None:
        seen.append(e.stream)
        if e.stream == "s999":
            done.set()

    hub.add_sink(sink)
    hub.start()
    try:
        assert done.wait(10)
    finally:
        hub.stop(5)
    assert seen == [f"s{i}" for i in range(990, 1000)]  # the newest, in order


def test_hub_delivers_despite_a_failing_sink() -> None:
    hub = EventHub()
    got = threading.Event()

    def broken(e: NvrEvent) -> None:
        raise RuntimeError("sink down")

    hub.add_sink(broken)
    hub.add_sink(lambda e: got.set())
    hub.start()
    try:
        hub.emit(NvrEvent(EventKind.DETECTION, "a", 0.0))
        assert got.wait(5)
    finally:
        hub.stop(5)


def test_stream_changes_become_events() -> None:
    before = {"a": StreamState("a", True, False), "b": StreamState("b", True, True)}
    after = {"a": StreamState("a", False, True, "camera refused"),
             "c": StreamState("c", True, False)}
    kinds = [(e.kind, e.stream) for e in stream_changes(before, after, 1.0)]
    assert kinds == [(EventKind.RECORDING_STOPPED, "b"), (EventKind.STREAM_REMOVED, "b"),
                     (EventKind.STREAM_OFFLINE, "a"), (EventKind.RECORDING_STARTED, "a"),
                     (EventKind.STREAM_ADDED, "c"), (EventKind.STREAM_ONLINE, "c")]
    offline = next(e for e in stream_changes(before, after, 1.0)
                   if e.kind is EventKind.STREAM_OFFLINE)
    assert offline.detail == "camera refused"


def test_only_well_formed_command_topics_name_a_stream() -> None:
    t = Topics("site/nvr1")
    assert t.stream_of_command("site/nvr1/cameras/front/recording/set") == "front"
    for bad in ("site/nvr1/cameras/front/recording", "site/nvr1/cameras/front/x/set",
                "site/nvr1/cameras/a/b/recording/set", "other/nvr1/cameras/front/recording/set",
                "site/nvr1/streams/front/recording/set"):
        assert t.stream_of_command(bad) is None, bad
    assert topic_safe("a+b/#c d") == "a_b__c_d"
    assert label_level("motion") == "label_motion" and label_level("Person") == "person"


def test_watcher_announces_known_streams_once_and_real_additions_as_history() -> None:
    states = [StreamState("old", False, False)]
    seen: list[NvrEvent] = []
    added = threading.Event()
    hub = EventHub()
    hub.watch_streams(lambda: list(states))

    def sink(e: NvrEvent) -> None:
        seen.append(e)
        if e.stream == "new":
            added.set()

    hub.add_sink(sink)
    hub.start()
    try:
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            time.sleep(0.05)
        states.append(StreamState("new", True, False))
        assert added.wait(5)
    finally:
        hub.stop(5)
    first = [e for e in seen if e.stream == "old"]
    assert [e.kind for e in first] == [EventKind.STREAM_ADDED]
    assert is_startup_announcement(first[0])
    new = [e for e in seen if e.stream == "new"]
    assert [e.kind for e in new] == [EventKind.STREAM_ADDED, EventKind.STREAM_ONLINE]
    assert not any(is_startup_announcement(e) for e in new)


def _queued(service: MqttService) -> list[MqttMessage]:
    out = []
    while (m := service.client.outbox.get()) is not None:
        out.append(m)
    return out


def test_state_events_become_retained_state_topics() -> None:
    """Storage pressure and stream status are state: retained, on their documented topics;
    recordings are events: not retained. (The service is not started: no broker needed.)"""
    cfg = MqttConfig(enabled=True, broker_host="127.0.0.1", topic_prefix="site/n1")
    service = MqttService(cfg, EventHub(), snapshot=lambda s: None,
                          set_manual_recording=lambda s, on: True,
                          manual_recording=lambda s: False)
    service.handle(NvrEvent(EventKind.STORAGE_PRESSURE, "", 100.0, detail="critical"))
    service.handle(NvrEvent(EventKind.STREAM_OFFLINE, "cam 1", 101.0, detail="timeout"))
    service.handle(NvrEvent(EventKind.RECORDING_STARTED, "cam 1", 102.0))
    msgs = {m.topic: m for m in _queued(service)}
    storage = msgs["site/n1/storage/pressure"]
    assert storage.retain and orjson.loads(storage.payload)["level"] == "critical"
    status = msgs["site/n1/streams/cam_1/status"]
    assert status.retain and orjson.loads(status.payload) == {
        "stream": "cam 1", "state": "offline", "timestamp": 101, "error": "timeout"}
    rec = msgs["site/n1/recordings/cam_1"]
    assert not rec.retain and orjson.loads(rec.payload)["event"] == "started"
    # A reconnect restores the state first: the level and the stream's status again.
    restored = {m.topic for m in service.connect_state()}
    assert {"site/n1/storage/pressure", "site/n1/streams/cam_1/status"} <= restored


def test_event_history_is_bounded_and_leaves_other_rows_alone(
        testdb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events_db, "NVR_EVENTS_KEPT_PER_TYPE", 5)
    monkeypatch.setattr(events_db, "NVR_TRIM_EVERY", 10)
    repo = events_db.EventsRepo(testdb.db)
    other = repo.add(99, 1.0, "a row another part of the daemon owns")
    for i in range(30):
        repo.record(NvrEvent(EventKind.DETECTION, "front", 100.0 + i,
                             (DetectedObject("person", 0.5),)))
    kept = repo.list(stream="front", type=int(events_db.EventType.DETECTION), limit=100)
    assert [e.timestamp for e in kept] == [129.0, 128.0, 127.0, 126.0, 125.0]
    assert "person 50%" in kept[0].description
    assert [e.id for e in repo.list(type=99)] == [other]
