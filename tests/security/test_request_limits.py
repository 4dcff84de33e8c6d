"""Issue #10 item 8: what an unauthenticated caller can make the server spend is bounded.

Login bodies are capped at a few KiB (413), JSON nesting is capped everywhere (400), and
password hashing (16 MiB of scrypt each) runs at most two at a time: callers beyond that
wait briefly, then get 503 with Retry-After instead of piling up threads and memory.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

from tests.fixtures.daemon import DaemonProcess
from tests.fixtures.web import ApiClient
from tests.web.rawhttp import raw_request

JSON = {"Content-Type": "application/json"}


def deep(levels: int) -> object:
    value: object = 1
    for _ in range(levels - 1):
        value = [value]
    return value


def post_head_of(port: int, path: str, body: bytes, ctype: str = "application/json",
                 sent: int = 65536) -> tuple[int, bytes]:
    """POST announcing all of `body` but sending only its first `sent` bytes.

    The server must refuse from Content-Length alone, without reading the body; the rest is
    never sent (a client writing on after the 413 would only meet a closed connection).
    """
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    status, raw = raw_request(port, head + body[:sent])
    return status, raw.partition(b"\r\n\r\n")[2]


def anon(d: DaemonProcess) -> ApiClient:
    return ApiClient("127.0.0.1", d.port)


def test_login_routes_read_only_a_few_kib(daemon_factory):
    d = daemon_factory()
    c = anon(d)
    # The body: a width bomb that parses into millions of objects.
    bomb = b"[" + b"{}," * 350_000 + b"{}]"  # ~1 MiB, far below [web] max_request_bytes
    for path in ("/api/auth/login", "/api/auth/login/totp"):
        status, body = post_head_of(d.port, path, bomb)
        assert status == 413, (path, status, body[:200])
        assert b'"error"' in body
    padded = {"username": "admin", "password": "wrong-password", "pad": "x" * 5000}
    r = c.post("/api/auth/login", json=padded)
    assert r.status == 413 and "error" in r.json
    # A form post is held to the same cap.
    form = b"username=admin&password=" + b"x" * 5000
    assert post_head_of(d.port, "/api/auth/login", form,
                        "application/x-www-form-urlencoded")[0] == 413
    # Ordinary logins are untouched: 3.9 KiB is still read and judged.
    padded["pad"] = "x" * 3900
    assert c.post("/api/auth/login", json=padded).status == 401
    r = c.login("admin", d.password)
    assert r.status == 200, r.text
    assert anon(d).get("/api/health").status == 200


def test_json_nesting_is_capped_everywhere(daemon_factory):
    d = daemon_factory()
    c = anon(d)
    login = {"username": "admin", "password": "wrong-password"}
    r = c.post("/api/auth/login", json={**login, "extra": deep(40)})
    assert r.status == 400 and "nested" in r.json["error"], r.text
    assert c.post("/api/auth/login", json={**login, "extra": deep(30)}).status == 401
    # Deeper than orjson itself allows: still a clean 400.
    r = c.post("/api/auth/login", body=b"[" * 1500 + b"]" * 1500, headers=JSON)
    assert r.status == 400 and "error" in r.json
    admin = ApiClient("127.0.0.1", d.port, basic=("admin", d.password))
    r = admin.put("/api/auth/users/1", json={"email": "a@example.org", "x": deep(40)})
    assert r.status == 400 and "nested" in r.json["error"], r.text
    assert admin.get("/api/auth/users/1").json["email"] == ""
    r = admin.post("/api/settings", json={"log_level": 2, "x": {"y": deep(60)}})
    assert r.status == 400 and "nested" in r.json["error"], r.text
    r = admin.put("/api/auth/users/1", json={"email": "a@example.org", "x": deep(20)})
    assert r.status == 200, r.text


def test_hashing_beyond_two_at_once_answers_503(web_factory):
    web = web_factory()
    auth = web.app.auth
    with contextlib.ExitStack() as held:
        for _ in range(2):  # two slow logins in progress
            held.enter_context(auth.hashing_slot())
        r = web.client().post("/api/auth/login", json={"username": "nobody",
                                                       "password": "whatever-1"})
        assert r.status == 503 and "error" in r.json, r.text
        assert int(r.headers["retry-after"]) >= 1
        r = web.client(basic=("admin", "wrong-password")).get("/api/auth/verify")
        assert r.status == 503
    assert web.client().login("admin", web.admin_password).status == 200
    assert web.client().login("nobody", "whatever-1").status == 401


def _peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_a_login_flood_does_not_grow_memory_per_caller(daemon_factory):
    # The login limiter would answer 429 without hashing; this is about the hashing itself.
    d = daemon_factory({"web": {"web_thread_pool_size": 16, "login_rate_limit_enabled": False}})
    before = _peak_rss_kib(d.proc.pid)
    statuses: list[int] = []
    lock = threading.Lock()
    go = threading.Barrier(16)

    def flood(n: int) -> None:
        go.wait()
        for i in range(3):
            r = anon(d).post("/api/auth/login", json={"username": f"junk-{n}-{i}",
                                                      "password": "junk-password"})
            with lock:
                statuses.append(r.status)

    threads = [threading.Thread(target=flood, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(statuses) == 48 and set(statuses) <= {401, 503}, statuses
    grown_mib = (_peak_rss_kib(d.proc.pid) - before) / 1024
    # 16 scrypt at once would take 256 MiB; two at a time take 32 MiB (plus slack).
    assert grown_mib < 96, f"peak RSS grew {grown_mib:.0f} MiB under 16 concurrent logins"
    assert anon(d).get("/api/health").status == 200
