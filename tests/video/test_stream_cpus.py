"""`[streams] cpu_affinity` on the real daemon: with `auto` a recording camera's reader and
recorder threads run on one CPU while the rest of the daemon is not pinned; with `off` no
thread is pinned (core/cpu_affinity.py; why: docs/performance.md). Read from the kernel's own
view of each thread (/proc/<pid>/task/<tid>/status, Cpus_allowed_list)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from tests.fixtures.camera import TestCamera
from tests.fixtures.daemon import DaemonProcess
from tests.fixtures.wait import wait_until

DaemonFactory = Callable[..., DaemonProcess]

pytestmark = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2,
                                reason="needs 2 or more CPUs to tell pinned threads apart")


def _cpus(text: str) -> frozenset[int]:
    out: set[int] = set()
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return frozenset(out)


def _affinities(pid: int) -> dict[int, frozenset[int]]:
    """Every thread of `pid` -> the CPUs the kernel lets it run on."""
    out: dict[int, frozenset[int]] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            status = Path(f"/proc/{pid}/task/{tid}/status").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        line = next(ln for ln in status.splitlines() if ln.startswith("Cpus_allowed_list:"))
        out[int(tid)] = _cpus(line.split(":", 1)[1].strip())
    return out


def _recording(d: DaemonProcess, name: str) -> bool:
    status, raw = d.call("GET", f"/api/streams/{name}")
    return status == 200 and bool(orjson.loads(raw).get("recording"))


def _start_recording(daemon_factory: DaemonFactory, camera: TestCamera,
                     setting: str) -> DaemonProcess:
    d = daemon_factory({"streams": {"cpu_affinity": setting}})
    status, raw = d.call("POST", "/api/streams", {
        "name": "cam", "url": camera.url("live264"), "enabled": True, "record": True})
    assert status == 201, raw
    assert wait_until(lambda: _recording(d, "cam"), 30, 0.25), "stream never recorded"
    return d


def test_auto_keeps_reader_and_recorder_on_one_cpu(daemon_factory: DaemonFactory,
                                                    rtsp_camera: TestCamera) -> None:
    d = _start_recording(daemon_factory, rtsp_camera, "auto")
    pid = d.proc.pid
    everything = frozenset(os.sched_getaffinity(pid))
    threads = _affinities(pid)
    pinned = {tid: cpus for tid, cpus in threads.items() if cpus != everything}
    # reader:cam and recorder:cam (FFmpeg starts no thread of its own for RTSP in / MP4 out)
    assert len(pinned) >= 2, threads
    assert len(set(pinned.values())) == 1 and len(next(iter(pinned.values()))) == 1, pinned
    assert threads[pid] == everything  # the main thread is not a stream thread
    assert len(threads) - len(pinned) >= 5  # web, governor, storage, ... stay unpinned
    cpu = next(iter(next(iter(pinned.values()))))
    assert f"stream threads run on CPU {cpu} ([streams] cpu_affinity = auto)" in d.log_tail(
        100_000)


def test_off_pins_nothing(daemon_factory: DaemonFactory, rtsp_camera: TestCamera) -> None:
    d = _start_recording(daemon_factory, rtsp_camera, "off")
    everything = frozenset(os.sched_getaffinity(d.proc.pid))
    assert all(cpus == everything for cpus in _affinities(d.proc.pid).values())

