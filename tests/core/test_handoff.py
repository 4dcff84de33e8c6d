"""HandoffQueue: drop policy (GOP-aware), drop levels, close semantics, and property tests."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from lightnvr.core.memory.handoff import DropLevel, HandoffQueue, QueueSignal, WakePolicy
from tests.fixtures.wait import wait_until


@dataclass(eq=False)
class Item:
    seq: int
    kind: str          # "K" keyframe, "P" non-key video, "A" audio
    gop: int
    index: int         # position of a video item within its GOP (keyframe = 0)
    released: int = 0
    log: list[int] = field(default_factory=list)

    @property
    def is_keyframe(self) -> bool:
        return self.kind == "K"

    @property
    def is_video(self) -> bool:
        return self.kind != "A"

    def release(self) -> None:
        self.released += 1


class Source:
    """Makes items in stream order, tracking GOP numbers."""

    def __init__(self) -> None:
        self.seq = 0
        self.gop = -1
        self.index = 0
        self.items: list[Item] = []

    def make(self, kind: str) -> Item:
        if kind == "K":
            self.gop += 1
            self.index = 0
        elif kind == "P":
            self.index += 1
        item = Item(self.seq, kind, self.gop, self.index if kind != "A" else -1)
        self.seq += 1
        self.items.append(item)
        return item


def drain(q: HandoffQueue[Item]) -> list[Item]:
    out: list[Item] = []
    while True:
        got = q.get(timeout=0)
        if not isinstance(got, Item):
            return out
        out.append(got)


def kinds(items: list[Item]) -> str:
    return "".join(i.kind for i in items)


def test_fifo_without_pressure() -> None:
    src, q = Source(), HandoffQueue[Item]("t", 10)
    for k in "KPPAKP":
        assert q.put(src.make(k))
    assert kinds(drain(q)) == "KPPAKP"
    s = q.stats()
    assert (s.put, s.delivered, s.dropped, s.depth, s.capacity) == (6, 6, 0, 0, 10)


def test_non_key_before_first_keyframe_is_dropped() -> None:
    src, q = Source(), HandoffQueue[Item]("t", 10)
    p = src.make("P")
    assert not q.put(p) and p.released == 1
    assert q.put(src.make("A"))
    assert q.put(src.make("K"))
    assert kinds(drain(q)) == "AK"
    # joining mid-GOP loses nothing a consumer had: counted apart from drops
    assert (q.stats().dropped, q.stats().skipped_before_first_key) == (0, 1)
    q.set_drop_level(DropLevel.KEY_ONLY)
    assert not q.put(src.make("P"))  # after the first keyframe a skipped frame is a drop
    assert (q.stats().dropped, q.stats().skipped_before_first_key) == (1, 1)


def test_overflow_drops_oldest_audio_first() -> None:
    src, q = Source(), HandoffQueue[Item]("t", 3)
    items = [src.make(k) for k in "KAP"]
    for i in items:
        q.put(i)
    assert q.put(src.make("P"))
    assert items[1].released == 1
    assert kinds(drain(q)) == "KPP"


def test_dropping_a_frame_drops_the_rest_of_its_gop_including_later_arrivals() -> None:
    src, q = Source(), HandoffQueue[Item]("t", 3)
    k1, p1, p2 = (src.make(k) for k in "KPP")
    for i in (k1, p1, p2):
        q.put(i)
    p3 = src.make("P")
    assert not q.put(p3)            # p1 evicted -> p2 and p3 (same GOP) go too
    assert (p1.released, p2.released, p3.released) == (1, 1, 1)
    p4 = src.make("P")
    assert not q.put(p4) and p4.released == 1   # still the damaged GOP
    k2 = src.make("K")
    assert q.put(k2)
    assert q.put(src.make("P"))
    assert kinds(drain(q)) == "KKP"
    assert q.stats().dropped == 4 and q.stats().dropped_gops == 0


def test_only_keyframes_left_drops_oldest_gop() -> None:
    src, q = Source(), HandoffQueue[Item]("t", 2)
    ks = [src.make("K") for _ in range(3)]
    for k in ks:
        q.put(k)
    assert ks[0].released == 1
    assert [i.seq for i in drain(q)] == [ks[1].seq, ks[2].seq]
    assert q.stats().dropped_gops == 1


def test_evicting_an_older_gop_keeps_skipping_a_damaged_newer_gop() -> None:
    src, q = Source(), HandoffQueue[Item]("t", 4)
    for k in "KPKP":
        q.put(src.make(k))
    q.set_drop_level(DropLevel.KEY_ONLY)
    assert not q.put(src.make("P"))      # newest GOP now damaged
    q.set_drop_level(DropLevel.NONE)
    assert q.put(src.make("A"))          # overflow evicts the OLDER GOP's P frame
    assert not q.put(src.make("P"))      # must still skip: its predecessor is gone
    assert [(i.kind, i.seq) for i in drain(q)] == [("K", 0), ("K", 2), ("P", 3), ("A", 5)]


def test_key_only_level() -> None:
    src, q = Source(), HandoffQueue[Item]("t", 10)
    q.put(src.make("K"))
    q.set_drop_level(DropLevel.KEY_ONLY)
    assert not q.put(src.make("P"))
    assert not q.put(src.make("A"))
    assert q.put(src.make("K"))
    q.set_drop_level(DropLevel.NONE)
    assert q.put(src.make("P"))  # the GOP of the last delivered keyframe is intact
    assert kinds(drain(q)) == "KKP"


def test_key_only_then_none_waits_for_next_keyframe() -> None:
    src, q = Source(), HandoffQueue[Item]("t", 10)
    q.put(src.make("K"))
    q.set_drop_level(DropLevel.KEY_ONLY)
    q.put(src.make("P"))
    q.set_drop_level(DropLevel.NONE)
    assert not q.put(src.make("P"))  # its predecessor was dropped
    assert q.put(src.make("K"))
    assert kinds(drain(q)) == "KK"


def test_all_level_discards_queue_and_puts() -> None:
    src, q = Source(), HandoffQueue[Item]("t", 10)
    queued = [src.make(k) for k in "KPA"]
    for i in queued:
        q.put(i)
    q.set_drop_level(DropLevel.ALL)
    assert [i.released for i in queued] == [1, 1, 1]
    k = src.make("K")
    assert not q.put(k) and k.released == 1
    assert len(q) == 0
    q.set_drop_level(DropLevel.NONE)
    assert not q.put(src.make("P"))
    assert q.put(src.make("K"))


def test_get_timeout_close_and_drain() -> None:
    src, q = Source(), HandoffQueue[Item]("t", 4)
    assert q.get(timeout=0.01) is QueueSignal.TIMEOUT
    q.put(src.make("K"))
    q.close()
    assert q.closed
    late = src.make("K")
    assert not q.put(late) and late.released == 1
    got = q.get(timeout=1)
    assert isinstance(got, Item) and got.kind == "K"
    assert q.get(timeout=1) is QueueSignal.CLOSED
    assert q.get() is QueueSignal.CLOSED


def test_take_all_hands_over_everything_queued_in_order() -> None:
    src, q = Source(), HandoffQueue[Item]("t", 10)
    assert q.take_all() == []
    for k in "KPAPA":
        q.put(src.make(k))
    batch = q.take_all()
    assert isinstance(batch, list) and kinds(batch) == "KPAPA"
    assert [i.seq for i in batch] == [0, 1, 2, 3, 4] and len(q) == 0
    assert q.stats().delivered == 5 and all(i.released == 0 for i in batch)
    q.put(src.make("P"))
    q.close()
    last = q.take_all()
    assert isinstance(last, list) and kinds(last) == "P"
    assert q.take_all() is QueueSignal.CLOSED


def test_close_wakes_blocked_consumer() -> None:
    q = HandoffQueue[Item]("t", 4)
    result: list[object] = []
    t = threading.Thread(target=lambda: result.append(q.get()), name="test-consumer")
    t.start()
    threading.Event().wait(0.05)
    q.close()
    t.join(2)
    assert not t.is_alive() and result == [QueueSignal.CLOSED]


class BatchConsumer:
    """A thread blocked in take_batch(timeout) once; `done` is set when it returns."""

    def __init__(self, q: HandoffQueue[Item], timeout: float = 60.0) -> None:
        self.result: list[Item] | QueueSignal | None = None
        self.done = threading.Event()
        self._t = threading.Thread(target=self._run, args=(q, timeout), name="test-batch")
        self._t.start()
        # Blocked in the wait (not merely started): put() only notifies a waiter.
        assert wait_until(lambda: q.batch_waiters == 1, 10)

    def _run(self, q: HandoffQueue[Item], timeout: float) -> None:
        self.result = q.take_batch(timeout)
        self.done.set()

    def join(self) -> None:
        self._t.join(10)
        assert not self._t.is_alive()


def test_batch_wakes_the_consumer_once_per_batch_not_per_item() -> None:
    src, q = Source(), HandoffQueue[Item]("rec", 100, WakePolicy(batch=5))
    c = BatchConsumer(q)
    try:
        for k in "KPAP":
            q.put(src.make(k))
        # Four queued, a batch is five: the consumer sleeps on (60 s timeout, no max_delay).
        assert not c.done.wait(0.3)
        q.put(src.make("A"))
        assert c.done.wait(10)
        assert isinstance(c.result, list) and kinds(c.result) == "KPAPA" and len(q) == 0
    finally:
        q.close()
        c.join()


def test_keyframe_policy_wakes_at_once_for_a_keyframe() -> None:
    src, q = Source(), HandoffQueue[Item]("seg", 100, WakePolicy(batch=50, keyframe=True))
    c = BatchConsumer(q)
    try:
        q.put(src.make("A"))
        q.put(src.make("A"))
        assert not c.done.wait(0.3)
        q.put(src.make("K"))
        assert c.done.wait(10)
        assert isinstance(c.result, list) and kinds(c.result) == "AAK"
    finally:
        q.close()
        c.join()


def test_max_delay_bounds_how_long_the_oldest_item_waits() -> None:
    src, q = Source(), HandoffQueue[Item]("rec", 100, WakePolicy(batch=50, max_delay=0.2))
    c = BatchConsumer(q, timeout=60.0)
    try:
        q.put(src.make("K"))
        # Far below the consumer's 60 s timeout: the policy's 0.2 s woke it (generous bound
        # for a busy machine).
        assert c.done.wait(20)
        assert isinstance(c.result, list) and kinds(c.result) == "K"
    finally:
        q.close()
        c.join()
    # An item already waiting longer than max_delay is taken without waiting at all.
    q2 = HandoffQueue[Item]("rec", 100, WakePolicy(batch=50, max_delay=0.0))
    q2.put(src.make("K"))
    got = q2.take_batch(60.0)
    assert isinstance(got, list) and kinds(got) == "K"


def test_close_wakes_a_batch_consumer_and_poll_policy_takes_at_once() -> None:
    src, q = Source(), HandoffQueue[Item]("rec", 100, WakePolicy(batch=50))
    c = BatchConsumer(q)
    q.put(src.make("K"))
    q.close()
    assert c.done.wait(10)
    c.join()
    assert isinstance(c.result, list) and kinds(c.result) == "K"
    assert q.take_batch(60.0) is QueueSignal.CLOSED
    # The default policy (a polling consumer): anything queued is taken without waiting,
    # an empty queue waits the consumer's timeout and gives an empty list.
    p = HandoffQueue[Item]("live", 10)
    assert p.take_batch(0.05) == []
    p.put(src.make("K"))
    got = p.take_batch(60.0)
    assert isinstance(got, list) and kinds(got) == "K"


def test_producer_consumer_threads() -> None:
    src, q = Source(), HandoffQueue[Item]("t", 8)
    got: list[Item] = []

    def consume() -> None:
        while isinstance(item := q.get(timeout=5), Item):
            got.append(item)

    t = threading.Thread(target=consume, name="test-consumer")
    t.start()
    for n in range(2000):
        q.put(src.make("K" if n % 25 == 0 else ("A" if n % 3 == 0 else "P")))
    q.close()
    t.join(5)
    assert not t.is_alive()
    seqs = [i.seq for i in got]
    assert seqs == sorted(seqs)
    for i in src.items:
        assert (i in got) != (i.released == 1)


ops = st.lists(
    st.one_of(
        st.sampled_from(["K", "P", "P", "P", "A"]).map(lambda k: ("put", k)),
        st.just(("get", "")),
        st.just(("take", "")),
        st.just(("batch", "")),
        st.sampled_from(list(DropLevel)).map(lambda lv: ("level", lv)),
    ),
    max_size=200,
)


@settings(max_examples=300, deadline=None)
@given(capacity=st.integers(min_value=1, max_value=8), script=ops,
       wake=st.builds(WakePolicy, batch=st.integers(0, 6),
                      max_delay=st.sampled_from([None, 0.0]), keyframe=st.booleans()))
def test_queue_invariants(capacity: int, script: list[tuple[str, object]],
                          wake: WakePolicy) -> None:
    src, q = Source(), HandoffQueue[Item]("prop", capacity, wake)
    delivered: list[Item] = []
    for op, arg in script:
        if op == "put":
            q.put(src.make(str(arg)))
        elif op == "get":
            got = q.get(timeout=0)
            if isinstance(got, Item):
                delivered.append(got)
        elif op == "take":
            batch = q.take_all()
            assert isinstance(batch, list)  # never CLOSED before close()
            delivered.extend(batch)
        elif op == "batch":
            got_batch = q.take_batch(0.0)  # the wake policy decides waits only, never what
            assert isinstance(got_batch, list)
            delivered.extend(got_batch)
        else:
            assert isinstance(arg, DropLevel)
            q.set_drop_level(arg)
        assert len(q) <= capacity
    q.close()
    while isinstance(got := q.get(timeout=0), Item):
        delivered.append(got)
    assert q.get(timeout=0) is QueueSignal.CLOSED
    # FIFO among delivered.
    seqs = [i.seq for i in delivered]
    assert seqs == sorted(seqs)
    # GOP invariant: a delivered video frame comes after every earlier video frame of its GOP.
    seen: dict[int, set[int]] = {}
    for i in delivered:
        if i.is_video:
            assert set(range(i.index)) <= seen.get(i.gop, set()), (kinds(delivered), i)
            seen.setdefault(i.gop, set()).add(i.index)
    # Every item is delivered or released, exactly once, never both.
    ids = {id(i) for i in delivered}
    for i in src.items:
        assert i.released == (0 if id(i) in ids else 1), (i, kinds(delivered))
    s = q.stats()
    assert s.delivered == len(delivered)
    assert s.dropped + s.skipped_before_first_key == sum(i.released for i in src.items)
    assert s.put == len(src.items)
