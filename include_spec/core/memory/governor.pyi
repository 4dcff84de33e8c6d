# Memory governor thread (lightnvr/core/memory/governor.py): readings -> pressure level -> queue drop levels.
from collections.abc import Callable
from enum import Enum, IntEnum
from typing import Any

from lightnvr.core.config import MemoryConfig
from lightnvr.core.heartbeat import HeartbeatRegistry
from lightnvr.core.memory.handoff import HandoffQueue
from lightnvr.core.worker_thread import WorkerThread

class PressureLevel(IntEnum):
    NORMAL = 0
    PRESSURE = 1
    CRITICAL = 2

class QueueRole(Enum):
    RECORDING = "recording"   # never throttled by level; bounded capacity drops whole GOPs
    LIVE = "live"             # PRESSURE: KEY_ONLY, CRITICAL: ALL
    DETECTION = "detection"   # PRESSURE: KEY_ONLY, CRITICAL: ALL

class MemoryReading:
    rss_bytes: int
    available_bytes: int
    pool_utilization: float

class MemoryLimits:
    rss_pressure_bytes: int        # 0 = not used
    rss_critical_bytes: int
    available_pressure_bytes: int  # system available memory below this -> PRESSURE
    available_critical_bytes: int
    pool_pressure: float           # pool utilization at/above this -> PRESSURE
    pool_critical: float
    @classmethod
    def from_config(cls, memory: MemoryConfig) -> MemoryLimits: ...   # from [memory] (MB)

def read_process_memory() -> MemoryReading: ...   # psutil: this process's RSS, system available

class MemoryGovernor(WorkerThread):
    def __init__(self, limits: MemoryLimits, read: Callable[[], MemoryReading] | None = None,
                 period: float = 1.0, heartbeats: HeartbeatRegistry | None = None,
                 trim: Callable[[], object] = ...) -> None: ...   # trim: arena.trim_malloc
    def register_queue(self, queue: HandoffQueue[Any], role: QueueRole) -> None: ...
    def unregister_queue(self, queue: HandoffQueue[Any]) -> None: ...
    def evaluate(self, reading: MemoryReading) -> PressureLevel: ...  # pure; used by the loop and tests
    def apply(self, level: PressureLevel) -> None: ...              # push drop levels to queues
    def tick(self) -> PressureLevel: ...                            # read, evaluate (with hysteresis), apply
    @property
    def level(self) -> PressureLevel: ...
    @property
    def last_reading(self) -> MemoryReading | None: ...
    def start(self) -> bool: ...          # thread "governor" (WorkerThread), heartbeat "governor"
    def stop(self, timeout: float) -> bool: ...
