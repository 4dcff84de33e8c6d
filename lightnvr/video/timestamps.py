"""Timestamp repair: cameras' DTS/PTS are not trusted, the muxers must never see them go wrong.

One `TimestampRepair` per elementary stream of a connection. It guarantees to its caller that
accepted packets have strictly increasing dts and pts >= dts, and counts every change:

- missing dts or pts: taken from the other; both missing: dropped;
- dts equal to or slightly below the previous one (jitter, a duplicated packet): dropped;
- a jump backwards by more than `max_jump` (camera restarted its clock) or forwards by more
  than `max_jump` (clock leap): the timeline is rebased so the packet follows the previous
  one by the last normal frame step — recordings stay continuous instead of breaking the muxer
  or showing a hole of hours;
- pts < dts after all that: pts raised to dts.

(Same-dts video packets that belong to one access unit are joined by the reader before this
runs: see reader.py.)
"""

from __future__ import annotations

from fractions import Fraction


class TimestampRepair:
    """Repairs one stream's timestamps; `repairs` counts every change or drop."""

    __slots__ = ("_last_dts", "_max_jump", "_offset", "_step", "drops", "repairs")

    def __init__(self, time_base: Fraction, max_jump_seconds: float = 10.0,
                 default_step_seconds: float = 1 / 15) -> None:
        self._max_jump = max(1, int(max_jump_seconds / time_base))
        self._step = max(1, int(default_step_seconds / time_base))
        self._offset = 0
        self._last_dts: int | None = None
        self.repairs = 0
        self.drops = 0

    def fix(self, pts: int | None, dts: int | None) -> tuple[int, int] | None:
        """(pts, dts) to use, or None when the packet must be dropped."""
        if dts is None or pts is None:
            self.repairs += 1
            if dts is None and pts is None:
                self.drops += 1
                return None
            dts = pts if dts is None else dts
            pts = dts if pts is None else pts
        assert dts is not None and pts is not None
        dts += self._offset
        pts += self._offset
        last = self._last_dts
        if last is not None:
            delta = dts - last
            if delta <= 0 or delta > self._max_jump:
                if -self._max_jump <= delta <= 0:
                    self.repairs += 1
                    self.drops += 1
                    return None
                # Rebase: this packet follows the previous one by a normal step.
                shift = last + self._step - dts
                self._offset += shift
                dts += shift
                pts += shift
                self.repairs += 1
            elif delta < 4 * self._step or self._step <= 0:
                self._step = delta
        if pts < dts:
            pts = dts
            self.repairs += 1
        self._last_dts = dts
        return pts, dts
