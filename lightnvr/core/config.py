"""The daemon's INI configuration: LightNVR's sections and keys, typed, validated, env overrides.

Every key is a field of a frozen dataclass per section; its metadata says what is allowed
(a range or a set of choices). A bad value raises `ConfigError`, whose message is one line
naming the file, the section, the key, the value and what is allowed. Unknown keys and
sections only produce warnings (`Config.warnings`) so configuration files written for the
C project still load.

Every key of LightNVR's parser (`src/core/config.c`) is a field here with LightNVR's value
format. A field's metadata also says whether we act on it (`acted`), how we differ
(`note`) and whether it is our addition (`ours`); keys a file sets that we accept but do not
act on are named in one warning, "accepted, not implemented: [section] key, ...", and
`compatibility_rows()` turns the same metadata into docs/compatibility.md
(tools/compat_keys.py), so the two cannot disagree.

Relative paths in the file are kept as written and therefore resolve against the daemon's
current working directory (`make run` starts it from the checkout, so `./var/...` lands there;
`-d` deliberately keeps the working directory for the same reason).
"""

from __future__ import annotations

import configparser
import dataclasses
import io
import ipaddress
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lightnvr.core.cpu_affinity import ALLOWED as CPU_AFFINITY_ALLOWED
from lightnvr.core.cpu_affinity import parse_cpu_affinity

SEARCH_PATHS: tuple[str, ...] = (
    "./lightnvr.conf",
    "./lightnvr.ini",
    "/etc/lightnvr/lightnvr.conf",
    "/etc/lightnvr/lightnvr.ini",
)
ENV_PREFIX = "LIGHTNVR_"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
# mkswap refuses fewer than 10 pages; with 64 KiB pages (arm64, ppc64) that is 640 KiB
SWAP_MIN_BYTES = 1024 * 1024
_FACILITIES = ("LOG_USER", "LOG_DAEMON", "LOG_SYSLOG", "LOG_LOCAL0", "LOG_LOCAL1", "LOG_LOCAL2",
               "LOG_LOCAL3", "LOG_LOCAL4", "LOG_LOCAL5", "LOG_LOCAL6", "LOG_LOCAL7")


class ConfigError(Exception):
    """A configuration value is not acceptable; str() is one line naming where and why."""

    file: str
    section: str
    key: str
    value: str
    allowed: str

    def __init__(self, file: str, section: str, key: str, value: str, allowed: str) -> None:
        self.file = file
        self.section = section
        self.key = key
        self.value = value
        self.allowed = allowed
        where = f"[{section}] {key}" if key else f"[{section}]"
        super().__init__(f"{file}: {where} = {value!r}: allowed: {allowed}")


def _opt(default: Any, lo: float | None = None, hi: float | None = None,
         choices: tuple[str, ...] | None = None, *, acted: bool = True, note: str = "",
         ours: bool = False) -> Any:
    """A dataclass field with its validation rule and LightNVR status in the metadata.

    acted=False: LightNVR's key is accepted with its value format but changes nothing here
    (`note` says why); a note on an acted key says how it differs from LightNVR; ours=True:
    not a LightNVR key.
    """
    return field(default=default, metadata={"lo": lo, "hi": hi, "choices": choices,
                                            "acted": acted, "note": note, "ours": ours})


def _idle(default: Any, why: str, lo: float | None = None, hi: float | None = None,
          choices: tuple[str, ...] | None = None) -> Any:
    """A LightNVR key accepted with its value format that we do not act on (`why`)."""
    return _opt(default, lo, hi, choices, acted=False, note=why)


# Adding a key: `_opt(..., ours=True)` unless LightNVR's parser reads it; then regenerate
# docs/compatibility.md with `python -m tools.compat_keys` (a test compares the two).
_DETECT = ("no detector is called: detections arrive at POST /api/motion/trigger; each stream "
           "has its own threshold and buffers")


