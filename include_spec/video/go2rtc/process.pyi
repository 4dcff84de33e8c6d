# The managed go2rtc subprocess (lightnvr/video/go2rtc/process.py): one `go2rtc` thread
# starts, watches, restarts and reconfigures it; the web layer reads status() and sends
# WebRTC offers through webrtc_offer(). docs/go2rtc.md.
from collections.abc import Callable, Sequence
from enum import StrEnum

from lightnvr.core.clock import Clock
from lightnvr.core.config import Go2rtcConfig
from lightnvr.core.heartbeat import HeartbeatRegistry
from lightnvr.core.stream_config import StreamConfig
from lightnvr.video.go2rtc.api import ApiAnswer

THREAD_NAME: str
PRIORITY_GO2RTC: int            # shutdown: right after the web server
PERIOD_SECONDS: float
MAX_BACKOFF_SECONDS: float      # a dying go2rtc is started again at least this often
MISSING_RETRY_SECONDS: float
YOUNG_SECONDS: float
API_TIMEOUT_SECONDS: float     # go2rtc whose API does not answer by then is restarted
HEARTBEAT_MAX_AGE: float
CONFIG_FILE: str
LOG_FILE: str

class Go2rtcState(StrEnum):
    DISABLED = "disabled"
    STARTING = "starting"
    RUNNING = "running"
    RESTARTING = "restarting"
    ERROR = "error"
    STOPPED = "stopped"

class Go2rtcStatus:
    enabled: bool
    state: Go2rtcState
    pid: int | None
    restarts: int
    error: str                  # why it is not running, naming the [go2rtc] key to fix
    last_exit: str
    binary_path: str
    api_port: int
    rtsp_port: int
    webrtc_enabled: bool
    webrtc_port: int
    streams: tuple[str, ...]
    uptime: float
    @property
    def ready(self) -> bool: ...
    def to_dict(self) -> dict[str, object]: ...

class Go2rtcSupervisor:
    config_path: str
    log_path: str
    def __init__(self, cfg: Go2rtcConfig, streams: Callable[[], Sequence[StreamConfig]],
                 heartbeats: HeartbeatRegistry | None = None, clock: Clock | None = None,
                 period: float = ..., api_timeout: float = ...) -> None: ...
    def start(self) -> None: ...                 # no-op when [go2rtc] enabled = false
    def stop(self, timeout: float) -> None: ...
    def status(self) -> Go2rtcStatus: ...
    def webrtc_offer(self, src: str, offer: bytes, content_type: str) -> ApiAnswer: ...
