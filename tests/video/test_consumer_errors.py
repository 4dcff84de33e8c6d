"""ConsumerThread's error count: the one place consumers (recorder, live writers, detectors)
count and log the items they fail to handle."""

from __future__ import annotations

import logging

import pytest

from lightnvr.video.consumer import ConsumerThread


class _Consumer(ConsumerThread):
    THREAD_PREFIX = "test"

    def __init__(self) -> None:
        super().__init__()
        self.name = "cam"

    def handle_failing_item(self) -> int:
        """What a consumer's per-item handler does with an item it fails to write."""
        try:
            raise OSError("disk gone")
        except OSError:
            return self._count_error("packet not written")


def test_failures_are_counted_and_logged_first_three_then_every_hundredth(
        caplog: pytest.LogCaptureFixture) -> None:
    c = _Consumer()
    caplog.set_level(logging.WARNING, logger="lightnvr.video.consumer")
    counts = []
    for _ in range(200):
        counts.append(c.handle_failing_item())
    assert counts == list(range(1, 201)) and c.errors == 200
    logged = [r for r in caplog.records if "packet not written" in r.getMessage()]
    assert [r.getMessage() for r in logged] == [
        f"test:cam: packet not written (error {n})" for n in (1, 2, 3, 100, 200)]
    assert all(r.exc_info and r.exc_info[0] is OSError for r in logged)
