# The one fragmented-MP4 box parser (lightnvr/video/fmp4_boxes.py): the live muxer
# (video/live_fmp4.py) and the timeline playlist (web/fmp4_sync.py) read fragments with it.
from collections.abc import Iterator

SAMPLE_IS_NON_SYNC: int   # sample_is_non_sync_sample bit of the 32-bit sample flags

Buffer = bytes | bytearray | memoryview

def boxes(data: Buffer, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, int, int]]: ...
# (type, payload start, box end) of each complete box; stops at a box cut short
def child(data: Buffer, start: int, end: int, kind: bytes) -> tuple[int, int] | None: ...

class Sample:                     # defaults already applied; None: the file does not say
    duration: int | None
    size: int | None
    flags: int | None             # first-sample flags > per-sample flags > tfhd default
    composition_offset: int
    @property
    def is_sync(self) -> bool | None: ...

class TrackFragment:
    track_id: int
    samples: tuple[Sample, ...]   # of all the traf's truns, in order

def track_fragments(moof: Buffer, start: int = 0, end: int | None = None) -> list[TrackFragment]: ...
# every traf of the first moof box in moof[start:end] (a whole box, header included)
def first_sample_sync(moof: Buffer, track_id: int) -> bool | None: ...
# None: no sample of that track in the fragment, or its flags are not stated
