# Stream configuration rows (lightnvr/database/streams.py).
from lightnvr.core.stream_config import StreamConfig
from lightnvr.database.manager import Database

class StreamExists(Exception): ...
class StreamNotFound(Exception): ...

class StreamsRepo:
    def __init__(self, db: Database) -> None: ...
    def list(self, include_disabled: bool = True) -> list[StreamConfig]: ...   # never soft-deleted ones
    def list_with_deleted(self) -> list[StreamConfig]: ...   # soft-deleted too (retention rules)
    def get(self, name: str) -> StreamConfig | None: ...     # None for soft-deleted
    def create(self, config: StreamConfig) -> None: ...    # StreamExists when the name is taken; revives a soft-deleted name
    def update(self, config: StreamConfig) -> None: ...    # StreamNotFound
    def soft_delete(self, name: str) -> None: ...          # disable (C: DELETE without permanent)
    def delete(self, name: str) -> None: ...               # permanent
    def count(self) -> int: ...
