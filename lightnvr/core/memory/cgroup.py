"""This process's memory cgroup (v1 or v2): its limit and what it may still use.

A device (or a container, or a systemd slice with MemoryMax=) can limit the daemon far below
the host's free memory; the governor must judge pressure against that limit, not the host's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
_UNLIMITED = 1 << 60  # v1 reports "no limit" as a huge page-rounded number


@dataclass(frozen=True, slots=True)
class CgroupMemory:
    """A memory cgroup's limit, usage and reclaimable page cache, in bytes."""

    limit: int
    usage: int
    inactive_file: int

    @property
    def available(self) -> int:
        """What the group can still take before reclaim fails: limit - (usage - cache)."""
        return max(0, self.limit - max(0, self.usage - self.inactive_file))


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if text == "max":
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _stat(path: Path, *keys: str) -> int:
    try:
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name in keys:
                return int(value)
    except (OSError, ValueError):
        pass
    return 0


def _group_dirs(proc_cgroup: Path, root: Path) -> list[tuple[str, Path]]:
    """(version, directory) of this process's memory cgroup(s), from /proc/self/cgroup."""
    out: list[tuple[str, Path]] = []
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        _, controllers, rel = [*line.split(":", 2), "", ""][:3]
        rel = rel.lstrip("/")
        if "memory" in controllers.split(","):
            out.append(("v1", root / "memory" / rel))
        elif controllers == "":
            out.append(("v2", root / rel))
    return out


def read_cgroup_memory(proc_cgroup: Path = Path("/proc/self/cgroup"),
                       root: Path = CGROUP_ROOT) -> CgroupMemory | None:
    """The memory cgroup this process is limited by, or None when it has no limit."""
    for version, d in _group_dirs(proc_cgroup, root):
        if version == "v1":
            limit = _read_int(d / "memory.limit_in_bytes")
            usage = _read_int(d / "memory.usage_in_bytes")
            cache = _stat(d / "memory.stat", "total_inactive_file", "inactive_file")
        else:
            limit = _read_int(d / "memory.max")
            usage = _read_int(d / "memory.current")
            cache = _stat(d / "memory.stat", "inactive_file")
        if limit is not None and usage is not None and limit < _UNLIMITED:
            return CgroupMemory(limit, usage, cache)
    return None
