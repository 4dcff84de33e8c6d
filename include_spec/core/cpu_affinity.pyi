# Which CPUs the per-stream threads run on (lightnvr/core/cpu_affinity.py): [streams] cpu_affinity.
from collections.abc import Callable, Iterable

AUTO_STREAMS_PER_CPU: int   # auto: one more stream CPU per this many readers
ALLOWED: str                # what a config error lists as allowed

def parse_cpu_affinity(text: str) -> tuple[int, ...] | None: ...   # () auto, None off; ValueError

class StreamCpuAffinity:
    def __init__(self, setting: str = "auto", allowed: tuple[int, ...] | None = None,
                 pid: int | None = None,
                 apply: Callable[[int, Iterable[int]], None] | None = None) -> None: ...
    def cpus(self) -> frozenset[int] | None: ...   # None: stream threads are not pinned
    def members(self) -> int: ...                  # stream threads inside now
    def enter(self, reader: bool = False) -> None: ...   # on the thread itself, first thing
    def leave(self) -> None: ...                   # on the thread itself, when it ends
