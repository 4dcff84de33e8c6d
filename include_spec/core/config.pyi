# Configuration (lightnvr/core/config.py): INI with LightNVR's sections/keys, typed and validated.
# Field names are the INI keys. Keys marked (ours) are additions of this project, documented
# in conf/lightnvr.conf.
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
    pressure_warning_pct: int
    pressure_critical_pct: int
    pressure_emergency_pct: int
    generate_thumbnails: bool
    thumbnails_per_recording: int
    mp4_directory_format: str     # "year_month_day" | "year_month" | "flat"
    mp4_segment_duration: int
    fsync_interval_seconds: float  # (ours) periodic fdatasync of open segments
    retention_interval_minutes: int  # (ours)
    heartbeat_interval_seconds: int  # (ours) statvfs check period

class DatabaseConfig:
    path: str
    backup_interval_minutes: int
    backup_retention_count: int
    backup_path: str          # (ours) default: <dir of path>/backups

class WebConfig:
    port: int
    bind_ip: str
    root: str
    auth_enabled: bool
    username: str
    password: str
    auth_timeout_hours: int
    auth_absolute_timeout_hours: int
    login_rate_limit_enabled: bool
    login_rate_limit_max_attempts: int
    login_rate_limit_window_seconds: int
    web_thread_pool_size: int
    max_request_bytes: int    # (ours)
    trusted_proxy_cidrs: str  # comma-separated; X-Forwarded-For honoured only from these peers

class StreamsConfig:
    max_streams: int
    startup_stagger_seconds: float     # (ours)
    reconnect_backoff_max_seconds: float  # (ours) default 3
    stall_timeout_seconds: float       # (ours) default 10

class MemoryConfig:
    buffer_size: int          # KB per stream (queue budget)
    pool_size_mb: int         # (ours) preallocated packet pool
    rss_pressure_mb: int      # (ours) 0 = off
    rss_critical_mb: int      # (ours) 0 = off
    available_pressure_mb: int   # (ours)
    available_critical_mb: int   # (ours)

class ApiDetectionConfig:
    url: str
    detection_threshold: float
    pre_detection_buffer: int
    post_detection_buffer: int

class DetectionConfig:
    grace_period: int

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

class OnvifConfig:
    discovery_enabled: bool
    discovery_interval: int
    discovery_network: str

class Config:
    general: GeneralConfig
    storage: StorageConfig
    database: DatabaseConfig
    web: WebConfig
    streams: StreamsConfig
    memory: MemoryConfig
    api_detection: ApiDetectionConfig
    detection: DetectionConfig
    mqtt: MqttConfig
    onvif: OnvifConfig
    source_path: str | None   # the file it was read from (None: defaults only)
    warnings: list[str]       # unknown keys etc., logged at start-up

SEARCH_PATHS: tuple[str, ...]
ENV_PREFIX: str   # "LIGHTNVR_"; variables are LIGHTNVR_<SECTION>_<KEY>, e.g. LIGHTNVR_WEB_PORT

def parse_cidr_list(text: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]: ...
def find_config_file(explicit: str | None = None) -> str | None: ...
def load_config(path: str | None = None, environ: Mapping[str, str] | None = None) -> Config: ...
def parse_config_text(text: str, source: str = "<string>",
                      environ: Mapping[str, str] | None = None) -> Config: ...
def config_to_ini(config: Config) -> str: ...               # effective configuration as INI
def set_values(config: Config, changes: Mapping[str, Mapping[str, str]]) -> Config: ...  # validated copy
def write_config_atomic(config: Config, path: str) -> None: ...   # temp file + fsync + rename
