"""System, settings, health and metrics APIs on the live server."""

from __future__ import annotations

import configparser
import dataclasses
import logging
import os
import shutil
from pathlib import Path

import psutil
import pytest

from lightnvr.core.config import load_config
from lightnvr.storage.manager import StorageManager
from tests.fixtures.wait import wait_until


def test_health_is_public_and_cheap(web):
    r = web.client().get("/api/health")
    assert r.status == 200 and r.json["status"] == "healthy" and r.json["healthy"] is True


def test_system_info_shape(web):
    for path in ("/api/system", "/api/system/info"):
        info = web.api.get(path).json
        assert info["version"]
        items = info["versions"]["items"]
        assert {"name": "LightNVR", "version": info["version"],
                "category": "Application"} in items
        assert all({"name", "category"} <= set(i) for i in items)
        assert info["memory"]["total"] > 0 and "disk" in info and "uptime" in info


def _storage_lines(web, **lines: int) -> None:
    """Swap in a storage manager over the same real disk with other pressure lines."""
    cfg = dataclasses.replace(web.ctx.config.storage, min_free_pct=0, **lines)
    web.ctx.storage = StorageManager(cfg, web.testdb.db)


def test_system_status(web):
    _storage_lines(web, pressure_warning_pct=0, pressure_critical_pct=0,
                   pressure_emergency_pct=0)
    st = web.api.get("/api/system/status").json
    assert st["status"] == "ok" and st["streams"] == []
    assert st["memory_pressure"] == "normal" and st["storage"]["level"] == "normal"


def test_system_status_degraded_when_the_disk_is_critical(web):
    st = os.statvfs(web.ctx.config.storage.path)
    free_pct = 100.0 * st.f_bavail / st.f_blocks
    if not 4 <= free_pct <= 96:
        pytest.skip(f"the test disk is {free_pct:.0f} % free: no room for a critical band")
    # the real disk's free space lies 3+ points under the critical line, over the emergency one
    line = min(100, int(free_pct) + 4)
    _storage_lines(web, pressure_warning_pct=line, pressure_critical_pct=line,
                   pressure_emergency_pct=int(free_pct) - 3)
    body = web.api.get("/api/system/status").json
    assert body["status"] == "degraded" and body["storage"]["level"] == "critical"


def test_logs_from_ring_with_level_and_count(web):
    web.ctx.log_ring.clear()
    lg = logging.getLogger("lightnvr.test.logs")
    old = logging.getLogger().level
    logging.getLogger().setLevel(logging.DEBUG)
    try:
        for i in range(5):
            lg.info("info line %d", i)
        lg.error("an error line")
    finally:
        logging.getLogger().setLevel(old)
    logs = web.api.get("/api/system/logs?level=error&count=10").json["logs"]
    assert [entry["message"] for entry in logs] == ["an error line"]
    assert logs[0]["level"] == "error" and logs[0]["timestamp"].endswith("+00:00")
    two = web.api.get("/api/system/logs?level=info&count=2").json["logs"]
    assert len(two) == 2 and two[-1]["message"] == "an error line"
    assert web.api.get("/api/system/logs?level=loud").status == 400
    assert web.api.get("/api/system/logs?count=0").status == 400
    assert web.api.post("/api/system/logs/clear").status == 200
    assert all(r.message != "an error line" for r in web.ctx.log_ring.recent("debug", 100))


def test_restart_and_shutdown_answer_first(web):
    r = web.api.post("/api/system/restart")
    assert r.status == 200 and r.json["success"]
    # acted on after the answer was written
    assert wait_until(lambda: web.restarts == [1.0], 5, step=0.01)
    r = web.api.post("/api/system/shutdown")
    assert r.status == 200 and wait_until(lambda: web.shutdowns == [1.0], 5, step=0.01)


def test_backup_creates_a_file(web):
    r = web.api.post("/api/system/backup")
    assert r.status == 200, r.text
    assert os.path.isfile(r.json["path"]) and r.json["size"] > 0


def test_settings_get_flat_names_and_masks_secrets(web):
    s = web.api.get("/api/settings").json
    assert s["storage_path"] == web.ctx.config.storage.path
    assert s["web_port"] == web.ctx.config.web.port and s["retention_days"] == 30
    assert isinstance(s["web_auth_enabled"], bool)
    assert s["mqtt_password"] == ""


def test_settings_post_validates_writes_atomically_and_applies_live(web):
    path = web.ctx.config_path
    assert path is not None
    r = web.api.post("/api/settings", json={"log_level": 3, "retention_days": 7,
                                            "web_port": 9090, "mqtt_password": "s3cret",
                                            "unknown_key": 1})
    assert r.status == 200, r.text
    body = r.json
    assert set(body["changed"]) == {"log_level", "retention_days", "web_port", "mqtt_password"}
    assert "log_level" in body["applied_live"] and "retention_days" in body["applied_live"]
    assert web.ctx.storage.config.retention_days == 7  # the next retention pass uses it
    assert "web_port" in body["restart_required_for"] and body["restart_required"] is True
    assert body["ignored"] == ["unknown_key"] and body["persisted"] is True
    assert logging.getLogger().level == logging.DEBUG
    cfg = load_config(path, environ={})
    assert cfg.storage.retention_days == 7 and cfg.web.port == 9090
    assert cfg.mqtt.password == "s3cret" and cfg.general.log_level == 3
    assert web.api.get("/api/settings").json["mqtt_password"] == "********"
    # the masked value sent back unchanged keeps the secret
    web.api.post("/api/settings", json={"mqtt_password": "********"})
    assert load_config(path, environ={}).mqtt.password == "s3cret"
    assert not [f for f in os.listdir(os.path.dirname(path)) if f.startswith(".lightnvr-conf")]
    parser = configparser.ConfigParser()
    parser.read(path)
    assert parser["storage"]["retention_days"] == "7"
    logging.getLogger().setLevel(logging.WARNING)


