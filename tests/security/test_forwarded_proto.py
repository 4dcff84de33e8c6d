"""Issue #15 item 4: `X-Forwarded-Proto: https` counts only from `[web] trusted_proxy_cidrs`.

The header decides whether the session and trusted-device cookies are marked Secure. One daemon
trusts 127.0.0.1 as a TLS-terminating proxy; the same request from 127.0.0.2 (another loopback
address, a client the daemon does not trust) must not get its cookies marked Secure.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator

import orjson
import pytest

from tests.fixtures.daemon import DaemonProcess, start_daemon


@pytest.fixture(scope="module")
def nvr(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    d = start_daemon(tmp_path_factory.mktemp("fwd-proto"),
                     {"web": {"trusted_proxy_cidrs": "127.0.0.1/32"}})
    try:
        yield d
    finally:
        d.stop()


def _login_cookie(d: DaemonProcess, source: str, proto: str | None) -> str:
    """The session Set-Cookie of a login sent from address `source`."""
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=30,
                                      source_address=(source, 0))
    headers = {"Content-Type": "application/json"}
    if proto is not None:
        headers["X-Forwarded-Proto"] = proto
    try:
        conn.request("POST", "/api/auth/login", headers=headers,
                     body=orjson.dumps({"username": "admin", "password": d.password}))
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200, resp.status
        cookies = [v for k, v in resp.getheaders()
                   if k.lower() == "set-cookie" and v.startswith("session=")]
    finally:
        conn.close()
    assert len(cookies) == 1, cookies
    return cookies[0]


def _secure(cookie: str) -> bool:
    return "secure" in [p.strip().lower() for p in cookie.split(";")]


def test_forwarded_proto_is_believed_only_from_a_trusted_proxy(nvr: DaemonProcess) -> None:
    assert _secure(_login_cookie(nvr, "127.0.0.1", "https"))  # the trusted proxy
    assert not _secure(_login_cookie(nvr, "127.0.0.1", None))
    assert not _secure(_login_cookie(nvr, "127.0.0.1", "http"))
    # Anyone else may send the header; it does not make plain HTTP look like TLS.
    assert not _secure(_login_cookie(nvr, "127.0.0.2", "https"))
