# glibc malloc arena cap (lightnvr/core/memory/arena.py); MALLOC_ARENA_MAX in the env wins.
M_ARENA_MAX: int
DEFAULT_ARENAS: int

def limit_malloc_arenas(arenas: int = ...) -> bool: ...