@dataclass(frozen=True)
class GeneralConfig:
    pid_file: str = _opt("/var/run/lightnvr.pid")
    log_file: str = _opt("/var/log/lightnvr.log")
    log_level: int = _opt(2, 0, 3)
    syslog_enabled: bool = _opt(False)
    syslog_ident: str = _opt("lightnvr")
    syslog_facility: str = _opt("LOG_USER", choices=_FACILITIES,
                                note="names only; LightNVR also takes the facility's number")
    log_format: str = _opt("text", choices=("text", "json"), ours=True)
    log_max_bytes: int = _opt(10 * 1024 * 1024, 0, 1 << 40, ours=True)
    log_backup_count: int = _opt(3, 0, 100, ours=True)
    demo_mode: bool = _opt(False, ours=True)   # LightNVR reads it as [web] demo_mode


@dataclass(frozen=True)
class StorageConfig:
    path: str = _opt("/var/lib/lightnvr/recordings")
    path_hls: str = _opt("/var/lib/lightnvr/hls",
                         note="default /var/lib/lightnvr/hls (LightNVR: empty, HLS under path)")
    max_size: int = _opt(0, 0, 1 << 60)
    retention_days: int = _opt(30, 0, 36500)
    auto_delete_oldest: bool = _opt(True)
    min_free_pct: int = _opt(10, 0, 100, note="0 to 100 (LightNVR clamps to 0 to 90)")
    pressure_warning_pct: float = _opt(20.0, 0, 100, note=(
        "thresholds out of order are refused with an error (LightNVR resets them to 5/10/20)"))
    pressure_critical_pct: float = _opt(10.0, 0, 100)
    pressure_emergency_pct: float = _opt(5.0, 0, 100)
    record_mp4_directly: bool = _idle(False, "recordings are always MP4 files written as the "
                                      "packets arrive")
    mp4_path: str = _idle("/var/lib/lightnvr/recordings/mp4",
                          "MP4 recordings live under [storage] path")
    generate_thumbnails: bool = _idle(True, "thumbnails are made on request and cached")
    thumbnails_per_recording: int = _opt(3, 0, 20,
                                         note="any count 1 to 20 (LightNVR: 1 or 3)")
    mp4_directory_format: str = _opt("year_month_day",
                                     choices=("year_month_day", "year_month", "flat"))
    # new streams that do not give their own segment_duration take this one; 60 s (LightNVR's
    # config default is 900, its API and UI give new streams 30) so footage shows up at once
    mp4_segment_duration: int = _opt(60, 5, 86400, note=(
        "the segment length of streams created without their own segment_duration; "
        "default 60 (LightNVR: 900, while its API and UI give new streams 30)"))
    mp4_retention_days: int = _idle(30, "LightNVR reads it but never uses it; "
                                    "retention_days applies", 0, 36500)
    fsync_interval_seconds: float = _opt(5.0, 0, 3600, ours=True)
    retention_interval_minutes: int = _opt(15, 1, 1440, ours=True)
    heartbeat_interval_seconds: int = _opt(30, 1, 3600, ours=True)


@dataclass(frozen=True)
class ModelsConfig:
    path: str = _opt("/var/lib/lightnvr/models", note=(
        "ONNX (.onnx, extra lightnvr[onnx]) and LiteRT (.tflite, lightnvr[litert]) models with "
        "a labels file beside them; no SOD models (docs/detection.md)"))


@dataclass(frozen=True)
class DatabaseConfig:
    path: str = _opt("/var/lib/lightnvr/lightnvr.db")
    backup_interval_minutes: int = _opt(60, 0, 525600)
    backup_retention_count: int = _opt(24, 0, 10000)
    post_backup_script: str = _idle("", "no hook after a backup yet")
    backup_path: str = _opt("", ours=True)


