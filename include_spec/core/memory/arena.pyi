# glibc malloc tuning (lightnvr/core/memory/arena.py): arena cap (MALLOC_ARENA_MAX in the env
# wins) and giving freed heap back to the OS.
M_ARENA_MAX: int
DEFAULT_ARENAS: int

def limit_malloc_arenas(arenas: int = ...) -> bool: ...
def trim_malloc() -> bool: ...     # malloc_trim(0); False without glibc or nothing released
