# lightnvr/web/context.py: what the daemon hands to every API module's register(router, ctx);
# handlers reach subsystems only through these attributes (each through its own contract).
from collections.abc import Callable

from lightnvr.core.config import Config
from lightnvr.core.logger import LogRing
from lightnvr.core.memory.governor import MemoryGovernor
from lightnvr.core.memory.pool import BufferPool
from lightnvr.database.manager import Database
from lightnvr.database.recordings import RecordingsRepo
from lightnvr.database.streams import StreamsRepo
from lightnvr.storage.manager import StorageManager
from lightnvr.video.stream_manager import StreamManager
from lightnvr.web.auth import Auth
from lightnvr.web.counters import StatusCounters

class WebContext:
    config: Config
    config_path: str | None        # where POST /api/settings writes back (None: not persisted)
    db: Database
    streams: StreamsRepo
    recordings: RecordingsRepo
    stream_manager: StreamManager
    storage: StorageManager
    governor: MemoryGovernor | None
    pool: BufferPool | None
    log_ring: LogRing
    data_dir: str                  # initial_admin_password and other daemon state
    started_at: float              # wall clock, for uptime
    request_shutdown: Callable[[], None]
    request_restart: Callable[[], None]
    extra: dict[str, object]
    auth: Auth | None              # filled in by routes.build_router when None
    http_counters: StatusCounters
    def __init__(self, config: Config, config_path: str | None, db: Database,
                 streams: StreamsRepo, recordings: RecordingsRepo,
                 stream_manager: StreamManager, storage: StorageManager,
                 governor: MemoryGovernor | None, pool: BufferPool | None, log_ring: LogRing,
                 data_dir: str, started_at: float,
                 request_shutdown: Callable[[], None] = ...,
                 request_restart: Callable[[], None] = ...,
                 extra: dict[str, object] = ..., auth: Auth | None = None,
                 http_counters: StatusCounters = ...) -> None: ...
