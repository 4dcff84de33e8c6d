"""Issue #10 item 5: the login limiter cannot be flushed, nor used to lock others out.

Real daemon, real sockets; distinct clients are distinct loopback source addresses
(tests/security/client.py). Defaults: 5 failures lock a (username, address) pair, 20 an address.
"""

from __future__ import annotations

import statistics
import time

from tests.security.client import Client

JUNK_USERNAMES = 10_050  # the old limiter forgot its oldest entry beyond 10,000 usernames


def _lock_admin(c: Client, attempts: int = 5, headers: dict[str, str] | None = None) -> None:
    for _ in range(attempts):
        assert c.login("admin", "wrong-password-1", headers) == 401


def test_junk_usernames_do_not_unlock_a_locked_account(daemon_factory):
    d = daemon_factory()
    attacker, junk, bystander = (Client(d.port, f"127.0.0.{n}") for n in (3, 2, 4))
    try:
        _lock_admin(attacker)
        assert attacker.login("admin", d.password) == 429
        # ~10,000 junk Basic usernames from another address (cheap to send, once cheap to
        # store): they may lock that address, but must not flush admin's counter.
        statuses = {junk.call("GET", "/api/auth/verify", basic=(f"junk{i}", "x"))[0]
                    for i in range(JUNK_USERNAMES)}
        assert statuses == {401}
        assert attacker.login("admin", d.password) == 429, "junk flushed admin's lock"
        # The junk was counted against the address that sent it ...
        assert junk.login("admin", d.password) == 429
        # ... and the account itself stays open to everyone else.
        assert bystander.login("admin", d.password) == 200
    finally:
        for c in (attacker, junk, bystander):
            c.close()


def test_lockout_at_one_address_does_not_lock_the_account_elsewhere(daemon_factory):
    d = daemon_factory()
    mallory, owner = Client(d.port, "127.0.0.2"), Client(d.port, "127.0.0.1")
    try:
        _lock_admin(mallory)
        assert mallory.login("admin", d.password) == 429
        assert mallory.call("GET", "/api/auth/verify", basic=("admin", d.password))[0] == 401
        # The owner, from another address, signs in both ways.
        assert owner.login("admin", d.password) == 200
        assert owner.call("GET", "/api/auth/verify", basic=("admin", d.password))[0] == 200
        # And mallory is still locked: the owner's success clears only the owner's pair.
        assert mallory.login("admin", d.password) == 429
    finally:
        mallory.close()
        owner.close()


def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(daemon_factory):
    d = daemon_factory({"web": {"trusted_proxy_cidrs": "127.0.0.5"}})
    direct, proxy = Client(d.port, "127.0.0.2"), Client(d.port, "127.0.0.5")
    try:
        # A direct client cannot escape its lock by inventing X-Forwarded-For addresses.
        for i in range(5):
            xff = {"X-Forwarded-For": f"198.51.100.{i}"}
            assert direct.login("admin", "wrong-password-1", xff) == 401
        assert direct.login("admin", d.password, {"X-Forwarded-For": "198.51.100.99"}) == 429
        # Behind the trusted proxy, the client is the right-most untrusted entry.
        locked = {"X-Forwarded-For": "203.0.113.7"}
        _lock_admin(proxy, headers=locked)
        assert proxy.login("admin", d.password, locked) == 429
        # A spoofed left-most entry does not change who the proxy says the client is.
        spoofed = {"X-Forwarded-For": "203.0.113.8, 203.0.113.7"}
        assert proxy.login("admin", d.password, spoofed) == 429
        # Another client behind the same proxy is not locked out.
        assert proxy.login("admin", d.password, {"X-Forwarded-For": "203.0.113.8"}) == 200
    finally:
        direct.close()
        proxy.close()


def _median_failure_seconds(c: Client, username: str, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        status, _ = c.call("GET", "/api/auth/verify", basic=(username, "wrong-password-1"))
        times.append(time.perf_counter() - t0)
        assert status == 401
    return statistics.median(times)


def test_unknown_and_known_users_take_the_same_time_to_fail(daemon_factory):
    d = daemon_factory({"web": {"login_rate_limit_max_attempts": 10000}})
    c = Client(d.port)
    try:
        known: list[float] = []
        unknown: list[float] = []
        for _ in range(4):  # interleaved, so a busy moment hits both alike
            known.append(_median_failure_seconds(c, "admin", 5))
            unknown.append(_median_failure_seconds(c, "no-such-user", 5))
        k, u = statistics.median(known), statistics.median(unknown)
        # A password check is a 16 MiB scrypt (tens of ms); skipping it for unknown users
        # made them fail many times faster. Generous bounds: a busy machine adds noise.
        assert u >= 0.5 * k, f"unknown user fails in {u * 1000:.1f} ms, known in {k * 1000:.1f}"
        assert u <= 2.0 * k + 0.05, (u, k)
    finally:
        c.close()


class _FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_a_full_address_map_shares_an_overflow_bucket_instead_of_evicting():
    from lightnvr.web.login_limiter import LoginRateLimiter  # here: the daemon tests above
    # must be able to run (and fail) against code that predates this module.

    clock = _FakeClock()
    lim = LoginRateLimiter(True, 5, 300, now=clock, max_addresses=8)
    for _ in range(5):
        lim.failure("admin", "10.0.0.1")
    assert lim.blocked("admin", "10.0.0.1") and not lim.blocked("admin", "10.0.0.2")
    # Thousands of fresh addresses (and a spray of IPv6 ones) each failing a few times.
    for i in range(2000):
        lim.failure(f"junk{i}", f"192.0.2.{i % 250}" if i < 1000 else f"2001:db8:{i:x}::1")
    assert lim.blocked("admin", "10.0.0.1"), "a known address's lock was evicted"
    # The flood shares one overflow record: new addresses are locked together, for a while.
    assert lim.blocked("someone", "198.51.100.1")
    clock.t += 301
    assert not lim.blocked("admin", "10.0.0.1") and not lim.blocked("someone", "198.51.100.1")
    # An IPv6 client is one /64: rotating the interface id does not give fresh counters.
    for i in range(5):
        lim.failure("admin", f"2001:db8:1:2::{i + 1:x}")
    assert lim.blocked("admin", "2001:db8:1:2::ffff")
    assert not lim.blocked("admin", "2001:db8:1:3::1")
