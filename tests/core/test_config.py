"""Configuration: defaults, types, ranges, enums, one-line errors, env overrides, lookup order."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lightnvr.core import config as cfgmod
from lightnvr.core.config import (
    ConfigError,
    config_to_ini,
    find_config_file,
    load_config,
    parse_config_text,
    set_values,
    write_config_atomic,
)

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_are_the_c_projects() -> None:
    c = parse_config_text("", environ={})
    assert c.general.pid_file == "/var/run/lightnvr.pid"
    assert c.general.log_level == 2
    assert c.general.syslog_facility == "LOG_USER"
    assert c.storage.path == "/var/lib/lightnvr/recordings"
    assert c.storage.retention_days == 30 and c.storage.mp4_segment_duration == 60
    assert c.storage.mp4_directory_format == "year_month_day"
    assert c.database.path == "/var/lib/lightnvr/lightnvr.db"
    assert c.database.backup_path == "/var/lib/lightnvr/backups"
    assert c.web.port == 8080 and c.web.auth_enabled is True
    assert c.streams.max_streams == 32
    assert c.streams.reconnect_backoff_max_seconds == 3.0
    assert c.mqtt.broker_port == 1883 and c.mqtt.qos == 1 and c.mqtt.client_id == "lightnvr"
    assert c.onvif.discovery_interval == 300
    assert c.api_detection.pre_detection_buffer == 5
    assert c.detection.grace_period == 2
    assert c.source_path is None and c.warnings == []


def test_values_are_typed() -> None:
    c = parse_config_text(
        "[general]\nlog_level = 3 ; debug\nsyslog_enabled = yes\n"
        "[streams]\nstartup_stagger_seconds = 0.25\n[web]\nport=9090\n", environ={})
    assert c.general.log_level == 3
    assert c.general.syslog_enabled is True
    assert c.streams.startup_stagger_seconds == 0.25
    assert c.web.port == 9090


@pytest.mark.parametrize(
    ("text", "section", "key", "value", "allowed_part"),
    [
        ("[web]\nport = eighty\n", "web", "port", "eighty", "an integer from 1 to 65535"),
        ("[web]\nport = 70000\n", "web", "port", "70000", "an integer from 1 to 65535"),
        ("[general]\nlog_level = 7\n", "general", "log_level", "7", "from 0 to 3"),
        ("[general]\nsyslog_enabled = maybe\n", "general", "syslog_enabled", "maybe",
         "true or false"),
        ("[storage]\nmp4_directory_format = weekly\n", "storage", "mp4_directory_format",
         "weekly", "one of year_month_day, year_month, flat"),
        ("[api_detection]\ndetection_threshold = 0.5\n", "api_detection",
         "detection_threshold", "0.5", "an integer from 0 to 100"),
        ("[storage]\npressure_warning_pct = 120.5\n", "storage", "pressure_warning_pct",
         "120.5", "a number from 0 to 100"),
        ("[go2rtc]\napi_port = x\n", "go2rtc", "api_port", "x", "an integer from 1 to 65535"),
        ("[detection_engine]\ndelegate = tpu\n", "detection_engine", "delegate", "tpu",
         "one of xnnpack, gpu, none"),
        ("[memory]\nuse_swap = true\nswap_size = 4096\n", "memory", "swap_size", "4096",
         "at least 1048576 bytes"),
        ("[streams]\ncpu_affinity = fast\n", "streams", "cpu_affinity", "fast",
         "auto, off, or CPU numbers"),
        ("[streams]\ncpu_affinity = 3-1\n", "streams", "cpu_affinity", "3-1",
         "auto, off, or CPU numbers"),
    ],
)
def test_bad_value_is_one_line_naming_everything(tmp_path: Path, text: str, section: str,
                                                 key: str, value: str,
                                                 allowed_part: str) -> None:
    path = tmp_path / "bad.conf"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(str(path), environ={})
    e = info.value
    message = str(e)
    assert "\n" not in message
    assert (e.file, e.section, e.key, e.value) == (str(path), section, key, value)
    assert allowed_part in e.allowed
    for part in (str(path), f"[{section}]", key, repr(value), allowed_part):
        assert part in message


def test_threshold_order_is_checked() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config_text("[storage]\npressure_warning_pct = 5\npressure_critical_pct = 10\n",
                          environ={})
    assert info.value.section == "storage"
    assert "pressure_warning_pct >= pressure_critical_pct" in info.value.allowed


def test_unknown_keys_and_sections_warn_only() -> None:
    c = parse_config_text("[storage]\nrecord_mp4_directli = false\n[go2rtcx]\napi_port = 1984\n"
                          "[stream.front]\nurl = rtsp://x\n[web]\nport = 8081\n", "c.ini",
                          environ={})
    assert c.web.port == 8081
    assert any("unknown key [storage] record_mp4_directli" in w for w in c.warnings)
    assert any("[go2rtcx]" in w for w in c.warnings)
    assert any("[stream.front]" in w for w in c.warnings)
    assert c.not_implemented == ()


def test_c_projects_sample_file_loads() -> None:
    # Shape of the C project's config/lightnvr.ini: inline comments, C-only sections.
    text = ("[general]\nlog_level = 2  ; 0=ERROR, 1=WARN, 2=INFO, 3=DEBUG\n"
            "syslog_facility = LOG_USER  ; Syslog facility\n"
            "[storage]\npressure_warning_pct = 20.0\npressure_critical_pct = 10.0\n"
            "[memory]\nbuffer_size = 1024  ; Buffer size in KB\nuse_swap = true\n"
            "swap_size = 134217728  ; 128MB in bytes\n"
            "[api_detection]\ndetection_threshold = 50\n"
            "[hardware]\nhw_accel_enabled = false\nhw_accel_device =\n")
    c = parse_config_text(text, "lightnvr.ini", environ={})
    assert c.memory.buffer_size == 1024 and c.memory.use_swap is True
    assert c.memory.swap_size == 128 * 1024 * 1024
    assert c.storage.pressure_warning_pct == 20.0
    assert c.api_detection.detection_threshold == 50
    assert c.not_implemented == ("[api_detection] detection_threshold",
                                 "[hardware] hw_accel_enabled", "[hardware] hw_accel_device")
    assert c.warnings == ["lightnvr.ini: accepted, not implemented: "
                          "[api_detection] detection_threshold, [hardware] hw_accel_enabled, "
                          "[hardware] hw_accel_device"]


def test_lightnvr_key_aliases() -> None:
    c = parse_config_text("[web]\ndemo_mode = true\n[go2rtc]\nwebrtc_port = 9555\n"
                          "[mqtt]\nha_discovery_enabled = true\n", "a.ini", environ={})
    assert c.general.demo_mode is True and c.mqtt.ha_discovery is True
    assert c.go2rtc.webrtc_listen_port == 9555
    assert c.not_implemented == ()   # go2rtc's keys are acted on (docs/go2rtc.md)
    # the field's own name wins over LightNVR's other name
    c = parse_config_text("[mqtt]\nha_discovery = false\nha_discovery_enabled = true\n",
                          environ={})
    assert c.mqtt.ha_discovery is False


def test_env_sets_an_idle_key_named_as_in_the_file() -> None:
    c = parse_config_text("", environ={"LIGHTNVR_HARDWARE_HW_ACCEL_DEVICE": "/dev/dri"})
    assert c.hardware.hw_accel_device == "/dev/dri"
    assert c.not_implemented == ("[hardware] hw_accel_device",)


def test_written_config_leaves_out_idle_keys_at_their_default(tmp_path: Path) -> None:
    c = parse_config_text("[go2rtc]\nforce_native_hls = false\n"
                          "webrtc_ice_recovery_timeout_ms = 9000\n", environ={})
    text = config_to_ini(c)
    assert "webrtc_ice_recovery_timeout_ms = 9000" in text and "force_native_hls" not in text
    assert "use_swap = false" in text   # acted-on keys are always written
    path = tmp_path / "w.conf"
    write_config_atomic(c, str(path))
    assert load_config(str(path), environ={}).not_implemented == (
        "[go2rtc] webrtc_ice_recovery_timeout_ms",)


def test_env_overrides_file(tmp_path: Path) -> None:
    path = tmp_path / "a.conf"
    path.write_text("[web]\nport = 8000\n[api_detection]\nurl = http://a/\n")
    env = {"LIGHTNVR_WEB_PORT": "8123", "LIGHTNVR_API_DETECTION_URL": "http://b/",
           "LIGHTNVR_GENERAL_LOG_LEVEL": "0", "LIGHTNVR_NOPE_X": "1"}
    c = load_config(str(path), environ=env)
    assert c.web.port == 8123
    assert c.api_detection.url == "http://b/"
    assert c.general.log_level == 0


def test_lightnvr_environment_names_fill_keys_the_file_leaves_unset(tmp_path: Path) -> None:
    env = {"LIGHTNVR_DB_PATH": "/srv/nvr.db", "LIGHTNVR_RETENTION_DAYS": "9",
           "LIGHTNVR_DEMO_MODE": "true", "LIGHTNVR_TURN_ENABLED": "true"}
    c = parse_config_text("[storage]\nretention_days = 3\n", "f.ini", environ=env)
    assert c.database.path == "/srv/nvr.db" and c.general.demo_mode is True
    assert c.storage.retention_days == 3   # the file's value stays, as in LightNVR
    assert c.go2rtc.turn_enabled is True
    # our own LIGHTNVR_<SECTION>_<KEY> still wins over both
    c = parse_config_text("", environ={**env, "LIGHTNVR_DATABASE_PATH": "/x.db"})
    assert c.database.path == "/x.db"
    with pytest.raises(ConfigError) as info:
        parse_config_text("", environ={"LIGHTNVR_LOG_LEVEL": "loud"})
    assert "LIGHTNVR_LOG_LEVEL" in info.value.file and info.value.key == "log_level"
    # LightNVR's ONVIF discovery prefers its variable to the file
    c = parse_config_text("[onvif]\ndiscovery_network = auto\n",
                          environ={"LIGHTNVR_ONVIF_NETWORK": "10.0.0.0/24"})
    assert c.onvif.discovery_network == "10.0.0.0/24"


def test_bad_env_value_names_the_variable() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config_text("", environ={"LIGHTNVR_MQTT_QOS": "5"})
    assert "LIGHTNVR_MQTT_QOS" in info.value.file
    assert (info.value.section, info.value.key, info.value.value) == ("mqtt", "qos", "5")


def test_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "lightnvr.ini").write_text("[web]\nport = 1004\n")
    monkeypatch.setattr(cfgmod, "SEARCH_PATHS", (
        "./lightnvr.conf", "./lightnvr.ini", str(etc / "lightnvr.conf"), str(etc / "lightnvr.ini")))
    monkeypatch.chdir(tmp_path)
    assert find_config_file() == str(etc / "lightnvr.ini")
    (etc / "lightnvr.conf").write_text("[web]\nport = 1003\n")
    assert find_config_file() == str(etc / "lightnvr.conf")
    (tmp_path / "lightnvr.ini").write_text("[web]\nport = 1002\n")
    assert find_config_file() == "./lightnvr.ini"
    (tmp_path / "lightnvr.conf").write_text("[web]\nport = 1001\n")
    assert find_config_file() == "./lightnvr.conf"
    assert load_config(environ={}).web.port == 1001
    explicit = tmp_path / "x.conf"
    explicit.write_text("[web]\nport = 1000\n")
    assert load_config(str(explicit), environ={}).web.port == 1000


def test_no_file_anywhere_gives_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cfgmod, "SEARCH_PATHS", (str(tmp_path / "none.conf"),))
    c = load_config(environ={})
    assert c.source_path is None and c.web.port == 8080


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(str(tmp_path / "missing.conf"), environ={})
    assert "missing.conf" in str(info.value)


def test_roundtrip_set_values_and_atomic_write(tmp_path: Path) -> None:
    c = parse_config_text("[web]\nport = 8001\n", environ={})
    changed = set_values(c, {"web": {"port": "8002"}, "storage": {"retention_days": "7"}})
    assert (changed.web.port, changed.storage.retention_days) == (8002, 7)
    assert c.web.port == 8001
    with pytest.raises(ConfigError):
        set_values(c, {"web": {"port": "0"}})
    with pytest.raises(ConfigError):
        set_values(c, {"web": {"no_such_key": "1"}})
    path = tmp_path / "out.conf"
    write_config_atomic(changed, str(path))
    again = load_config(str(path), environ={})
    assert again.web.port == 8002 and again.storage.retention_days == 7
    assert config_to_ini(again) == config_to_ini(changed)
    assert [p.name for p in tmp_path.iterdir()] == ["out.conf"]
    assert oct(os.stat(path).st_mode & 0o777) == "0o640"


def test_shipped_conf_is_valid_and_uses_development_paths() -> None:
    c = load_config(str(ROOT / "conf" / "lightnvr.conf"), environ={})
    assert c.warnings == []
    assert c.storage.path == "./var/recordings" and c.storage.path_hls == "./var/hls"
    assert c.database.path == "./var/lightnvr.db"
    assert c.general.log_file == "./var/lightnvr.log"
    assert c.general.pid_file == "./var/lightnvr.pid"
    assert c.web.port == 8080 and c.general.demo_mode is True
    # Every key of every section is present (documented) in the shipped file.
    text = (ROOT / "conf" / "lightnvr.conf").read_text()
    for line in config_to_ini(c).splitlines():
        if " = " in line:
            assert f"\n{line.split(' = ')[0]} =" in text, line