def test_settings_post_rejects_bad_values_naming_the_field(web):
    conf = Path(web.ctx.config_path)
    before = conf.read_text()
    for body, field in (({"web_port": 70000}, "web_port"), ({"web_port": "80"}, "web_port"),
                        ({"log_level": 9}, "log_level"), ({"web_auth_enabled": "yes"},
                                                          "web_auth_enabled"),
                        ({"retention_days": 1.5}, "retention_days"),
                        ({"storage_path": "a\nb"}, "storage_path"),
                        ({"mp4_directory_format": "weekly"}, "mp4_directory_format"),
                        ({"auth_timeout_hours": 500, "auth_absolute_timeout_hours": 10},
                         "auth_absolute_timeout_hours")):
        r = web.api.post("/api/settings", json=body)
        assert r.status == 400, (body, r.text)
        assert r.json["error"].startswith(field), (body, r.json)
    assert conf.read_text() == before


def test_settings_live_auth_limits(web):
    assert web.api.post("/api/settings", json={"login_rate_limit_max_attempts": 1}).status == 200
    assert web.ctx.auth is not None and web.ctx.auth.limiter.max_attempts == 1


def test_metrics_prometheus_text(web):
    web.api.get("/api/does-not-exist")
    r = web.api.get("/api/metrics")
    assert r.status == 200 and r.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = r.text
    for family in ("lightnvr_stream_packets_total", "lightnvr_stream_dropped_total",
                   "lightnvr_stream_reconnects_total", "lightnvr_recorder_segments_total",
                   "lightnvr_storage_free_bytes", "lightnvr_memory_pressure_level",
                   "lightnvr_pool_utilization", "lightnvr_http_requests_total"):
        assert f"# TYPE {family} " in text, family
    assert 'lightnvr_http_requests_total{code="404"}' in text
    assert "lightnvr_memory_pressure_level 0" in text
    for line in text.splitlines():
        assert line.startswith("#") or len(line.rsplit(" ", 1)) == 2


def test_memory_free_is_the_memory_available_to_programs(web):
    """`memory.free` is free memory (psutil's available), not total minus our own RSS."""
    before = psutil.virtual_memory().available
    mem = web.api.get("/api/system/info").json["memory"]
    after = psutil.virtual_memory().available
    slack = 64 * 1024 * 1024  # other processes on a shared test machine
    assert min(before, after) - slack <= mem["free"] <= max(before, after) + slack, mem
    assert mem["used"] == pytest.approx(psutil.Process().memory_info().rss, rel=0.5)


def _outage_records(caplog: pytest.LogCaptureFixture, logger: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == logger and r.levelno >= logging.ERROR]


def test_health_503_is_logged_once_with_the_cause(web, caplog):
    anon = web.client()
    with caplog.at_level(logging.INFO, logger="lightnvr.web"):
        web.testdb.db.close()
        try:
            for _ in range(3):
                r = anon.get("/api/health")
                assert r.status == 503 and r.json["database"] == "unavailable"
        finally:
            web.testdb.db.open()
        assert anon.get("/api/health").status == 200
    errors = _outage_records(caplog, "lightnvr.web.api.health")
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert "503" in errors[0].getMessage() and "not open" in errors[0].getMessage()
    assert errors[0].exc_info is not None  # the traceback, for whoever reads the log
    assert any(r.name == "lightnvr.web.api.health" and "works again" in r.getMessage()
               for r in caplog.records)


def test_system_info_database_and_disk_failures_logged_once(web, caplog):
    storage = Path(web.ctx.config.storage.path)
    with caplog.at_level(logging.INFO, logger="lightnvr.web"):
        # a real SQLite failure: the recordings table is gone (sessions still work)
        with web.testdb.db.writer() as c:
            c.execute("ALTER TABLE recordings RENAME TO recordings_away")
        shutil.rmtree(storage)  # and the storage path vanished
        try:
            for _ in range(3):
                info = web.api.get("/api/system/info").json
                assert info["recordings"] == {"count": 0, "size": 0}
                assert info["disk"]["total"] == 0
        finally:
            with web.testdb.db.writer() as c:
                c.execute("ALTER TABLE recordings_away RENAME TO recordings")
            storage.mkdir()
        assert web.api.get("/api/system/info").json["disk"]["total"] > 0
    messages = [r.getMessage() for r in _outage_records(caplog, "lightnvr.web.api.system")]
    assert len(messages) == 2, messages
    assert sum("no such table: recordings" in m for m in messages) == 1, messages
    assert sum(str(storage) in m and "No such file" in m for m in messages) == 1, messages


def test_system_status_storage_failure_logged_once(web, caplog):
    gone = Path(web.ctx.config.storage.path) / "gone"
    gone.mkdir()
    cfg = dataclasses.replace(web.ctx.config.storage, path=str(gone))
    web.ctx.storage = StorageManager(cfg, web.testdb.db)
    gone.rmdir()
    with caplog.at_level(logging.INFO, logger="lightnvr.web"):
        for _ in range(3):
            assert web.api.get("/api/system/status").json["storage"] is None
    messages = [r.getMessage() for r in _outage_records(caplog, "lightnvr.web.api.system")]
    assert len(messages) == 1 and "storage" in messages[0] and "gone" in messages[0], messages
