"""One stream's detection: its detector thread and, for a sub-stream, the reader that feeds it.

When a stream has a `sub_stream_url`, the detector watches the sub-stream (a camera's small
second stream: cheaper to decode) through its own `reader:<name>/sub` thread, which feeds
nothing else (no recording, no live view, no audio); otherwise it is one more consumer of the
main reader. `/` cannot occur in a stream name (stream_config.validate_stream_name), so the
sub reader's name never collides with a stream's. The stream manager builds a slot, starts it,
and stops it: a sub reader stops first (that closes the detector's queue), then the detector.
"""

from __future__ import annotations

from dataclasses import dataclass

from lightnvr.video.detection.detector import MotionDetectorThread
from lightnvr.video.detection.objects import ObjectDetectorThread
from lightnvr.video.reader import StreamReader

SUB_SUFFIX = "/sub"


def sub_reader_name(stream: str) -> str:
    return stream + SUB_SUFFIX


@dataclass(slots=True)
class DetectorSlot:
    """See the module doc. `source` is the URL watched: "" for the main stream; `model` what
    the thread was made for (objects.detector_key: another value needs another thread)."""

    thread: MotionDetectorThread | ObjectDetectorThread
    main: StreamReader
    sub: StreamReader | None = None
    source: str = ""
    model: str = ""

    @property
    def feeder(self) -> StreamReader:
        return self.sub if self.sub is not None else self.main

    def start(self) -> None:
        """Start the detector, then connect it (and start its sub reader, if any)."""
        self.thread.start()
        self.feeder.add_consumer(self.thread.queue)
        if self.sub is not None:
            self.sub.start()

    def request_stop(self) -> None:
        if self.sub is not None:
            self.sub.request_stop()

    def stop(self, timeout: float) -> bool:
        """Disconnect and stop; False if a thread overran `timeout` (each gets it)."""
        ok = True
        if self.sub is not None:
            ok = self.sub.stop(timeout)  # closes the detector's queue
        else:
            self.main.remove_consumer(self.thread.queue)
        return self.thread.stop(timeout) and ok
