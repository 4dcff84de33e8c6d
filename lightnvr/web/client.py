"""Who the client of a request is: its address, and whether its X-Forwarded-* headers count.

The one place that reads `[web] trusted_proxy_cidrs`: X-Forwarded-For and X-Forwarded-Host
are believed only when the peer (REMOTE_ADDR) is inside one of those networks, since anyone
else could send any value.
"""

from __future__ import annotations

import functools
import ipaddress

from lightnvr.core.config import parse_cidr_list
from lightnvr.web.http import Request

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def _networks(text: str) -> tuple[_Network, ...]:
    try:
        return parse_cidr_list(text)
    except ValueError:  # the config loader refuses bad lists; never trust on a bad one
        return ()


def ip_address_of(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """`text` as an IP address (IPv4-mapped IPv6 as IPv4), or None when it is not one."""
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _trusted(ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None,
             nets: tuple[_Network, ...]) -> bool:
    return ip is not None and any(ip.version == n.version and ip in n for n in nets)


def client_address(req: Request, trusted_proxy_cidrs: str) -> str:
    """The address of the client behind `req`, as used by the login limiter and the audit.

    X-Forwarded-For is read only when REMOTE_ADDR is inside `trusted_proxy_cidrs`; then the
    right-most entry not inside them (what the first trusted proxy saw) is the client. An
    entry that is not an IP address ends the walk at the proxy's own address.
    """
    remote = req.remote_addr
    nets = _networks(trusted_proxy_cidrs) if trusted_proxy_cidrs else ()
    if not nets or not _trusted(ip_address_of(remote), nets):
        return remote
    client = remote
    for hop in reversed(req.headers.get("x-forwarded-for", "").split(",")[-32:]):
        ip = ip_address_of(hop)
        if ip is None:
            break
        client = str(ip)
        if not _trusted(ip, nets):
            break
    return client


def from_trusted_proxy(req: Request, trusted_proxy_cidrs: str) -> bool:
    """REMOTE_ADDR is inside `[web] trusted_proxy_cidrs` (so its X-Forwarded-* headers count)."""
    if not trusted_proxy_cidrs:
        return False
    return _trusted(ip_address_of(req.remote_addr), _networks(trusted_proxy_cidrs))