@dataclass(frozen=True)
class WebConfig:
    port: int = _opt(8080, 1, 65535)
    bind_ip: str = _opt("0.0.0.0")
    root: str = _opt("/var/lib/lightnvr/www")
    auth_enabled: bool = _opt(True)
    username: str = _opt("admin")
    password: str = _opt("", note="empty: a random first password is made and logged")
    webrtc_disabled: bool = _idle(False, "there is no WebRTC live view")
    hls_disabled: bool = _idle(False, "HLS is the only live view and is always on")
    mse_disabled: bool = _idle(False, "there is no MSE live view")
    auth_timeout_hours: int = _opt(24, 1, 8760)
    auth_absolute_timeout_hours: int = _opt(168, 1, 87600, note=(
        "below auth_timeout_hours is refused with an error (LightNVR clamps it)"))
    trusted_device_days: int = _opt(30, 0, 24855)
    trusted_proxy_cidrs: str = _opt("", note=(
        "also decides whether X-Forwarded-Host and X-Forwarded-Proto count (LightNVR: "
        "X-Forwarded-For only); a TLS proxy must be listed for Secure cookies"))
    force_mfa_on_login: bool = _opt(False)
    login_rate_limit_enabled: bool = _opt(True)
    login_rate_limit_max_attempts: int = _opt(5, 1, 10000)
    login_rate_limit_window_seconds: int = _opt(300, 1, 86400)
    web_thread_pool_size: int = _opt(8, 1, 256, note="default 8 (LightNVR: twice the CPUs)")
    max_request_bytes: int = _opt(10 * 1024 * 1024, 1024, 1 << 32, ours=True)


@dataclass(frozen=True)
class StreamsConfig:
    max_streams: int = _opt(32, 1, 1024)
    startup_stagger_seconds: float = _opt(1.0, 0, 60, ours=True)
    reconnect_backoff_max_seconds: float = _opt(3.0, 0.5, 300, ours=True)
    stall_timeout_seconds: float = _opt(10.0, 1, 600, ours=True)
    # auto | off | a CPU list; checked in _cross_check (core/cpu_affinity.py)
    cpu_affinity: str = _opt("auto", ours=True)


@dataclass(frozen=True)
class MemoryConfig:
    buffer_size: int = _opt(1024, 16, 1 << 20)
    use_swap: bool = _opt(False, note=(
        "acted on here (docs/deploy.md); default false: LightNVR defaults it to true but never "
        "acts on it, so a default of true would make a swap file appear on upgrade"))
    swap_file: str = _opt("/var/lib/lightnvr/swap")
    swap_size: int = _opt(128 * 1024 * 1024, 0, 1 << 44,   # bytes, as LightNVR
                          note="at least 1 MiB while use_swap (LightNVR: not 0)")
    pool_size_mb: int = _opt(32, 1, 65536, ours=True)
    rss_pressure_mb: int = _opt(0, 0, 1 << 20, ours=True)
    rss_critical_mb: int = _opt(0, 0, 1 << 20, ours=True)
    available_pressure_mb: int = _opt(64, 0, 1 << 20, ours=True)
    available_critical_mb: int = _opt(32, 0, 1 << 20, ours=True)


@dataclass(frozen=True)
class ApiDetectionConfig:
    url: str = _opt("", note="used by streams whose detection_model is api-detection")
    backend: str = _opt("onnx")
    detection_threshold: int = _idle(50, _DETECT, 0, 100)   # percent, as LightNVR
    pre_detection_buffer: int = _idle(5, _DETECT, 0, 300)
    post_detection_buffer: int = _idle(10, _DETECT, 0, 3600)
    buffer_strategy: str = _idle("auto", "one pre-detection buffer kind: whole GOPs in memory")


@dataclass(frozen=True)
class DetectionEngineConfig:
    enabled: bool = _idle(False, "no in-process detection engine")
    threads: int = _idle(1, "no in-process detection engine", 1, 16)
    delegate: str = _idle("xnnpack", "no in-process detection engine",
                          choices=("xnnpack", "gpu", "none"))


@dataclass(frozen=True)
class DetectionConfig:
    grace_period: int = _opt(2, 0, 3600, note="0 to 3600 (LightNVR clamps to 0 to 60)")
    # a JPEG per detection event under <[storage] path>/snapshots (core/event_snapshots.py)
    event_snapshots: bool = _opt(False, ours=True)


@dataclass(frozen=True)
class HardwareConfig:
    hw_accel_enabled: bool = _idle(False, "video is never decoded for recording, so there "
                                   "is nothing to accelerate")
    hw_accel_device: str = _idle("", "video is never decoded for recording")


