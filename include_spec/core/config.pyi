# Configuration (lightnvr/core/config.py): INI with LightNVR's sections/keys, typed and validated.
# Field names are the INI keys. Keys marked (ours) are additions of this project, documented
# in conf/lightnvr.conf. Keys marked (idle) are LightNVR's, accepted with its value format but
# not acted on; a file setting one gets one warning "accepted, not implemented: [s] k, ...".
# docs/compatibility.md (tools/compat_keys.py) lists every LightNVR key with its status.
import ipaddress
from collections.abc import Mapping

class ConfigError(Exception):
    file: str
    section: str
    key: str
    value: str
    allowed: str
    def __init__(self, file: str, section: str, key: str, value: str, allowed: str) -> None: ...

class GeneralConfig:
    pid_file: str
    log_file: str
    log_level: int            # 0 error, 1 warning, 2 info, 3 debug
    syslog_enabled: bool
    syslog_ident: str
    syslog_facility: str
    log_format: str           # (ours) "text" | "json"
    log_max_bytes: int        # (ours) rotation size of log_file
    log_backup_count: int     # (ours)
    demo_mode: bool           # (ours) add the built-in demo camera stream

class StorageConfig:
    path: str
    path_hls: str
    max_size: int
    retention_days: int
    auto_delete_oldest: bool
    min_free_pct: int
    pressure_warning_pct: float   # percent free, as LightNVR (e.g. 20.0)
    pressure_critical_pct: float
    pressure_emergency_pct: float
    record_mp4_directly: bool     # (idle)
    mp4_path: str                 # (idle)
    generate_thumbnails: bool     # (idle)
    thumbnails_per_recording: int
    mp4_directory_format: str     # "year_month_day" | "year_month" | "flat"
    mp4_segment_duration: int     # segment length of streams added without one
    mp4_retention_days: int       # (idle)
    fsync_interval_seconds: float  # (ours) periodic fdatasync of open segments
    retention_interval_minutes: int  # (ours)
    heartbeat_interval_seconds: int  # (ours) statvfs check period

class ModelsConfig:
    path: str                 # (idle)

class DatabaseConfig:
    path: str
    backup_interval_minutes: int
    backup_retention_count: int
    post_backup_script: str   # (idle)
    backup_path: str          # (ours) default: <dir of path>/backups

class WebConfig:
    port: int
    bind_ip: str
    root: str
    auth_enabled: bool
    username: str
    password: str
    webrtc_disabled: bool     # (idle)
    hls_disabled: bool        # (idle)
    mse_disabled: bool        # (idle)
    auth_timeout_hours: int
    auth_absolute_timeout_hours: int
    trusted_device_days: int  # (idle)
    login_rate_limit_enabled: bool
    login_rate_limit_max_attempts: int
    login_rate_limit_window_seconds: int
    web_thread_pool_size: int
    max_request_bytes: int    # (ours)
    trusted_proxy_cidrs: str  # comma-separated; X-Forwarded-For honoured only from these peers
    force_mfa_on_login: bool  # (idle)

class StreamsConfig:
    max_streams: int
    startup_stagger_seconds: float     # (ours)
    reconnect_backoff_max_seconds: float  # (ours) default 3
    stall_timeout_seconds: float       # (ours) default 10

class MemoryConfig:
    buffer_size: int          # KB per stream (queue budget)
    use_swap: bool            # default false (LightNVR: true, never acted on); core/swap.py
    swap_file: str
    swap_size: int            # bytes
    pool_size_mb: int         # (ours) preallocated packet pool
    rss_pressure_mb: int      # (ours) 0 = off
    rss_critical_mb: int      # (ours) 0 = off
    available_pressure_mb: int   # (ours)
    available_critical_mb: int   # (ours)

class ApiDetectionConfig:     # (idle) all: detections arrive through the API
    url: str
    backend: str
    detection_threshold: int  # percent 0..100, as LightNVR
    pre_detection_buffer: int
    post_detection_buffer: int
    buffer_strategy: str

