# Recording file layout and the one stored form of recording paths (lightnvr/storage/paths.py);
# docs/storage.md "Layout".
from collections.abc import Iterator

SEGMENT_SUFFIX: str    # ".mp4"

def segment_dir(root: str, stream: str, start_time: float,
                directory_format: str = "year_month_day") -> str: ...   # <root>/<stream>[/YYYY[/MM[/DD]]] (local time)
def thumbnail_path(segment_path: str, index: int) -> str: ...   # "<segment>.thumb<index>.jpg" beside the segment
def thumbnails_of(segment_path: str) -> list[str]: ...          # existing thumbnails of a segment
def segment_of_thumbnail(path: str) -> str | None: ...
def stored_path(root: str, path: str) -> str: ...               # canonical row value: relative to root, "/"-separated; ValueError outside root
def recording_file(root: str, file_path: str) -> str: ...       # THE way a row's file_path becomes a file name (absolute)
def repaired_path(root: str, file_path: str) -> str | None: ... # canonical value for an old-style row (reconciliation step 0)
def stream_of(root: str, path: str) -> str: ...                 # first directory below root
def segment_files(root: str, excludes: tuple[str, ...] = ()) -> Iterator[str]: ...
def orphan_thumbnails(root: str, excludes: tuple[str, ...] = ()) -> Iterator[str]: ...
def is_date_dir(root: str, path: str) -> bool: ...
def prune_empty_parents(root: str, path: str) -> int: ...
def empty_date_dirs(root: str, excludes: tuple[str, ...] = ()) -> list[str]: ...