@dataclass(frozen=True)
class Go2rtcConfig:
    # a managed go2rtc subprocess for WebRTC live view (video/go2rtc/, docs/go2rtc.md)
    enabled: bool = _opt(False, note="default false (LightNVR: true): go2rtc is optional")
    binary_path: str = _opt("/usr/local/bin/go2rtc")
    config_dir: str = _opt("/etc/lightnvr/go2rtc", note="go2rtc.yaml (mode 0600) and "
                           "go2rtc.log are written here")
    api_port: int = _opt(1984, 1, 65535, note="go2rtc's API listens on 127.0.0.1 only; "
                         "browsers reach it through our authenticated /go2rtc/api/webrtc")
    rtsp_port: int = _opt(8554, 1, 65535, note="go2rtc's RTSP re-streamer listens on "
                          "127.0.0.1 only")
    webrtc_listen_port: int = _opt(8555, 1, 65535)   # also read as webrtc_port
    webrtc_enabled: bool = _opt(True)
    stun_enabled: bool = _opt(True)
    stun_server: str = _opt("stun.l.google.com:19302")
    external_ip: str = _opt("")
    ice_servers: str = _opt("")
    webrtc_connection_timeout_ms: int = _opt(30000, 1000, 3_600_000)
    webrtc_ice_recovery_timeout_ms: int = _idle(5000, "the WebRTC player gives up once the "
                                                "connection fails; HLS/MSE stay available",
                                                0, 3_600_000)
    force_native_hls: bool = _idle(False, "HLS is always our own")
    proxy_max_inflight: int = _opt(16, 1, 128, note="concurrent WebRTC offers proxied to "
                                   "go2rtc; more are refused with 503")
    turn_enabled: bool = _opt(False)
    turn_server_url: str = _opt("")
    turn_username: str = _opt("")
    turn_password: str = _opt("")


@dataclass(frozen=True)
class MqttConfig:
    enabled: bool = _opt(False)
    broker_host: str = _opt("")
    broker_port: int = _opt(1883, 1, 65535)
    username: str = _opt("")
    password: str = _opt("")
    client_id: str = _opt("lightnvr")
    topic_prefix: str = _opt("lightnvr")
    tls_enabled: bool = _opt(False)
    keepalive: int = _opt(60, 5, 3600)
    qos: int = _opt(1, 0, 2)
    retain: bool = _opt(False)
    ha_discovery: bool = _opt(False)   # also read as ha_discovery_enabled
    ha_discovery_prefix: str = _opt("homeassistant")
    ha_snapshot_interval: int = _opt(30, 0, 300)   # seconds; 0: no periodic camera snapshots
    tls_ca_file: str = _opt("", ours=True)   # CA bundle for the broker; empty: the system's


@dataclass(frozen=True)
class OnvifConfig:
    discovery_enabled: bool = _idle(False, "no ONVIF discovery yet")
    discovery_interval: int = _idle(300, "no ONVIF discovery yet", 10, 86400)
    discovery_network: str = _idle("auto", "no ONVIF discovery yet")


_SECTIONS: dict[str, type] = {
    "general": GeneralConfig,
    "storage": StorageConfig,
    "models": ModelsConfig,
    "database": DatabaseConfig,
    "web": WebConfig,
    "streams": StreamsConfig,
    "memory": MemoryConfig,
    "api_detection": ApiDetectionConfig,
    "detection_engine": DetectionEngineConfig,
    "detection": DetectionConfig,
    "hardware": HardwareConfig,
    "go2rtc": Go2rtcConfig,
    "mqtt": MqttConfig,
    "onvif": OnvifConfig,
}
# LightNVR's other names for a key: (section, name) -> (section, field). The field's own
# name wins when a file has both.
ALIASES: dict[tuple[str, str], tuple[str, str]] = {
    ("web", "demo_mode"): ("general", "demo_mode"),
    ("go2rtc", "webrtc_port"): ("go2rtc", "webrtc_listen_port"),
    ("mqtt", "ha_discovery_enabled"): ("mqtt", "ha_discovery"),
}

