# lightnvr/core/event_snapshots.py: the JPEG of a detection event's picture on disk,
# <root>/<stream folder>/event_<YYYYmmdd_HHMMSS_mmm>.jpg, and its URL /api/snapshots/...
# (root: <[storage] path>/snapshots). The stream manager writes them, retention prunes them.

KEPT_PER_STREAM: int  # 100: writing one more removes the stream's oldest
URL_PREFIX: str       # "/api/snapshots/"

def stream_folder(stream: str) -> str: ...  # the stream name, characters outside [A-Za-z0-9_.-] as "_"
def save_event_snapshot(root: str, stream: str, wall: float, jpeg: bytes) -> str: ...  # its URL; OSError
def prune_event_snapshots(root: str, stream: str, before: float) -> int: ...  # by mtime; the number removed
