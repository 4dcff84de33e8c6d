# This process's memory cgroup, v1 or v2 (lightnvr/core/memory/cgroup.py).
from pathlib import Path

CGROUP_ROOT: Path

class CgroupMemory:
    limit: int
    usage: int
    inactive_file: int
    @property
    def available(self) -> int: ...   # limit - (usage - reclaimable page cache)

def read_cgroup_memory(proc_cgroup: Path = ..., root: Path = ...) -> CgroupMemory | None: ...
