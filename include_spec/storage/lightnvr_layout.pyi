# LightNVR's recording layout (lightnvr/storage/lightnvr_layout.py):
# <storage>/mp4/<sanitized stream>/[YYYY/MM/DD/](recording|detection)_YYYYMMDD_HHMMSS.mp4
from collections.abc import Iterable

from lightnvr.core.recordings_store import TriggerType

LIGHTNVR_MP4_DIR: str

class LightNVRFile:
    stream_name: str
    trigger_type: TriggerType
    start_time: float

class LocatedFile:
    file_path: str       # canonical stored path (relative to the storage path)
    size_bytes: int

def sanitize_stream_name(name: str) -> str: ...
def lightnvr_file(root: str, path: str, streams: Iterable[str] = ...) -> LightNVRFile | None: ...
def locate_imported(root: str, file_path: str) -> LocatedFile | None: ...
