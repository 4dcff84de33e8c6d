"""Failed-login limiting per (username, client address) and per client address.

Design: failures are counted in one bounded map keyed by client address (an IPv6 client by its
/64, which one subscriber usually holds whole). Each address record keeps the failure times of
the address as a whole and, inside it, per username (a short digest, so junk names cost a few
bytes and never a name's text). Nothing an attacker sends can evict another client's counters:

- an address record is only ever removed once all its failures have left the window;
- when the map is full, *new* addresses share one overflow record instead of evicting anyone
  (so a flood of fresh addresses locks only other fresh addresses, never a known one);
- per-username counters live inside their address's record and are capped there, so 10,000
  junk usernames from one address fill (and then lock) that address only.

A (username, address) pair locks after `max_attempts` failures in `window` seconds; the
address as a whole after `ADDRESS_FACTOR` times that (several accounts behind one NAT may each
mistype). There is deliberately no account-wide lock: it would let anyone keep `admin` locked
from anywhere. Unknown usernames are counted exactly like known ones, so a lock never tells a
prober whether a username exists. Failures and new locks are reported to `audit` (if set).

Clients are told apart by `lightnvr.web.client.client_address`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

from lightnvr.web.client import ip_address_of

MAX_ADDRESSES = 4096  # address records before new addresses share the overflow record
ADDRESS_FACTOR = 4  # an address locks after this many times max_attempts failures
SWEEP_SECONDS = 1.0  # a full map is swept for expired records at most this often
# audit(kind, username, address, details): kind is "login_failed" or "login_lockout"
AuditHook = Callable[[str, str, str, Mapping[str, object]], None]


def address_key(address: str) -> str:
    """The limiter's key for a client address: IPv4 as is, IPv6 as its /64."""
    ip = ip_address_of(address)
    if ip is None:
        return address[:64]
    if ip.version == 6:
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)


def _user_key(username: str) -> bytes:
    return hashlib.blake2b(username.lower().encode("utf-8", "replace"), digest_size=8).digest()


def _prune(times: deque[float], cutoff: float, keep: int) -> int:
    """Drop failures older than `cutoff` and beyond the newest `keep`; how many remain."""
    while times and (times[0] <= cutoff or len(times) > keep):
        times.popleft()
    return len(times)


class _AddressRecord:
    __slots__ = ("failures", "users")

    def __init__(self) -> None:
        self.failures: deque[float] = deque()
        self.users: dict[bytes, deque[float]] = {}

    def idle(self, cutoff: float) -> bool:
        return (not self.failures or self.failures[-1] <= cutoff) and all(
            not t or t[-1] <= cutoff for t in self.users.values())


class LoginRateLimiter:
    """Failed logins per (username, address) and per address in a sliding window.

    `enabled`, `max_attempts` and `window` follow [web] login_rate_limit_* and may be changed
    live. Safe from any thread; every method is O(1) except an occasional sweep of a full map.
    """

    enabled: bool
    max_attempts: int
    window: float
    audit: AuditHook | None

    def __init__(self, enabled: bool, max_attempts: int, window_seconds: float,
                 now: Callable[[], float] = time.monotonic,
                 max_addresses: int = MAX_ADDRESSES) -> None:
        self.enabled = enabled
        self.max_attempts = max_attempts
        self.window = window_seconds
        self.audit = None
        self._now = now
        self._max_addresses = max_addresses
        self._lock = threading.Lock()
        self._addresses: dict[str, _AddressRecord] = {}
        self._overflow = _AddressRecord()
        self._next_sweep = 0.0

    @property
    def address_limit(self) -> int:
        return self.max_attempts * ADDRESS_FACTOR

    def _record(self, key: str, now: float, create: bool) -> _AddressRecord | None:
        rec = self._addresses.get(key)
        if rec is not None:
            return rec
        if len(self._addresses) >= self._max_addresses and now >= self._next_sweep:
            self._next_sweep = now + SWEEP_SECONDS
            cutoff = now - self.window
            for k in [k for k, r in self._addresses.items() if r.idle(cutoff)]:
                del self._addresses[k]
        if len(self._addresses) >= self._max_addresses:
            return self._overflow
        if not create:
            return None
        rec = self._addresses[key] = _AddressRecord()
        return rec

    def blocked(self, username: str, address: str = "") -> bool:
        """True while the address, or this username from this address, is locked."""
        if not self.enabled:
            return False
        with self._lock:
            now = self._now()
            rec = self._record(address_key(address), now, create=False)
            if rec is None:
                return False
            cutoff = now - self.window
            if _prune(rec.failures, cutoff, self.address_limit) >= self.address_limit:
                return True
            times = rec.users.get(_user_key(username))
            return times is not None and _prune(times, cutoff, self.max_attempts) \
                >= self.max_attempts

    def failure(self, username: str, address: str = "", known: bool = True,
                via: str = "") -> None:
        """Count a failed login; `known` says whether the username exists (for the audit only:
        unknown names are counted the same way, and their text is never reported)."""
        if not self.enabled:
            return
        key = address_key(address)
        with self._lock:
            now = self._now()
            cutoff = now - self.window
            rec = self._record(key, now, create=True)
            assert rec is not None
            alimit, plimit = self.address_limit, self.max_attempts
            addr_before = _prune(rec.failures, cutoff, alimit) >= alimit
            rec.failures.append(now)
            addr_after = _prune(rec.failures, cutoff, alimit) >= alimit
            pair_before = pair_after = False
            times = rec.users.get(_user_key(username))
            if times is None and len(rec.users) >= alimit:
                for k in [k for k, t in rec.users.items() if _prune(t, cutoff, plimit) == 0]:
                    del rec.users[k]
            if times is None and len(rec.users) < alimit:
                times = rec.users[_user_key(username)] = deque()
            if times is not None:
                pair_before = _prune(times, cutoff, plimit) >= plimit
                times.append(now)
                pair_after = _prune(times, cutoff, plimit) >= plimit
        if self.audit is None:
            return
        name = username if known else ""
        shown = address if rec is not self._overflow else f"{address} (overflow)"
        self.audit("login_failed", name, shown, {"via": via, "unknown_user": not known})
        if addr_after and not addr_before:
            self.audit("login_lockout", name, shown,
                       {"scope": "address", "failures": alimit, "window_seconds": self.window})
        elif pair_after and not pair_before:
            self.audit("login_lockout", name, shown,
                       {"scope": "user_and_address", "failures": plimit,
                        "window_seconds": self.window})

    def success(self, username: str, address: str = "") -> None:
        """Forget this username's failures from this address (a correct login there)."""
        with self._lock:
            rec = self._addresses.get(address_key(address))
            if rec is not None:
                rec.users.pop(_user_key(username), None)

    def clear(self, username: str) -> bool:
        """Forget `username`'s failures from every address (admin "clear lockout");
        True when there were any. Address-wide counters stay: they belong to the address."""
        key = _user_key(username)
        found = False
        with self._lock:
            for rec in (*self._addresses.values(), self._overflow):
                found = rec.users.pop(key, None) is not None or found
        return found
