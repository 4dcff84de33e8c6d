"""Garbage requests (random methods, paths, headers, bodies) never produce a 500."""

from __future__ import annotations

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.web.rawhttp import raw_request

_PATHS = st.sampled_from(["/api/auth/login", "/api/settings", "/api/auth/users",
                          "/api/auth/users/1", "/api/auth/users/1/password",
                          "/api/auth/users/1/totp/verify", "/api/system/logs",
                          "/api/auth/login/totp", "/api/auth/sessions/1", "/", "/x"])
_SCALARS = (st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
            | st.text(max_size=20))
_TOKENS = st.text(st.characters(min_codepoint=33, max_codepoint=126,
                                exclude_characters="?#"), max_size=12)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"]),
       base=_PATHS, suffix=_TOKENS, query=st.binary(max_size=40),
       ctype=st.sampled_from(["application/json", "application/x-www-form-urlencoded",
                              "text/plain", ""]),
       body=st.one_of(st.binary(max_size=300),
                      st.recursive(_SCALARS,
                                   lambda c: st.lists(c, max_size=4)
                                   | st.dictionaries(st.sampled_from(
                                       ["username", "password", "role", "email", "code",
                                        "totp_token", "new_password", "old_password",
                                        "is_active", "log_level", "web_port"]), c, max_size=5),
                                   max_leaves=10).map(orjson.dumps)))
def test_no_500_for_garbage(web, method, base, suffix, query, ctype, body):
    path = (base + suffix).encode()
    qs = query.replace(b" ", b"+").replace(b"\r", b"").replace(b"\n", b"").replace(b"#", b"")
    head = [f"{method} ".encode() + path + b"?" + qs + b" HTTP/1.1", b"Host: 127.0.0.1",
            b"Connection: close", f"Content-Length: {len(body)}".encode(),
            f"Origin: {web.base_url}".encode(), f"Cookie: session={web.api.cookie}".encode()]
    if ctype:
        head.append(f"Content-Type: {ctype}".encode())
    status, _ = raw_request(web.port, b"\r\n".join(head) + b"\r\n\r\n" + body)
    assert status != 0 and status < 500, (method, path, qs, body[:80], status)
