# Failed-login limiting (lightnvr/web/login_limiter.py): per (username, client address) and per
# address, in a bounded map junk cannot evict.
from collections.abc import Callable, Mapping

MAX_ADDRESSES: int        # address records; beyond, new addresses share one overflow record
ADDRESS_FACTOR: int       # an address locks after ADDRESS_FACTOR * max_attempts failures
AuditHook = Callable[[str, str, str, Mapping[str, object]], None]  # (kind, user, address, details)

def address_key(address: str) -> str: ...   # IPv4 as is, IPv6 as its /64

class LoginRateLimiter:
    enabled: bool
    max_attempts: int
    window: float
    audit: AuditHook | None   # told "login_failed" / "login_lockout"; set by the web app
    def __init__(self, enabled: bool, max_attempts: int, window_seconds: float,
                 now: Callable[[], float] = ..., max_addresses: int = ...) -> None: ...
    @property
    def address_limit(self) -> int: ...
    def blocked(self, username: str, address: str = "") -> bool: ...
    def failure(self, username: str, address: str = "", known: bool = True,
                via: str = "") -> None: ...
    def success(self, username: str, address: str = "") -> None: ...  # this pair only
    def clear(self, username: str) -> bool: ...   # this username from every address
