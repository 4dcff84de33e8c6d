"""StreamSink: a write-only, non-seekable file that a muxer or zip writer fills and a streamed
response drains (`take()` after each step), so a download goes out while it is being built."""

from __future__ import annotations


class StreamSink:
    """Collects written bytes until `take()` hands them over; `tell()` counts all written."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._pos = 0

    def write(self, data: bytes, /) -> int:
        self._parts.append(bytes(data))
        self._pos += len(data)
        return len(data)

    def tell(self) -> int:
        return self._pos

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out
