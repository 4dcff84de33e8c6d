# Thread liveness (lightnvr/core/heartbeat.py): WATCHDOG=1 is sent only while all critical beats are fresh.
from lightnvr.core.clock import Clock

class Heartbeat:
    name: str
    max_age: float
    critical: bool
    def beat(self) -> None: ...
    def age(self) -> float: ...

def watchdog_max_age(wanted: float, watchdog_interval: float | None) -> float: ...  # <= 0.4 x WatchdogSec

class HeartbeatRegistry:
    def __init__(self, clock: Clock | None = None) -> None: ...
    def register(self, name: str, max_age: float, critical: bool = True) -> Heartbeat: ...
    def unregister(self, name: str, beat: Heartbeat | None = None) -> None: ...  # only if still `beat`
    def stale(self) -> list[str]: ...              # names of critical heartbeats older than max_age
    def ages(self) -> dict[str, float]: ...
    def critical(self) -> dict[str, bool]: ...     # name -> stops the watchdog pings when stale
