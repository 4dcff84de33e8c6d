"""The WSGI app on the live server: central auth, CSRF, errors, headers, limits, HEAD."""

from __future__ import annotations

import logging
import re

import pytest

from lightnvr.web.http import Access, HTTPError, Request, Response
from tests.web.rawhttp import get, raw_request

_EXAMPLE = {"id": "1", "name": "front", "stream": "front", "job": "x", "token": "x",
            "idx": "0", "file": "index.m3u8", "filename": "index.m3u8", "path": "a"}


def _concrete(template: str) -> str:
    def fill(m: re.Match[str]) -> str:
        return _EXAMPLE.get(m.group(1), "x")
    return re.sub(r"\{(\w+)(?::path)?\}", fill, template)


def test_every_route_refuses_unauthenticated_callers_except_public_ones(web):
    anon = web.client()
    routes = web.app.router.routes()
    assert len(routes) > 30  # every API module registered (auth, system, settings, ...)
    public = set()
    for r in routes:
        res = anon.request(r.method, _concrete(r.template), json={}, origin=None)
        if r.access == Access.PUBLIC:
            public.add((r.method, r.template))
            assert res.status != 401, (r.method, r.template)
        else:
            assert res.status == 401, (r.method, r.template, res.status, res.text)
            assert res.json == {"error": "authentication required"}
    assert ("POST", "/api/auth/login") in public and ("GET", "/api/health") in public
    assert ("GET", "/api/auth/login/config") in public
    assert public <= {("GET", "/api/auth/login/config"), ("POST", "/api/auth/login"),
                      ("POST", "/api/auth/login/totp"), ("POST", "/api/auth/logout"),
                      ("GET", "/logout"), ("GET", "/api/health"), ("GET", "/api/health/hls"),
                      ("GET", "/api/setup/status")}


def test_security_headers_on_every_kind_of_response(web):
    for res in (web.api.get("/api/health"), web.client().get("/api/settings"),
                web.api.get("/api/nope"), web.client().get("/index.html")):
        h = res.headers
        assert "frame-ancestors 'none'" in h["content-security-policy"]
        assert "media-src 'self' blob:" in h["content-security-policy"]
        assert "worker-src 'self' blob:" in h["content-security-policy"]
        assert h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "same-origin"


def test_cookie_writes_need_same_origin(web):
    api = web.api
    assert api.post("/api/system/logs/clear", origin="http://evil.example").status == 403
    assert api.post("/api/system/logs/clear", origin=None).status == 403
    assert api.post("/api/system/logs/clear", origin="null").status == 403
    assert api.post("/api/system/logs/clear").status == 200  # same-origin Origin
    ok = api.post("/api/system/logs/clear", origin=None,
                  headers={"Referer": f"{web.base_url}/settings"})
    assert ok.status == 200
    bad = api.post("/api/system/logs/clear", origin=None,
                   headers={"Referer": "http://evil.example/settings"})
    assert bad.status == 403
    xrw = api.post("/api/system/logs/clear", origin=None,
                   headers={"X-Requested-With": "XMLHttpRequest"})
    assert xrw.status == 200
    # API keys are not sent by browsers on their own: no Origin needed.
    key = api.post("/api/auth/users/1/api-key").json["api_key"]
    assert web.client(api_key=key).post("/api/system/logs/clear", origin=None).status == 200
    # Login from a foreign page is refused too (login CSRF).
    r = web.client().post("/api/auth/login", json={"username": "admin",
                                                   "password": web.admin_password},
                          origin="http://evil.example")
    assert r.status == 403


def test_errors_are_json_and_never_500(web):
    api = web.api
    r = api.get("/api/does-not-exist")
    assert r.status == 404 and "error" in r.json
    r = api.request("PATCH", "/api/settings", json={})
    assert r.status == 405 and set(r.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}
    for body in (b"{", b"[1,2", b"\xff\xfe", b"null", b"[]", b'"x"', b"1e999999"):
        r = api.post("/api/settings", body=body, headers={"Content-Type": "application/json"})
        assert r.status == 400, (body, r.status, r.text)
        assert "error" in r.json
    r = api.post("/api/auth/users", body=b"", headers={"Content-Type": "application/json"})
    assert r.status == 400
    r = api.get("/api/system/logs?count=abc")
    assert r.status == 400 and "count" in r.json["error"]
    for weird in ("/api/auth/users/%00", "/api/auth/users/-1", "/api/auth/users/1e9",
                  "/api/auth/users/99999999999999999999999", "/api/%ff%fe",
                  "/api/auth/users/%2e%2e"):
        assert web.api.get(weird).status in (400, 404), weird


def test_unexpected_exception_is_logged_and_hidden(web, caplog):
    def boom(req: Request) -> Response:
        raise RuntimeError("secret internals /etc/shadow")

    web.app.router.add("GET", "/api/test-boom", boom, Access.READ)
    with caplog.at_level("ERROR"):
        r = web.api.get("/api/test-boom")
    assert r.status == 500 and r.json == {"error": "internal error"}
    assert "shadow" not in r.text
    # the traceback of *this* error is in the log (for the operator), not in the answer
    logged = [rec for rec in caplog.records
              if rec.exc_info and isinstance(rec.exc_info[1], RuntimeError)
              and "secret internals" in str(rec.exc_info[1])]
    assert len(logged) == 1 and logged[0].levelno == logging.ERROR, caplog.records


def test_handler_http_error_headers_pass_through(web):
    def teapot(req: Request) -> Response:
        raise HTTPError(418, "short and stout", {"X-Why": "because"})

    web.app.router.add("GET", "/api/test-teapot", teapot, Access.READ)
    r = web.api.get("/api/test-teapot")
    assert r.status == 418 and r.json == {"error": "short and stout"}
    assert r.headers["x-why"] == "because"


def test_head_has_headers_but_no_body(web):
    r = web.api.request("HEAD", "/api/system/info")
    assert r.status == 200 and r.body == b""
    assert int(r.headers["content-length"]) > 100
    assert r.headers["content-type"] == "application/json"


def test_request_body_limit_is_413(web_factory):
    web = web_factory(web={"max_request_bytes": 4096})
    r = web.api.post("/api/settings", body=b"{" + b" " * 10000 + b"}",
                     headers={"Content-Type": "application/json"})
    assert r.status == 413
    # Lying about the length is caught before reading the body.
    status, _ = raw_request(web.port, b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\n"
                            b"Content-Type: application/json\r\nContent-Length: 99999999\r\n"
                            b"Connection: close\r\n\r\n{}")
    assert status == 413


def test_oversized_headers_refused(web):
    status, _ = get(web.port, b"/api/health", b"X-Big: " + b"a" * 40000 + b"\r\n")
    assert status in (400, 413, 431)
    assert web.api.get("/api/health").status == 200  # server still fine


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_viewer_cannot_write_admin_only_routes(web, method):
    viewer = web.make_user("vera", role=2)
    r = viewer.request(method, "/api/settings" if method == "POST" else "/api/auth/users/1",
                       json={})
    assert r.status == 403


def test_counters_count_by_status(web):
    before = web.ctx.http_counters.snapshot()
    web.api.get("/api/nope")
    web.api.get("/api/health")
    after = web.ctx.http_counters.snapshot()
    assert after.get(404, 0) == before.get(404, 0) + 1
    assert after.get(200, 0) >= before.get(200, 0) + 1
