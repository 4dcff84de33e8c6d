# cheroot WSGI server thread "web" (lightnvr/web/server.py), its head gate thread "web:heads"
# and, given a HeartbeatRegistry, the self-probe thread "web:probe" beating heartbeat "web".
from typing import Any

from lightnvr.core.config import WebConfig
from lightnvr.core.heartbeat import HeartbeatRegistry
from lightnvr.core.shutdown import ShutdownCoordinator
from lightnvr.web.live_socket import LiveSockets

MAX_HEADER_BYTES: int
SOCKET_TIMEOUT: float
STOP_DEADLINE: float
HEAD_DEADLINE: float     # a request head must be complete this long after it reached the gate
PROBE_PERIOD: float
PROBE_TIMEOUT: float
HEARTBEAT_NAME: str
LIVE_SOCKETS: str        # ctx.extra key of the server's LiveSockets (web/live_socket.py)
TAKE_SOCKET: str         # environ key: a callable handing the connection's socket to a handler

class SocketTakenError(Exception): ...   # the connection cannot be handed over

class WebServer:
    live: LiveSockets    # the "web:live" thread: started and stopped with the server
    def __init__(self, config: WebConfig, app: Any, port: int | None = None,
                 bind_ip: str | None = None, socket_timeout: float = ..., *,
                 heartbeats: HeartbeatRegistry | None = None,
                 probe_period: float = ..., probe_timeout: float = ...,
                 head_deadline: float = ...) -> None: ...
    @property
    def bound_port(self) -> int: ...
    @property
    def bind_ip(self) -> str: ...
    def start(self) -> None: ...                   # binds now (OSError names the address)
    def stop(self, timeout: float = ...) -> None: ...   # returns within timeout
    def register_shutdown(self, coordinator: ShutdownCoordinator,
                          deadline: float = ...) -> None: ...   # "web" at PRIORITY_WEB
