"""This process's memory cgroup (v1 or v2): its limit and what it may still use.

A device (or a container, or a systemd slice with MemoryMax=) can limit the daemon far below
the host's free memory; the governor must judge pressure against that limit, not the host's.

The governor reads this every second, and `memory.stat` is the costly file (the kernel sums
it over the hierarchy; it was most of an idle daemon's governor CPU): the reclaimable page
cache it gives changes slowly, so it is re-read every `STAT_MAX_AGE` seconds, and which
group the process is in (/proc/self/cgroup) every `GROUP_MAX_AGE` seconds. Limit and usage
are read every time while the group has a limit; a group found without one is not read again
for `GROUP_MAX_AGE` seconds (a daemon with no limit - the usual case - then reads no cgroup
file at all per tick; a limit set at run time counts within a minute).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
_UNLIMITED = 1 << 60  # v1 reports "no limit" as a huge page-rounded number
STAT_MAX_AGE = 10.0
GROUP_MAX_AGE = 60.0
# path -> (monotonic time read, value): the slow-changing readings (module doc).
_stat_cache: dict[Path, tuple[float, int]] = {}
_groups_cache: dict[tuple[Path, Path], tuple[float, list[tuple[str, Path]]]] = {}
_unlimited_until: dict[Path, float] = {}  # group directory -> monotonic time to look again


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


def _cached_stat(path: Path, *keys: str) -> int:
    now = time.monotonic()
    hit = _stat_cache.get(path)
    if hit is not None and now - hit[0] < STAT_MAX_AGE:
        return hit[1]
    value = _stat(path, *keys)
    _stat_cache[path] = (now, value)
    return value


def _cached_group_dirs(proc_cgroup: Path, root: Path) -> list[tuple[str, Path]]:
    now = time.monotonic()
    hit = _groups_cache.get((proc_cgroup, root))
    if hit is not None and now - hit[0] < GROUP_MAX_AGE:
        return hit[1]
    dirs = _group_dirs(proc_cgroup, root)
    _groups_cache[(proc_cgroup, root)] = (now, dirs)
    return dirs


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
    now = time.monotonic()
    for version, d in _cached_group_dirs(proc_cgroup, root):
        if _unlimited_until.get(d, 0.0) > now:
            continue
        if version == "v1":
            limit = _read_int(d / "memory.limit_in_bytes")
            usage_file = "memory.usage_in_bytes"
            keys: tuple[str, ...] = ("total_inactive_file", "inactive_file")
        else:
            limit = _read_int(d / "memory.max")
            usage_file, keys = "memory.current", ("inactive_file",)
        if limit is None or limit >= _UNLIMITED:
            _unlimited_until[d] = now + GROUP_MAX_AGE
            continue
        usage = _read_int(d / usage_file)
        if usage is not None:
            return CgroupMemory(limit, usage, _cached_stat(d / "memory.stat", *keys))
    return None