# LightNVR's environment variables (`env_config_mappings` in its config.c) -> our key. Where
# the name is not our own LIGHTNVR_<SECTION>_<KEY>, it works as in LightNVR: it fills a key
# the file does not set. Our own names (some coincide) override the file.
LIGHTNVR_ENV: dict[str, tuple[str, str]] = {
    "LIGHTNVR_TURN_ENABLED": ("go2rtc", "turn_enabled"),
    "LIGHTNVR_TURN_SERVER_URL": ("go2rtc", "turn_server_url"),
    "LIGHTNVR_TURN_USERNAME": ("go2rtc", "turn_username"),
    "LIGHTNVR_TURN_PASSWORD": ("go2rtc", "turn_password"),
    "LIGHTNVR_GO2RTC_ENABLED": ("go2rtc", "enabled"),
    "LIGHTNVR_GO2RTC_WEBRTC_ENABLED": ("go2rtc", "webrtc_enabled"),
    "LIGHTNVR_GO2RTC_STUN_ENABLED": ("go2rtc", "stun_enabled"),
    "LIGHTNVR_GO2RTC_STUN_SERVER": ("go2rtc", "stun_server"),
    "LIGHTNVR_GO2RTC_EXTERNAL_IP": ("go2rtc", "external_ip"),
    "LIGHTNVR_GO2RTC_ICE_SERVERS": ("go2rtc", "ice_servers"),
    "LIGHTNVR_GO2RTC_WEBRTC_LISTEN_PORT": ("go2rtc", "webrtc_listen_port"),
    "LIGHTNVR_WEBRTC_CONNECTION_TIMEOUT_MS": ("go2rtc", "webrtc_connection_timeout_ms"),
    "LIGHTNVR_WEBRTC_ICE_RECOVERY_TIMEOUT_MS": ("go2rtc", "webrtc_ice_recovery_timeout_ms"),
    "LIGHTNVR_WEB_PORT": ("web", "port"),
    "LIGHTNVR_WEB_BIND_IP": ("web", "bind_ip"),
    "LIGHTNVR_WEB_AUTH_ENABLED": ("web", "auth_enabled"),
    "LIGHTNVR_WEB_USERNAME": ("web", "username"),
    "LIGHTNVR_WEB_TRUSTED_PROXY_CIDRS": ("web", "trusted_proxy_cidrs"),
    "LIGHTNVR_DEMO_MODE": ("general", "demo_mode"),
    "LIGHTNVR_LOG_LEVEL": ("general", "log_level"),
    "LIGHTNVR_STORAGE_PATH": ("storage", "path"),
    "LIGHTNVR_RETENTION_DAYS": ("storage", "retention_days"),
    "LIGHTNVR_DB_PATH": ("database", "path"),
    "LIGHTNVR_DB_BACKUP_INTERVAL_MINUTES": ("database", "backup_interval_minutes"),
    "LIGHTNVR_DB_BACKUP_RETENTION_COUNT": ("database", "backup_retention_count"),
    "LIGHTNVR_DB_POST_BACKUP_SCRIPT": ("database", "post_backup_script"),
    "LIGHTNVR_ONVIF_NETWORK": ("onvif", "discovery_network"),
}
# LightNVR names that override the file (its ONVIF discovery reads this one before the config)
LIGHTNVR_ENV_OVERRIDES = frozenset({"LIGHTNVR_ONVIF_NETWORK"})


def our_env_name(section: str, key: str) -> str:
    """The LIGHTNVR_<SECTION>_<KEY> variable that overrides `[section] key`."""
    return f"{ENV_PREFIX}{section.upper()}_{key.upper()}"


