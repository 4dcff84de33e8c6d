"""core/cpu_affinity.py: the setting's syntax and which CPUs the stream threads get. The
kernel call is recorded here (a unit test of the policy); tests/video/test_stream_cpus.py
checks the real threads of the real daemon."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator

import pytest

from lightnvr.core.cpu_affinity import (
    AUTO_STREAMS_PER_CPU,
    StreamCpuAffinity,
    parse_cpu_affinity,
)


@pytest.mark.parametrize("text,want", [
    ("auto", ()), (" AUTO ", ()), ("off", None), ("none", None),
    ("3", (3,)), ("2,3", (2, 3)), ("0-2", (0, 1, 2)), ("5, 1-2", (1, 2, 5)),
])
def test_parse(text: str, want: tuple[int, ...] | None) -> None:
    assert parse_cpu_affinity(text) == want


@pytest.mark.parametrize("text", ["", "fast", "1-", "-1", "3-1", "1,,2", "1.5", "99999"])
def test_parse_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_cpu_affinity(text)


class Kernel:
    """Records sched_setaffinity calls: thread id -> the last CPU set it was given."""

    def __init__(self) -> None:
        self.calls: dict[int, frozenset[int]] = {}

    def __call__(self, tid: int, cpus: Iterable[int]) -> None:
        self.calls[tid] = frozenset(cpus)


class Crowd:
    """Stream threads stand-ins: live threads that each enter() and stay until `end()`, so
    their native ids are distinct and not reused during a test."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._threads: list[threading.Thread] = []

    def enter(self, aff: StreamCpuAffinity, n: int, reader: bool) -> list[int]:
        ids: list[int] = []
        entered = threading.Barrier(n + 1)

        def body() -> None:
            aff.enter(reader=reader)
            ids.append(threading.get_native_id())
            entered.wait()
            self._done.wait(30)
            aff.leave()

        threads = [threading.Thread(target=body) for _ in range(n)]
        self._threads += threads
        for t in threads:
            t.start()
        entered.wait()
        return ids

    def end(self) -> None:
        self._done.set()
        for t in self._threads:
            t.join(5)


@pytest.fixture
def crowd() -> Iterator[Crowd]:
    c = Crowd()
    try:
        yield c
    finally:
        c.end()


def test_auto_puts_every_stream_thread_on_one_cpu_chosen_by_pid(crowd: Crowd) -> None:
    kernel = Kernel()
    aff = StreamCpuAffinity("auto", allowed=(0, 1, 2, 3), pid=4242 + 2, apply=kernel)
    ids = crowd.enter(aff, 3, reader=True) + crowd.enter(aff, 3, reader=False)
    assert aff.cpus() == frozenset({(4242 + 2) % 4})
    assert {kernel.calls[i] for i in ids} == {frozenset({0})}
    other = StreamCpuAffinity("auto", allowed=(0, 1, 2, 3), pid=4243, apply=Kernel())
    crowd.enter(other, 1, reader=True)
    assert other.cpus() == frozenset({3})  # another daemon lands elsewhere


def test_auto_grows_for_every_member_past_the_streams_per_cpu(crowd: Crowd) -> None:
    kernel = Kernel()
    aff = StreamCpuAffinity("auto", allowed=(0, 1, 2, 3), pid=0, apply=kernel)
    first = crowd.enter(aff, AUTO_STREAMS_PER_CPU, reader=True)
    recorders = crowd.enter(aff, 4, reader=False)  # recorders do not count
    assert aff.cpus() == frozenset({0})
    more = crowd.enter(aff, 1, reader=True)
    assert aff.cpus() == frozenset({0, 1})
    assert {kernel.calls[i] for i in first + recorders + more} == {frozenset({0, 1})}
    assert aff.members() == AUTO_STREAMS_PER_CPU + 5


def test_a_list_pins_to_its_available_cpus_and_warns_of_the_rest(
        crowd: Crowd, caplog: pytest.LogCaptureFixture) -> None:
    kernel = Kernel()
    aff = StreamCpuAffinity("1,7", allowed=(0, 1, 2), apply=kernel)
    assert "CPU(s) 7 not available" in caplog.text
    ids = crowd.enter(aff, 2, reader=True)
    assert {kernel.calls[i] for i in ids} == {frozenset({1})}


@pytest.mark.parametrize("setting,allowed", [("off", (0, 1)), ("auto", (0,)), ("5", (0, 1))])
def test_not_pinned(crowd: Crowd, setting: str, allowed: tuple[int, ...]) -> None:
    kernel = Kernel()
    aff = StreamCpuAffinity(setting, allowed=allowed, apply=kernel)
    crowd.enter(aff, 2, reader=True)
    assert kernel.calls == {} and aff.cpus() is None


def test_leave_forgets_the_thread(crowd: Crowd) -> None:
    aff = StreamCpuAffinity("auto", allowed=(0, 1), apply=Kernel())
    crowd.enter(aff, 2, reader=True)
    assert aff.members() == 2
    crowd.end()
    assert aff.members() == 0
