# Measure a recorded segment, even one torn by a crash (lightnvr/video/segment_probe.py).
# Handed by the daemon to the storage reconciliation (docs/storage.md, "Start-up recovery").
# Field names match lightnvr.storage.probe.ProbeResult. Never touches the database.

class SegmentProbe:
    path: str
    start_time: float      # from the file name (<stream>_<YYYYMMDD>_<HHMMSS>.mp4), else mtime - duration
    duration: float        # seconds of playable video (torn tail excluded)
    size_bytes: int
    width: int
    height: int
    fps: int
    codec: str
    video_packets: int
    keyframes: int
    has_audio: bool
    @property
    def end_time(self) -> float: ...
    @property
    def video_frames(self) -> int: ...

def start_time_from_name(path: str) -> float | None: ...
def probe_segment(path: str) -> SegmentProbe | None: ...   # None: no playable video frame
