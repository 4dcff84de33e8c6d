"""TimestampRepair: what reaches the muxer is strictly increasing, and every change is counted."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from lightnvr.video.timestamps import TimestampRepair

TB = Fraction(1, 90000)
STEP = 6000  # 15 fps


def test_clean_stream_is_untouched() -> None:
    fix = TimestampRepair(TB)
    out = [fix.fix(i * STEP + 3000, i * STEP) for i in range(100)]
    assert out == [(i * STEP + 3000, i * STEP) for i in range(100)]
    assert fix.repairs == 0


def test_duplicate_and_slightly_backwards_dts_are_dropped_and_counted() -> None:
    fix = TimestampRepair(TB)
    assert fix.fix(0, 0) == (0, 0)
    assert fix.fix(STEP, STEP) == (STEP, STEP)
    assert fix.fix(STEP, STEP) is None          # duplicate
    assert fix.fix(STEP - 10, STEP - 10) is None  # jitter backwards
    assert fix.fix(2 * STEP, 2 * STEP) == (2 * STEP, 2 * STEP)
    assert (fix.repairs, fix.drops) == (2, 2)


def test_camera_clock_reset_is_rebased_to_continue_the_timeline() -> None:
    fix = TimestampRepair(TB)
    for i in range(10):
        fix.fix(10**9 + i * STEP, 10**9 + i * STEP)
    # The camera restarted its clock at 0: output continues one frame step later.
    _pts, dts = fix.fix(0, 0)  # type: ignore[misc]
    assert dts == 10**9 + 10 * STEP
    assert fix.fix(STEP, STEP) == (dts + STEP, dts + STEP)
    assert fix.repairs == 1


def test_forward_leap_is_rebased() -> None:
    fix = TimestampRepair(TB, max_jump_seconds=10)
    fix.fix(0, 0)
    fix.fix(STEP, STEP)
    assert fix.fix(STEP + 3600 * 90000, STEP + 3600 * 90000) == (2 * STEP, 2 * STEP)
    assert fix.repairs == 1


def test_missing_timestamps() -> None:
    fix = TimestampRepair(TB)
    assert fix.fix(None, 0) == (0, 0)
    assert fix.fix(STEP, None) == (STEP, STEP)
    assert fix.fix(None, None) is None
    assert fix.fix(2 * STEP, 2 * STEP + 5) == (2 * STEP + 5, 2 * STEP + 5)  # pts < dts raised
    assert fix.repairs == 4


@given(st.lists(st.tuples(st.one_of(st.none(), st.integers(-10**10, 10**10)),
                          st.one_of(st.none(), st.integers(-10**10, 10**10))), max_size=200))
def test_output_is_always_muxable(stamps: list[tuple[int | None, int | None]]) -> None:
    fix = TimestampRepair(TB)
    last = None
    for pts, dts in stamps:
        out = fix.fix(pts, dts)
        if out is None:
            continue
        p, d = out
        assert p >= d
        assert last is None or d > last
        last = d
