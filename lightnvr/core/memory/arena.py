"""glibc malloc tuning: cap the arenas, and give freed heap memory back to the OS.

glibc gives busy threads their own arenas (up to 8 x cores); with a reader, a recorder and a
live writer per stream each touching packet buffers, RSS settles 50-90 MiB higher than with
two arenas (measured in docs/performance.md, "256 MiB device"). An explicit MALLOC_ARENA_MAX
in the environment wins: glibc has applied it already and we leave it alone.

glibc also keeps what a program frees: start-up (migrations, the OpenAPI document, imports)
leaves ~30 MiB of free but resident heap behind, half an idle daemon's memory (measured:
PSS 65 -> 33 MiB after one `malloc_trim(0)`). `trim_malloc()` returns it; the memory governor
calls it every few seconds (a fraction of a millisecond each time).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
from typing import Any

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # from glibc's malloc.h
DEFAULT_ARENAS = 2
_libc: Any = None  # ctypes.CDLL of glibc once looked up; False when there is none


def _glibc() -> Any:
    global _libc
    if _libc is None:
        name = ctypes.util.find_library("c")
        try:
            _libc = ctypes.CDLL(name) if name else False
        except OSError:
            _libc = False
    return _libc


def trim_malloc() -> bool:
    """Release free heap memory of every arena to the OS (glibc `malloc_trim(0)`); False where
    there is no glibc (musl has nothing to trim) or nothing was released."""
    libc = _glibc()
    trim = getattr(libc, "malloc_trim", None) if libc else None
    if trim is None:
        return False
    trim.argtypes = (ctypes.c_size_t,)
    trim.restype = ctypes.c_int
    return bool(trim(0))


def limit_malloc_arenas(arenas: int = DEFAULT_ARENAS) -> bool:
    """Cap glibc malloc arenas at `arenas` (call before threads start); True when applied."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl has no arenas to limit)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    applied = bool(mallopt(M_ARENA_MAX, arenas))
    if applied:
        log.debug("malloc arenas limited to %d", arenas)
    return applied
