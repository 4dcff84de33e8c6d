# Segment probe (lightnvr/storage/probe.py): the project's one PyAV probe of a recorded file.
# Used by reconciliation (start-up recovery of crash-cut segments), `lightnvr check`,
# tools/rebuild_recordings.py and the video tests. Demux only (no decoding); imports only PyAV,
# so any subsystem may use it without storage depending on video.

class ProbeResult:
    path: str
    start_time: float      # wall clock epoch s: mp4 creation_time, else YYYYMMDD_HHMMSS in the name (local), else mtime - duration
    duration: float        # seconds of video actually in the file (up to the last complete fragment)
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
    def video_frames(self) -> int: ...   # = video_packets

def start_time_from_name(path: str) -> float | None: ...   # last YYYYMMDD_HHMMSS in the file name (local time)

def wall_start(path: str, metadata: dict[str, str], duration: float) -> float: ...

def probe_segment(path: str) -> ProbeResult | None: ...   # None: cannot open, or no video keyframe packet ("no playable frame")