class DetectionEngineConfig:  # (idle) all
    enabled: bool
    threads: int
    delegate: str             # "xnnpack" | "gpu" | "none"

class DetectionConfig:
    grace_period: int
    event_snapshots: bool  # ours: a JPEG per detection event (core/event_snapshots.py)

class HardwareConfig:         # (idle) all
    hw_accel_enabled: bool
    hw_accel_device: str

class Go2rtcConfig:           # the managed go2rtc (video/go2rtc/, docs/go2rtc.md); off by default
    enabled: bool
    binary_path: str
    config_dir: str
    api_port: int
    rtsp_port: int
    webrtc_listen_port: int   # also read as webrtc_port
    webrtc_enabled: bool
    stun_enabled: bool
    stun_server: str
    external_ip: str
    ice_servers: str
    webrtc_connection_timeout_ms: int
    webrtc_ice_recovery_timeout_ms: int
    force_native_hls: bool
    proxy_max_inflight: int
    turn_enabled: bool
    turn_server_url: str
    turn_username: str
    turn_password: str

class MqttConfig:
    enabled: bool
    broker_host: str
    broker_port: int
    username: str
    password: str
    client_id: str
    topic_prefix: str
    tls_enabled: bool
    keepalive: int
    qos: int
    retain: bool
    ha_discovery: bool
    ha_discovery_prefix: str
    ha_snapshot_interval: int
    tls_ca_file: str          # (ours)

class OnvifConfig:            # (idle) all
    discovery_enabled: bool
    discovery_interval: int
    discovery_network: str

class Config:
    general: GeneralConfig
    storage: StorageConfig
    models: ModelsConfig
    database: DatabaseConfig
    web: WebConfig
    streams: StreamsConfig
    memory: MemoryConfig
    api_detection: ApiDetectionConfig
    detection_engine: DetectionEngineConfig
    detection: DetectionConfig
    hardware: HardwareConfig
    go2rtc: Go2rtcConfig
    mqtt: MqttConfig
    onvif: OnvifConfig
    source_path: str | None   # the file it was read from (None: defaults only)
    warnings: list[str]       # unknown keys, "accepted, not implemented: ...", logged at start-up
    not_implemented: tuple[str, ...]   # "[section] key" set in the file/env that we do not act on

class KeyStatus:
    section: str
    key: str
    status: str               # "same" | "different" | "accepted, not implemented" | "ours"
    note: str                 # why different / why not implemented

SWAP_MIN_BYTES: int
ALIASES: dict[tuple[str, str], tuple[str, str]]   # LightNVR's other key names -> our field

SEARCH_PATHS: tuple[str, ...]
ENV_PREFIX: str   # "LIGHTNVR_"; variables are LIGHTNVR_<SECTION>_<KEY>, e.g. LIGHTNVR_WEB_PORT
# LightNVR's own variable names -> (section, key); those that are not LIGHTNVR_<SECTION>_<KEY>
# fill only keys the file does not set, as in LightNVR
LIGHTNVR_ENV: dict[str, tuple[str, str]]
LIGHTNVR_ENV_OVERRIDES: frozenset[str]   # LightNVR names that override the file as ours do

def our_env_name(section: str, key: str) -> str: ...

def parse_cidr_list(text: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]: ...
def find_config_file(explicit: str | None = None) -> str | None: ...
def load_config(path: str | None = None, environ: Mapping[str, str] | None = None) -> Config: ...
def parse_config_text(text: str, source: str = "<string>",
                      environ: Mapping[str, str] | None = None) -> Config: ...
def config_to_ini(config: Config) -> str: ...               # effective configuration as INI
def set_values(config: Config, changes: Mapping[str, Mapping[str, str]]) -> Config: ...  # validated copy
def write_config_atomic(config: Config, path: str) -> None: ...   # temp file + fsync + rename
def compatibility_rows() -> list[KeyStatus]: ...   # every LightNVR key we read, with its status
def ours_rows() -> list[KeyStatus]: ...            # our keys LightNVR does not have
