"""Streams, recordings, settings and events repositories on a real SQLite file."""

from __future__ import annotations

import sqlite3

import pytest

from lightnvr.core.recordings_store import SegmentOpened, TriggerType
from lightnvr.core.stream_config import StreamConfig
from lightnvr.database.events import EventsRepo, EventType
from lightnvr.database.recordings import SORT_COLUMNS, RecordingQuery
from lightnvr.database.settings import SettingsRepo
from lightnvr.database.streams import StreamExists, StreamNotFound
from tests.fixtures.db import TestDb


def test_stream_roundtrip_every_field(testdb: TestDb) -> None:
    cfg = StreamConfig(
        name="yard cam", url="rtsp://u:p@10.0.0.2/s", enabled=False, streaming_enabled=False,
        width=1920, height=1080, fps=25, codec="h265", priority=9, record=False,
        segment_duration=300, protocol=1, record_audio=False, detection_based_recording=True,
        detection_model="yolo", detection_threshold=0.7, detection_interval=3,
        pre_detection_buffer=7, post_detection_buffer=12, detection_api_url="http://d",
        retention_days=7, detection_retention_days=30, max_storage_mb=512,
        record_on_schedule=True, recording_schedule="01" * 84, sub_stream_url="rtsp://sub",
        tags="a,b")
    testdb.streams.create(cfg)
    assert testdb.streams.get("yard cam") == cfg
    with pytest.raises(StreamExists):
        testdb.streams.create(cfg)
    testdb.streams.update(cfg.replace(fps=30))
    assert testdb.streams.get("yard cam") == cfg.replace(fps=30)
    assert [s.name for s in testdb.streams.list()] == ["front", "yard cam"]
    assert [s.name for s in testdb.streams.list(include_disabled=False)] == ["front"]
    assert testdb.streams.count() == 2


def test_stream_soft_delete_revive_and_permanent_delete(testdb: TestDb) -> None:
    testdb.streams.soft_delete("front")
    assert testdb.streams.get("front") is None
    assert testdb.streams.list() == []
    assert [s.name for s in testdb.streams.list_with_deleted()] == ["front"]
    with pytest.raises(StreamNotFound):
        testdb.streams.update(testdb.stream)
    testdb.streams.create(testdb.stream.replace(url="rtsp://new"))  # revives
    got = testdb.streams.get("front")
    assert got is not None and got.url == "rtsp://new"
    testdb.streams.delete("front")
    assert testdb.streams.list_with_deleted() == []
    with pytest.raises(StreamNotFound):
        testdb.streams.delete("front")


def test_recording_store_protocol_and_upsert(testdb: TestDb) -> None:
    seg = SegmentOpened("front", "/r/front/a.mp4", 1000.0, 640, 480, 15, "h264")
    rid = testdb.recordings.segment_opened(seg)
    rec = testdb.recordings.get(rid)
    assert rec is not None and not rec.is_complete and rec.end_time is None
    assert [r.id for r in testdb.recordings.incomplete()] == [rid]
    testdb.recordings.segment_closed(rid, 1060.0, 12345)
    rec = testdb.recordings.get(rid)
    assert rec is not None and rec.is_complete and rec.size_bytes == 12345
    assert rec.duration == 60.0
    # the same path opened again (e.g. after reconciliation registered it) takes the row over
    assert testdb.recordings.segment_opened(seg) == rid
    assert testdb.recordings.incomplete()[0].id == rid
    testdb.recordings.segment_discarded(rid)
    assert testdb.recordings.get(rid) is None


def _seed(testdb: TestDb) -> list[int]:
    ids = []
    for i in range(30):
        stream = "front" if i % 2 == 0 else "back"
        trig: TriggerType = "detection" if i % 3 == 0 else "scheduled"
        ids.append(testdb.add_recording(stream=stream, start=1000.0 + i * 100, duration=50,
                                        size=100 + i, trigger=trig, write_file=False).id)
    return ids


def test_query_filters_paging_and_sort(testdb: TestDb) -> None:
    ids = _seed(testdb)
    page, total = testdb.recordings.query(RecordingQuery(limit=7))
    assert total == 30 and len(page) == 7
    assert [r.id for r in page] == list(reversed(ids))[:7]  # start_time desc by default
    seen = []
    for p in range(1, 6):
        rows, _ = testdb.recordings.query(RecordingQuery(page=p, limit=7, order="asc"))
        seen += [r.id for r in rows]
    assert seen == ids
    rows, total = testdb.recordings.query(RecordingQuery(stream="back", limit=100))
    assert total == 15 and {r.stream_name for r in rows} == {"back"}
    rows, total = testdb.recordings.query(RecordingQuery(start=1220, end=1400, limit=100,
                                                         order="asc"))
    assert [r.start_time for r in rows] == [1200, 1300, 1400]  # overlap, not containment
    _, total = testdb.recordings.query(RecordingQuery(trigger_type="detection", limit=100))
    assert total == 10
    rows, _ = testdb.recordings.query(RecordingQuery(sort="size_bytes", order="desc"))
    assert rows[0].size_bytes == 129
    for bad in (RecordingQuery(sort="id; DROP TABLE recordings"), RecordingQuery(order="up"),
                RecordingQuery(limit=0), RecordingQuery(page=0)):
        with pytest.raises(ValueError):
            testdb.recordings.query(bad)
    assert "start_time" in SORT_COLUMNS
    assert testdb.recordings.count() == 30  # the injection attempt did nothing


