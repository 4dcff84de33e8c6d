"""Limit glibc's malloc arenas, which otherwise multiply resident memory per thread.

glibc gives busy threads their own arenas (up to 8 x cores); with a reader, a recorder and a
live writer per stream each touching packet buffers, RSS settles 50-90 MiB higher than with
two arenas (measured in docs/performance.md, "256 MiB device"). An explicit MALLOC_ARENA_MAX
in the environment wins: glibc has applied it already and we leave it alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # from glibc's malloc.h
DEFAULT_ARENAS = 2


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
