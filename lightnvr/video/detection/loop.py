"""The loop every detector thread runs: look at each packet of its queue, count what failed.

Design: `DetectorThread` (a consumer.ConsumerThread) owns one thread, `detect:<stream>`, fed
by its HandoffQueue; the motion detector (detector.py) and the object detector (objects.py)
are its two strategies: `_handle(item)` looks at one packet (the loop releases it) and
`_describe()` says what the thread looks for in its start line. The stream manager starts
and stops it; closing the queue ends the loop, which then closes the frame sampler.
"""

from __future__ import annotations

import logging

from lightnvr.video.consumer import ConsumerThread, consume
from lightnvr.video.detection.frames import FrameSampler
from lightnvr.video.packet import MediaPacket

log = logging.getLogger(__name__)


class DetectorThread(ConsumerThread):
    """See the module doc. A subclass sets `name`, `queue`, `_sampler` and the counters."""

    THREAD_PREFIX = "detect"
    _sampler: FrameSampler
    samples: int  # frames analysed
    events: int   # of which were reported as events

    def _describe(self) -> str:
        raise NotImplementedError

    def _handle(self, item: MediaPacket) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        log.info("detect:%s started (%s)", self.name, self._describe())
        try:
            consume(self.queue, self._one, _nothing, self._wake, beat=self._beat)
        finally:
            self._sampler.close()
            self.queue.discard_all()
            log.info("detect:%s exited (%d frames analysed, %d events)", self.name,
                     self.samples, self.events)

    def _one(self, item: MediaPacket) -> None:
        try:
            self._handle(item)
        except Exception:  # one frame lost, the thread goes on (logged, rate-limited)
            self._count_error("frame not analysed")
        finally:
            item.release()


def _nothing() -> None:
    return None