def test_protect_override_tags_and_detections_filters(testdb: TestDb) -> None:
    ids = _seed(testdb)
    assert testdb.recordings.set_protected(ids[:3], True) == 3
    _, total = testdb.recordings.query(RecordingQuery(protected=True))
    assert total == 3
    assert testdb.recordings.set_retention_override(ids[4], 90)
    assert not testdb.recordings.set_retention_override(999999, 1)
    with pytest.raises(ValueError):
        testdb.recordings.set_retention_override(ids[4], -3)
    testdb.recordings.set_tags(ids[5], ["car", " person ", "car", ""])
    assert testdb.recordings.tags(ids[5]) == ["car", "person"]
    assert testdb.recordings.all_tags() == ["car", "person"]
    rows, _ = testdb.recordings.query(RecordingQuery(tag="person"))
    assert [r.id for r in rows] == [ids[5]]
    with testdb.db.writer() as c:  # a detection inside recording ids[1]'s time span
        c.execute("INSERT INTO detections(stream_name, timestamp, label, confidence) "
                  "VALUES ('back', 1110, 'dog', 0.9)")
    rows, _ = testdb.recordings.query(RecordingQuery(detection_label="dog"))
    assert [r.id for r in rows] == [ids[1]]
    _, with_det = testdb.recordings.query(RecordingQuery(has_detection=True, limit=100))
    _, without = testdb.recordings.query(RecordingQuery(has_detection=False, limit=100))
    assert with_det == 11 and without == 19
    d = testdb.recordings.get(ids[4])
    assert d is not None and d.to_dict()["retention_override_days"] == 90
    testdb.recordings.remove(ids[5])  # tags cascade
    assert testdb.recordings.all_tags() == []


def test_in_range_removable_and_deleting(testdb: TestDb) -> None:
    ids = _seed(testdb)
    rows = testdb.recordings.in_range("front", 1150, 1500)
    assert [r.start_time for r in rows] == [1200, 1400]
    testdb.recordings.set_protected([ids[0]], True)
    testdb.recordings.set_retention_override(ids[2], 5)
    old = testdb.recordings.removable(stream="front", started_before=1500)
    assert [r.id for r in old] == [ids[4]]
    assert [r.id for r in testdb.recordings.removable(overridden=True)] == [ids[2]]
    assert testdb.recordings.mark_deleting(ids[4])
    assert not testdb.recordings.mark_deleting(ids[4])  # exactly one deleter
    assert [r.id for r in testdb.recordings.pending_deletions()] == [ids[4]]
    _, total = testdb.recordings.query(RecordingQuery(limit=100))
    assert total == 29  # rows being deleted are not listed


def test_settings_and_events(testdb: TestDb) -> None:
    s = SettingsRepo(testdb.db)
    assert s.get("web_port") is None and s.get("web_port", "8080") == "8080"
    s.set_many({"web_port": "8081", "storage_path": "/x"})
    s.set("web_port", "9000")
    assert s.all() == {"storage_path": "/x", "web_port": "9000"}
    assert s.delete("storage_path") and not s.delete("storage_path")
    e = EventsRepo(testdb.db)
    for i in range(5):
        e.add(EventType.STREAM_ERROR if i % 2 else EventType.STORAGE, 100.0 + i, f"ev{i}",
              stream_name="front" if i < 3 else "back")
    assert [x.description for x in e.list(limit=2)] == ["ev4", "ev3"]
    assert [x.description for x in e.list(stream="front", type=EventType.STORAGE)] == \
        ["ev2", "ev0"]
    assert e.prune(102.0) == 2
    assert len(e.list()) == 3


def test_writer_rolls_back_on_error(testdb: TestDb) -> None:
    with pytest.raises(sqlite3.IntegrityError), testdb.db.writer() as c:
        c.execute("INSERT INTO system_settings(key, value) VALUES ('a', '1')")
        c.execute("INSERT INTO streams(name, url) VALUES ('front', 'dup')")
    assert SettingsRepo(testdb.db).get("a") is None