@dataclass(frozen=True)
class Config:
    general: GeneralConfig = field(default_factory=GeneralConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    models: ModelsConfig = field(default_factory=ModelsConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    web: WebConfig = field(default_factory=WebConfig)
    streams: StreamsConfig = field(default_factory=StreamsConfig)
    memory: MemoryConfig = field(default_factory=MemoryConfig)
    api_detection: ApiDetectionConfig = field(default_factory=ApiDetectionConfig)
    detection_engine: DetectionEngineConfig = field(default_factory=DetectionEngineConfig)
    detection: DetectionConfig = field(default_factory=DetectionConfig)
    hardware: HardwareConfig = field(default_factory=HardwareConfig)
    go2rtc: Go2rtcConfig = field(default_factory=Go2rtcConfig)
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    onvif: OnvifConfig = field(default_factory=OnvifConfig)
    source_path: str | None = None
    warnings: list[str] = field(default_factory=list)
    # "[section] key" of every key the file or environment set that we do not act on
    not_implemented: tuple[str, ...] = ()


def parse_cidr_list(text: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """The networks of a comma- or space-separated list ("10.0.0.0/8, ::1"); ValueError if bad.

    A bare address is a one-host network; host bits are ignored (192.168.1.7/24 is the /24).
    """
    return tuple(ipaddress.ip_network(part, strict=False)
                 for part in text.replace(",", " ").split())


def _allowed(f: dataclasses.Field[Any]) -> str:
    md = f.metadata
    kind = f.type if isinstance(f.type, str) else f.type.__name__
    if md["choices"]:
        return "one of " + ", ".join(md["choices"])
    if kind == "bool":
        return "true or false (also yes/no, on/off, 1/0)"
    name = {"int": "an integer", "float": "a number", "str": "text"}[kind]
    if md["lo"] is not None and md["hi"] is not None:
        return f"{name} from {md['lo']:g} to {md['hi']:g}"
    return name


def _convert(f: dataclasses.Field[Any], raw: str, where: tuple[str, str, str]) -> Any:
    """Parse one raw string into the field's type, enforcing its range or choices."""
    file, section, key = where
    text = raw.strip()
    kind = f.type if isinstance(f.type, str) else f.type.__name__
    md = f.metadata

    def bad() -> ConfigError:
        return ConfigError(file, section, key, raw, _allowed(f))

    value: Any
    if kind == "bool":
        low = text.lower()
        if low not in _TRUE | _FALSE:
            raise bad()
        return low in _TRUE
    if kind == "str":
        if md["choices"] and text not in md["choices"]:
            raise bad()
        return text
    try:
        value = int(text) if kind == "int" else float(text)
    except ValueError:
        raise bad() from None
    if value != value or (md["lo"] is not None and value < md["lo"]) or (
            md["hi"] is not None and value > md["hi"]):
        raise bad()
    return value


def _cross_check(cfg: Config, file: str) -> None:
    """Rules that involve more than one key (orderings of thresholds), and text keys with a
    syntax of their own."""
    try:
        parse_cpu_affinity(cfg.streams.cpu_affinity)
    except ValueError:
        raise ConfigError(file, "streams", "cpu_affinity", cfg.streams.cpu_affinity,
                          CPU_AFFINITY_ALLOWED) from None
    s = cfg.storage
    if not s.pressure_warning_pct >= s.pressure_critical_pct >= s.pressure_emergency_pct:
        raise ConfigError(file, "storage", "pressure_critical_pct", str(s.pressure_critical_pct),
                          "pressure_warning_pct >= pressure_critical_pct >= "
                          "pressure_emergency_pct")
    m = cfg.memory
    if m.rss_pressure_mb and m.rss_critical_mb and m.rss_critical_mb < m.rss_pressure_mb:
        raise ConfigError(file, "memory", "rss_critical_mb", str(m.rss_critical_mb),
                          f"0 (off) or at least rss_pressure_mb ({m.rss_pressure_mb})")
    if m.available_critical_mb > m.available_pressure_mb:
        raise ConfigError(file, "memory", "available_critical_mb", str(m.available_critical_mb),
                          f"at most available_pressure_mb ({m.available_pressure_mb})")
    if m.use_swap and m.swap_size < SWAP_MIN_BYTES:
        raise ConfigError(file, "memory", "swap_size", str(m.swap_size),
                          f"at least {SWAP_MIN_BYTES} bytes while use_swap = true "
                          "(a size in bytes, e.g. 134217728 for 128 MiB)")
    if cfg.web.auth_absolute_timeout_hours < cfg.web.auth_timeout_hours:
        raise ConfigError(file, "web", "auth_absolute_timeout_hours",
                          str(cfg.web.auth_absolute_timeout_hours),
                          f"at least auth_timeout_hours ({cfg.web.auth_timeout_hours})")
    try:
        parse_cidr_list(cfg.web.trusted_proxy_cidrs)
    except ValueError:
        raise ConfigError(file, "web", "trusted_proxy_cidrs", cfg.web.trusted_proxy_cidrs,
                          "IP addresses or networks separated by commas, e.g. "
                          "127.0.0.1, 10.0.0.0/8, fd00::/8 (empty: trust no proxy)") from None


def _build(values: Mapping[str, Mapping[str, tuple[str, str]]], source_path: str | None,
           warnings: list[str], base: Config | None = None) -> Config:
    """Make a validated Config from raw strings: values[section][key] = (raw, where-label)."""
    base = base or Config()
    sections: dict[str, Any] = {}
    for name, cls in _SECTIONS.items():
        current = getattr(base, name)
        changes: dict[str, Any] = {}
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for key, (raw, label) in values.get(name, {}).items():
            changes[key] = _convert(fields[key], raw, (label, name, key))
        sections[name] = dataclasses.replace(current, **changes)
    if not sections["database"].backup_path:
        db_dir = os.path.dirname(sections["database"].path) or "."
        sections["database"] = dataclasses.replace(
            sections["database"], backup_path=os.path.join(db_dir, "backups"))
    cfg = Config(**sections, source_path=source_path, warnings=warnings)
    _cross_check(cfg, source_path or "<defaults>")
    return cfg


def _parse_ini(text: str, source: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(inline_comment_prefixes=(";", "#"), strict=False,
                                          interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(text, source=source)
    except configparser.MissingSectionHeaderError as e:
        raise ConfigError(source, "", "", e.line.strip(), "a [section] header before keys") from e
    except configparser.Error as e:
        raise ConfigError(source, "", "", str(e).splitlines()[0], "INI syntax") from e
    return parser


def _env_values(environ: Mapping[str, str]) -> dict[str, dict[str, tuple[str, str]]]:
    """LIGHTNVR_<SECTION>_<KEY> variables for known keys (section/key names may hold '_')."""
    out: dict[str, dict[str, tuple[str, str]]] = {}
    for section, cls in _SECTIONS.items():
        for f in dataclasses.fields(cls):
            var = our_env_name(section, f.name)
            if var in environ:
                out.setdefault(section, {})[f.name] = (environ[var], f"environment {var}")
    return out


def parse_config_text(text: str, source: str = "<string>",
                      environ: Mapping[str, str] | None = None) -> Config:
    """Validate INI text (plus LIGHTNVR_* overrides from `environ`, default os.environ)."""
    parser = _parse_ini(text, source)
    warnings: list[str] = []
    values: dict[str, dict[str, tuple[str, str]]] = {}
    aliased: dict[tuple[str, str], tuple[str, str]] = {}
    written: dict[str, tuple[str, str]] = {}   # "[section] key" as the file names it -> field
    for section in parser.sections():
        name = section.lower()
        cls = _SECTIONS.get(name)
        if cls is None:   # LightNVR ignores [stream.X] too: streams live in the database
            warnings.append(f"{source}: unknown section [{section}] ignored")
            continue
        known = {f.name for f in dataclasses.fields(cls)}
        for key, raw in parser.items(section):
            target = (name, key.lower())
            if target in ALIASES:
                aliased[ALIASES[target]] = (raw, source)
                written[f"[{section}] {key}"] = ALIASES[target]
                continue
            if key.lower() not in known:
                warnings.append(f"{source}: unknown key [{section}] {key} ignored")
                continue
            values.setdefault(name, {})[key.lower()] = (raw, source)
            written[f"[{section}] {key}"] = target
    for (section, key), value in aliased.items():
        values.setdefault(section, {}).setdefault(key, value)
    env = os.environ if environ is None else environ
    for var, (section, key) in LIGHTNVR_ENV.items():
        if var not in env or var == our_env_name(section, key):
            continue
        if var in LIGHTNVR_ENV_OVERRIDES or key not in values.get(section, {}):
            values.setdefault(section, {})[key] = (env[var], f"environment {var}")
            written.setdefault(f"[{section}] {key}", (section, key))
    for section, keys in _env_values(env).items():
        values.setdefault(section, {}).update(keys)
        for key in keys:
            written.setdefault(f"[{section}] {key}", (section, key))
    idle = tuple(where for where, (section, key) in written.items()
                 if not _field(section, key).metadata["acted"])
    if idle:
        warnings.append(f"{source}: accepted, not implemented: {', '.join(idle)}")
    label = None if source in ("<string>", "<defaults>") else source
    return dataclasses.replace(_build(values, label, warnings), not_implemented=idle)


def _field(section: str, key: str) -> dataclasses.Field[Any]:
    return {f.name: f for f in dataclasses.fields(_SECTIONS[section])}[key]


def find_config_file(explicit: str | None = None) -> str | None:
    """The file to read: `explicit` (even if missing, so the error names it), else SEARCH_PATHS."""
    if explicit:
        return explicit
    for path in SEARCH_PATHS:
        if os.path.isfile(path):
            return path
    return None


def load_config(path: str | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Find, read and validate the configuration; defaults only when no file is found."""
    chosen = find_config_file(path)
    if chosen is None:
        return parse_config_text("", "<defaults>", environ)
    try:
        with open(chosen, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as e:
        raise ConfigError(chosen, "", "", "", f"a readable file ({e.strerror})") from e
    return parse_config_text(text, chosen, environ)


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def config_to_ini(config: Config) -> str:
    """The effective configuration as INI text: every key we act on, defaults included.

    Keys we accept but do not act on appear only when they differ from their default, so a
    file written back by the settings API does not grow a list of inert keys.
    """
    out = io.StringIO()
    for name, cls in _SECTIONS.items():
        section = getattr(config, name)
        lines = [f"{f.name} = {_format(getattr(section, f.name))}\n"
                 for f in dataclasses.fields(section)
                 if f.metadata["acted"] or getattr(section, f.name) != getattr(cls(), f.name)]
        if lines:
            out.write(f"[{name}]\n{''.join(lines)}\n")
    return out.getvalue()


@dataclass(frozen=True)
class KeyStatus:
    """One LightNVR configuration key and what it does here (docs/compatibility.md)."""

    section: str
    key: str
    status: str   # "same", "different" or "accepted, not implemented"
    note: str     # why it differs / why it is not implemented; "" when the same


def compatibility_rows() -> list[KeyStatus]:
    """Every LightNVR key we read (aliases included), in section order, with its status."""
    rows: list[KeyStatus] = []
    for name, cls in _SECTIONS.items():
        for f in dataclasses.fields(cls):
            if not f.metadata["ours"]:
                rows.append(KeyStatus(name, f.name, _status(f), f.metadata["note"]))
        for (a_sec, a_key), (t_sec, t_key) in ALIASES.items():
            if a_sec != name:
                continue
            target = _field(t_sec, t_key)
            if t_sec == a_sec:
                rows.append(KeyStatus(a_sec, a_key, _status(target), f"another name for {t_key}"))
            else:
                rows.append(KeyStatus(a_sec, a_key, "different",
                                      f"same meaning; our name is [{t_sec}] {t_key} "
                                      "and either may be used"))
    return rows


def ours_rows() -> list[KeyStatus]:
    """Keys of this project that LightNVR does not have."""
    return [KeyStatus(name, f.name, "ours", "")
            for name, cls in _SECTIONS.items() for f in dataclasses.fields(cls)
            if f.metadata["ours"]]


def _status(f: dataclasses.Field[Any]) -> str:
    if not f.metadata["acted"]:
        return "accepted, not implemented"
    return "different" if f.metadata["note"] else "same"


def set_values(config: Config, changes: Mapping[str, Mapping[str, str]]) -> Config:
    """A validated copy of `config` with raw string `changes[section][key]` applied.

    Unknown sections or keys are errors here (unlike in files): callers are our own API.
    """
    label = config.source_path or "<settings>"
    values: dict[str, dict[str, tuple[str, str]]] = {}
    for section, keys in changes.items():
        cls = _SECTIONS.get(section)
        if cls is None:
            raise ConfigError(label, section, "", "", "one of " + ", ".join(_SECTIONS))
        known = [f.name for f in dataclasses.fields(cls)]
        for key, raw in keys.items():
            if key not in known:
                raise ConfigError(label, section, key, str(raw), "a key of this section: "
                                  + ", ".join(known))
            values.setdefault(section, {})[key] = (_format(raw), label)
    return _build(values, config.source_path, list(config.warnings), base=config)


def write_config_atomic(config: Config, path: str) -> None:
    """Write `config_to_ini(config)` to `path` via a temp file, fsync and rename."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".lightnvr-conf-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("; written by lightnvr; comments of the previous file are not kept\n")
            fh.write(config_to_ini(config))
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o640)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
