"""A LightNVR configuration file starts the real daemon (issue #15, config part).

The file below holds every key LightNVR's parser (`src/core/config.c`, `config_ini_handler`)
reads — 101 names, aliases included — written here from that parser and from the value formats
of LightNVR's sample `config/lightnvr.ini` (inline `;` comments, `20.0` percentages, a percent
`detection_threshold = 50`, bytes for `swap_size`, empty values). Paths point into the test's
temp folder. The daemon must start, name in one warning exactly the keys we accept but do not
act on, and act on the others (a few are checked over HTTP).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from tests.fixtures.daemon import DaemonProcess

ROOT = Path(__file__).resolve().parents[2]

# Keys the daemon fixture always writes (paths under the temp folder, port, password).
FIXTURE_KEYS = {"general": {"pid_file", "log_file"}, "storage": {"path", "path_hls"},
                "database": {"path"}, "web": {"port", "bind_ip", "password"}}


def lightnvr_ini(base: Path) -> dict[str, dict[str, str]]:
    """LightNVR's keys (less FIXTURE_KEYS) in its sample file's value formats."""
    return {
        "general": {"log_level": "2  ; 0=ERROR, 1=WARN, 2=INFO, 3=DEBUG",
                    "syslog_enabled": "false  ; Enable logging to syslog",
                    "syslog_ident": "lightnvr  ; Syslog identifier",
                    "syslog_facility": "LOG_USER  ; Syslog facility (LOG_USER, LOG_DAEMON)"},
        "storage": {"max_size": "0  ; 0 means unlimited, otherwise bytes",
                    "retention_days": "30", "auto_delete_oldest": "true", "min_free_pct": "10",
                    # far above the disk's free space, so the level must read "warning"
                    "pressure_warning_pct": "99.5", "pressure_critical_pct": "1.5",
                    "pressure_emergency_pct": "0.5",
                    "record_mp4_directly": "false", "mp4_path": str(base / "mp4"),
                    "mp4_directory_format": "year_month_day", "mp4_segment_duration": "900",
                    "mp4_retention_days": "30", "generate_thumbnails": "true",
                    "thumbnails_per_recording": "3"},
        "models": {"path": str(base / "models")},
        "api_detection": {"url": "http://localhost:9001/api/v1/detect",
                          "backend": "onnx  ; Detection backend: onnx, tflite, or opencv",
                          "detection_threshold": "50", "pre_detection_buffer": "5",
                          "post_detection_buffer": "10", "buffer_strategy": "auto",
                          # in LightNVR's sample file but read by neither parser
                          "confidence_threshold": "0.35  ; Lower threshold",
                          "filter_classes": "car,motorcycle,truck,bus,bicycle"},
        "detection_engine": {"enabled": "false", "threads": "1         ; Interpreter threads",
                             "delegate": "xnnpack  ; xnnpack | gpu | none"},
        "detection": {"grace_period": "2"},
        "database": {"backup_interval_minutes": "60", "backup_retention_count": "24",
                     "post_backup_script": ""},
        "web": {"root": str(ROOT / "www"), "auth_enabled": "true", "username": "admin",
                "webrtc_disabled": "false", "hls_disabled": "false", "mse_disabled": "false",
                "auth_timeout_hours": "24  ; Session timeout in hours (default: 24)",
                "auth_absolute_timeout_hours": "168", "trusted_device_days": "30",
                "trusted_proxy_cidrs": "127.0.0.1/32,::1/128", "demo_mode": "true",
                "force_mfa_on_login": "false", "login_rate_limit_enabled": "true",
                "login_rate_limit_max_attempts": "5", "login_rate_limit_window_seconds": "300",
                "web_thread_pool_size": "8"},
        "streams": {"max_streams": "2"},
        "memory": {"buffer_size": "1024  ; Buffer size in KB", "use_swap": "false",
                   "swap_file": str(base / "swap"), "swap_size": "134217728  ; 128MB in bytes"},
        "hardware": {"hw_accel_enabled": "false", "hw_accel_device": ""},
        "go2rtc": {"enabled": "true", "binary_path": "/usr/local/bin/go2rtc",
                   "config_dir": "/tmp/go2rtc", "api_port": "1984", "rtsp_port": "8554",
                   "webrtc_port": "8555", "webrtc_listen_port": "8555", "webrtc_enabled": "true",
                   "stun_enabled": "true", "stun_server": "stun.l.google.com:19302",
                   "external_ip": "",
                   "ice_servers": "stun:stun.example.com:3478,turn:turn.example.com:3478",
                   "webrtc_connection_timeout_ms": "30000",
                   "webrtc_ice_recovery_timeout_ms": "5000", "force_native_hls": "false",
                   "proxy_max_inflight": "16", "turn_enabled": "false", "turn_server_url": "",
                   "turn_username": "", "turn_password": ""},
        "mqtt": {"enabled": "false", "broker_host": "localhost", "broker_port": "1883",
                 "username": "", "password": "", "client_id": "lightnvr",
                 "topic_prefix": "lightnvr", "tls_enabled": "false", "keepalive": "60",
                 "qos": "1", "retain": "false", "ha_discovery": "false",
                 "ha_discovery_enabled": "false", "ha_discovery_prefix": "homeassistant",
                 "ha_snapshot_interval": "30"},
        "onvif": {"discovery_enabled": "false", "discovery_interval": "300",
                  "discovery_network": "auto"},
    }


NOT_IN_PARSER = {("api_detection", "confidence_threshold"), ("api_detection", "filter_classes")}

# What this project does not act on (docs/compatibility.md says why for each).
NOT_IMPLEMENTED = {
    "storage": {"record_mp4_directly", "mp4_path", "generate_thumbnails",
                "mp4_retention_days"},
    "database": {"post_backup_script"},
    "web": {"webrtc_disabled", "hls_disabled", "mse_disabled"},
    "api_detection": {"detection_threshold", "pre_detection_buffer", "post_detection_buffer",
                      "buffer_strategy"},
    "detection_engine": {"enabled", "threads", "delegate"},
    "hardware": {"hw_accel_enabled", "hw_accel_device"},
    "go2rtc": {"webrtc_ice_recovery_timeout_ms", "force_native_hls"},
    "onvif": {"discovery_enabled", "discovery_interval", "discovery_network"},
}


def _parser_keys(base: Path) -> set[tuple[str, str]]:
    keys = {(s, k) for s, ks in lightnvr_ini(base).items() for k in ks}
    keys |= {(s, k) for s, ks in FIXTURE_KEYS.items() for k in ks}
    return keys - NOT_IN_PARSER


def _log_lines(d: DaemonProcess, needle: str) -> list[str]:
    text = (d.base / "lightnvr.log").read_text(errors="replace")
    return [line for line in text.splitlines() if needle in line]


def test_lightnvr_keys_start_the_daemon_and_idle_ones_are_named_once(
        tmp_path: Path, daemon_factory: Callable[..., DaemonProcess]) -> None:
    assert len(_parser_keys(tmp_path)) == 101   # every name LightNVR's parser reads
    d = daemon_factory(lightnvr_ini(tmp_path / "data"))

    lines = _log_lines(d, "accepted, not implemented: ")
    assert len(lines) == 1, lines
    named = lines[0].split("accepted, not implemented: ", 1)[1].strip().split(", ")
    assert len(named) == len(set(named))
    assert set(named) == {f"[{s}] {k}" for s, ks in NOT_IMPLEMENTED.items() for k in ks}
    # the parser's other keys are known; only what LightNVR's parser skips too is unknown
    unknown = _log_lines(d, "unknown key")
    assert sorted(line.split("unknown key ", 1)[1] for line in unknown) == [
        "[api_detection] confidence_threshold ignored", "[api_detection] filter_classes ignored"]

    # acted on: percentages with decimals set the storage pressure level
    health = d.json("/api/storage/health")
    assert health["pressure_level"] == "warning", health
    # acted on: LightNVR's [web] demo_mode seeds the demo camera
    assert "demo" in [s["name"] for s in d.json("/api/streams")]
    # acted on: [streams] max_streams = 2 (the demo camera is one)
    status, body = d.call("POST", "/api/streams", {"name": "cam", "url": "rtsp://127.0.0.1:9/a"})
    assert status in (200, 201), body
    status, body = d.call("POST", "/api/streams", {"name": "cam2", "url": "rtsp://127.0.0.1:9/b"})
    assert status == 409 and b"max_streams" in body, (status, body)
    # the percent threshold keeps LightNVR's format in its settings API
    settings: dict[str, Any] = orjson.loads(d.call("GET", "/api/settings")[1])
    assert settings["default_detection_threshold"] == 50
    assert settings["storage_pressure_warning_pct"] == 99.5
    assert d.stop() == 0


def test_compatibility_doc_lists_every_lightnvr_key_and_is_generated(tmp_path: Path) -> None:
    from tools import compat_keys

    doc = compat_keys.DOC.read_text(encoding="utf-8")
    assert compat_keys.updated(doc) == doc, "run: python -m tools.compat_keys"
    block = doc[doc.index(compat_keys.BEGIN):doc.index(compat_keys.END)]
    rows = {}
    for line in block.split("Keys of ours")[0].splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("| `["):
            rows[(cells[0].strip("`[]"), cells[1].strip("`"))] = cells[2]
    assert set(rows) == _parser_keys(tmp_path)
    idle = {(s, k) for s, ks in NOT_IMPLEMENTED.items() for k in ks}
    assert {key for key, status in rows.items() if status == "accepted, not implemented"} == idle
