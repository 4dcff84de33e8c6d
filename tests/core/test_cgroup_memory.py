"""The governor's available-memory reading honours the process's memory cgroup (v1 and v2)."""

from __future__ import annotations

from pathlib import Path

from lightnvr.core.memory.arena import limit_malloc_arenas
from lightnvr.core.memory.cgroup import read_cgroup_memory

MIB = 1024 * 1024


def _proc(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "proc-self-cgroup"
    p.write_text(text)
    return p


def _v1_group(tmp_path: Path, stat: str) -> Path:
    """A v1 memory group "nvr" as the kernel lays it out: 256 MiB limit, 200 MiB used."""
    group = tmp_path / "memory" / "nvr"
    group.mkdir(parents=True)
    (group / "memory.limit_in_bytes").write_text(f"{256 * MIB}\n")
    (group / "memory.usage_in_bytes").write_text(f"{200 * MIB}\n")
    (group / "memory.stat").write_text(stat)
    return group


def test_v1_limit_usage_and_reclaimable_cache(tmp_path: Path) -> None:
    _v1_group(tmp_path, f"cache 1\ntotal_inactive_file {50 * MIB}\n")
    proc = _proc(tmp_path, "5:cpu:/\n4:memory:/nvr\n0::/\n")
    got = read_cgroup_memory(proc, tmp_path)
    assert got is not None
    assert got.limit == 256 * MIB
    assert got.available == (256 - 150) * MIB  # page cache the kernel can drop is available


def test_v1_without_a_limit_is_none(tmp_path: Path) -> None:
    group = tmp_path / "memory"
    group.mkdir()
    (group / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    (group / "memory.usage_in_bytes").write_text("1000\n")
    assert read_cgroup_memory(_proc(tmp_path, "4:memory:/\n"), tmp_path) is None


def test_v2_memory_max(tmp_path: Path) -> None:
    group = tmp_path / "system.slice" / "lightnvr.service"
    group.mkdir(parents=True)
    (group / "memory.max").write_text(f"{128 * MIB}\n")
    (group / "memory.current").write_text(f"{100 * MIB}\n")
    (group / "memory.stat").write_text(f"anon 1\ninactive_file {10 * MIB}\n")
    got = read_cgroup_memory(_proc(tmp_path, "0::/system.slice/lightnvr.service\n"), tmp_path)
    assert got is not None and got.available == 38 * MIB
    (group / "memory.max").write_text("max\n")
    assert read_cgroup_memory(_proc(tmp_path, "0::/system.slice/lightnvr.service\n"),
                              tmp_path) is None


def test_arena_limit_respects_an_explicit_environment(monkeypatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas(2) is False  # the operator's choice wins
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    assert limit_malloc_arenas(2) is True  # glibc here: mallopt accepted it


def test_malloc_thresholds_are_fixed_unless_the_environment_sets_them(monkeypatch) -> None:
    """glibc's dynamic trim threshold kept a secondary arena's top resident (16 MiB of an
    idle daemon, core/memory/arena.py): the thresholds are fixed at start-up, each one unless
    the operator set it."""
    from lightnvr.core.memory import arena

    calls: list[tuple[int, int]] = []

    def mallopt(option: int, value: int) -> int:
        calls.append((option, value))
        return 1

    monkeypatch.setattr(arena, "_mallopt", lambda: mallopt)
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    assert arena.limit_malloc_arenas(2)
    assert calls == [(arena.M_TRIM_THRESHOLD, 1024 * 1024), (arena.M_MMAP_THRESHOLD, 256 * 1024),
                     (arena.M_ARENA_MAX, 2)]
    calls.clear()
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "4096")
    arena.limit_malloc_arenas(2)
    assert (arena.M_TRIM_THRESHOLD, 1024 * 1024) not in calls
    assert (arena.M_MMAP_THRESHOLD, 256 * 1024) in calls


def test_usage_is_read_every_time_page_cache_only_every_few_seconds(tmp_path: Path,
                                                                    monkeypatch) -> None:
    """The governor's once-a-second reading: limit and usage are fresh at every call;
    memory.stat (costly for the kernel, slow to change) is re-read after STAT_MAX_AGE."""
    from lightnvr.core.memory import cgroup

    group = _v1_group(tmp_path, f"total_inactive_file {50 * MIB}\n")
    proc = _proc(tmp_path, "4:memory:/nvr\n")
    first = read_cgroup_memory(proc, tmp_path)
    assert first is not None and first.available == 106 * MIB
    (group / "memory.usage_in_bytes").write_text(f"{220 * MIB}\n")
    (group / "memory.stat").write_text(f"total_inactive_file {10 * MIB}\n")
    second = read_cgroup_memory(proc, tmp_path)
    assert second is not None and second.usage == 220 * MIB   # usage: fresh
    assert second.inactive_file == 50 * MIB                    # page cache: the cached one
    monkeypatch.setattr(cgroup, "STAT_MAX_AGE", 0.0)
    third = read_cgroup_memory(proc, tmp_path)
    assert third is not None and third.available == (256 - 210) * MIB


def _unlimited_v1(tmp_path: Path) -> Path:
    group = tmp_path / "memory" / "nvr"
    group.mkdir(parents=True)
    (group / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    (group / "memory.usage_in_bytes").write_text(f"{200 * MIB}\n")
    (group / "memory.stat").write_text(f"total_inactive_file {50 * MIB}\n")
    return group


def test_a_group_without_a_limit_is_not_read_every_tick(tmp_path: Path) -> None:
    """The usual case (no limit) costs the once-a-second reading no cgroup file: a limit set
    right after is not seen at the next call, only after GROUP_MAX_AGE (next test)."""
    group = _unlimited_v1(tmp_path)
    proc = _proc(tmp_path, "4:memory:/nvr\n")
    assert read_cgroup_memory(proc, tmp_path) is None
    (group / "memory.limit_in_bytes").write_text(f"{256 * MIB}\n")
    assert read_cgroup_memory(proc, tmp_path) is None


def test_a_limit_set_at_run_time_counts_once_the_group_is_looked_at_again(
        tmp_path: Path, monkeypatch) -> None:
    from lightnvr.core.memory import cgroup

    monkeypatch.setattr(cgroup, "GROUP_MAX_AGE", 0.0)
    group = _unlimited_v1(tmp_path)
    proc = _proc(tmp_path, "4:memory:/nvr\n")
    assert read_cgroup_memory(proc, tmp_path) is None
    (group / "memory.limit_in_bytes").write_text(f"{256 * MIB}\n")
    got = read_cgroup_memory(proc, tmp_path)
    assert got is not None and got.available == (256 - 150) * MIB
