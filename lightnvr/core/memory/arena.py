"""glibc malloc tuning: cap the arenas, and give freed heap memory back to the OS.

glibc gives busy threads their own arenas (up to 8 x cores); with a reader, a recorder and a
live writer per stream each touching packet buffers, RSS settles 50-90 MiB higher than with
two arenas (measured in docs/performance.md, "256 MiB device"). An explicit MALLOC_ARENA_MAX
in the environment wins: glibc has applied it already and we leave it alone.

glibc also keeps what a program frees: start-up (migrations, the OpenAPI document, imports)
leaves ~30 MiB of free but resident heap behind, half an idle daemon's memory (measured:
PSS 65 -> 33 MiB after one `malloc_trim(0)`). `trim_malloc()` returns it; the memory governor
calls it every few seconds (a fraction of a millisecond each time). But `malloc_trim` returns
only free chunks inside a secondary arena, never its top: that shrinks when a free() leaves
more than the trim threshold on top, and glibc raises that threshold (to up to 64 MiB) each
time a large mmap'd block is freed. So which thread happened to allocate start-up's garbage
decided whether an idle daemon held 16 MiB more (measured: PSS 44 -> 60 MiB after an
unrelated change to a thread's timing). `limit_malloc_arenas` therefore also fixes the
thresholds (trim 1 MiB, mmap 256 KiB: glibc's own defaults before its dynamic adjustment,
which fixing them turns off); MALLOC_TRIM_THRESHOLD_ / MALLOC_MMAP_THRESHOLD_ in the
environment win.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
from typing import Any

log = logging.getLogger(__name__)

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8  # from glibc's malloc.h
DEFAULT_ARENAS = 2
TRIM_THRESHOLD = 1024 * 1024
MMAP_THRESHOLD = 256 * 1024
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
    """Cap glibc malloc arenas at `arenas` and fix the trim and mmap thresholds (module doc;
    call before threads start); True when the arena cap was applied."""
    mallopt = _mallopt()
    if mallopt is None:
        return False
    for env, option, value in (("MALLOC_TRIM_THRESHOLD_", M_TRIM_THRESHOLD, TRIM_THRESHOLD),
                               ("MALLOC_MMAP_THRESHOLD_", M_MMAP_THRESHOLD, MMAP_THRESHOLD)):
        if env not in os.environ:
            mallopt(option, value)
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    applied = bool(mallopt(M_ARENA_MAX, arenas))
    if applied:
        log.debug("malloc arenas limited to %d", arenas)
    return applied


def _mallopt() -> Any:
    """glibc's mallopt, None where there is none (musl)."""
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl has no arenas to limit)
        return None
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt
