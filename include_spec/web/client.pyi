# Who the client of a request is (lightnvr/web/client.py): the one reader of
# [web] trusted_proxy_cidrs; X-Forwarded-* count only from those networks.
import ipaddress

from lightnvr.web.http import Request

def ip_address_of(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None: ...
def client_address(req: Request, trusted_proxy_cidrs: str) -> str: ...  # REMOTE_ADDR or trusted XFF
def from_trusted_proxy(req: Request, trusted_proxy_cidrs: str) -> bool: ...
