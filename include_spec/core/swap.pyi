# Optional swap file of [memory] use_swap/swap_file/swap_size (lightnvr/core/swap.py).
# enable() at start-up, disable() as a ShutdownCoordinator component at PRIORITY_SWAP.
# Neither raises: a swap file that cannot be used is one warning and the daemon runs on.

PRIORITY_SWAP: int   # PRIORITY_DATABASE - 1: after streams, storage, governor and database

class SwapFile:
    path: str
    page: int
    size: int            # bytes, whole pages
    use_commands: bool   # mkswap/swapon/swapoff when on PATH; else own header + syscalls
    enabled: bool        # on because of this object
    def __init__(self, path: str, size_bytes: int, use_commands: bool = True) -> None: ...
    def enable(self) -> bool: ...      # create (0600, allocated, mkswap) + swapon; False: why logged
    def disable(self, seconds_allowed: float = 60.0) -> None: ...   # swapoff if enable() did it

def has_cap_sys_admin() -> bool: ...
def filesystem_type(path: str) -> str: ...   # from /proc/self/mountinfo; "" if unknown
def is_active(path: str) -> bool: ...        # listed in /proc/swaps
