"""WebContext: the subsystems the web layer may call, each through its include_spec contract.

The daemon (lightnvr/app.py) builds one WebContext and hands it to every API module's
`register(router, ctx)`. Handlers reach subsystems only through these attributes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lightnvr.web.counters import StatusCounters

if TYPE_CHECKING:  # contracts only; the web layer never constructs subsystems itself
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


@dataclass
class WebContext:
    """Everything an API handler may use. `config_path` is where settings are written back."""

    config: Config
    config_path: str | None
    db: Database
    streams: StreamsRepo
    recordings: RecordingsRepo
    stream_manager: StreamManager
    storage: StorageManager
    governor: MemoryGovernor | None
    pool: BufferPool | None
    log_ring: LogRing
    data_dir: str  # where initial_admin_password and other daemon state live
    started_at: float  # wall clock, for uptime
    request_shutdown: Callable[[], None] = lambda: None
    request_restart: Callable[[], None] = lambda: None
    extra: dict[str, object] = field(default_factory=dict)
    # Filled in by the web layer itself (routes.build_router / the WSGI app) when left None.
    auth: Auth | None = None
    http_counters: StatusCounters = field(default_factory=StatusCounters)
