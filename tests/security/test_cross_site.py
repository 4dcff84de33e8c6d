"""Issue #10 item 12: a page on another site cannot make a browser change anything here.

Cookie sessions already had to prove same-origin. Browsers also replay cached HTTP Basic
credentials, and with auth disabled nothing needs credentials at all; both are refused when
the request carries a foreign Origin. JSON bodies must be labelled `application/json` (415
otherwise): a cross-site page can send `text/plain` or a form without asking, but not that.
API keys are never attached by a browser on its own, so scripts using them need no Origin.
"""

from __future__ import annotations

from tests.fixtures.daemon import DaemonProcess
from tests.fixtures.web import ApiClient

EVIL = "http://evil.example"


def usernames(admin: ApiClient) -> list[str]:
    return [u["username"] for u in admin.get("/api/auth/users").json["users"]]


def client(d: DaemonProcess, **kw: object) -> ApiClient:
    return ApiClient("127.0.0.1", d.port, **kw)  # type: ignore[arg-type]


def test_basic_writes_from_another_site_are_refused(daemon_factory):
    d = daemon_factory()
    basic = client(d, basic=("admin", d.password))
    new_user = {"username": "csrf1", "password": "csrf-password-1"}
    for origin in (EVIL, "null", f"http://127.0.0.1:{d.port + 1}"):
        r = basic.post("/api/auth/users", json=new_user, origin=origin)
        assert r.status == 403 and "cross-site" in r.json["error"], (origin, r.status, r.text)
    # The form a foreign page can post without a preflight: text/plain carrying JSON.
    r = basic.post("/api/auth/users", body=b'{"username":"csrf2","password":"csrf-password-2"}',
                   headers={"Content-Type": "text/plain"}, origin=None)
    assert r.status == 415 and "application/json" in r.json["error"], r.text
    r = basic.post("/api/auth/users", body=b"username=csrf3&password=csrf-password-3",
                   headers={"Content-Type": "application/x-www-form-urlencoded"}, origin=None)
    assert r.status == 415
    assert usernames(basic) == ["admin"]
    # Our own pages and scripts still work: same-origin Origin, or none at all.
    assert basic.post("/api/auth/users", json=new_user).status == 200
    r = basic.post("/api/auth/users", json={"username": "csrf4", "password": "csrf-password-4"},
                   origin=None)
    assert r.status == 200
    r = basic.post("/api/auth/users", json={"username": "csrf5", "password": "csrf-password-5"},
                   headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status == 200
    assert usernames(basic) == ["admin", "csrf1", "csrf4", "csrf5"]


def test_with_auth_disabled_other_sites_still_cannot_write(daemon_factory):
    d = daemon_factory({"web": {"auth_enabled": False}})
    anyone = client(d)
    r = anyone.post("/api/system/logs/clear", origin=EVIL)
    assert r.status == 403, r.text
    r = anyone.post("/api/settings", body=b'{"log_level": 3}',
                    headers={"Content-Type": "text/plain"}, origin=None)
    assert r.status == 415, r.text
    r = anyone.post("/api/settings", json={"log_level": 3}, origin=EVIL)
    assert r.status == 403
    assert anyone.get("/api/settings").json["log_level"] != 3
    assert anyone.post("/api/settings", json={"log_level": 3}).status == 200  # our own page
    assert anyone.get("/api/settings").json["log_level"] == 3


def test_login_needs_json_or_a_form_and_our_origin(daemon_factory):
    d = daemon_factory()
    body = f'{{"username":"admin","password":"{d.password}"}}'.encode()
    r = client(d).post("/api/auth/login", body=body, headers={"Content-Type": "text/plain"},
                       origin=None)
    assert r.status == 415 and "set-cookie" not in r.headers
    r = client(d).post("/api/auth/login", body=body,
                       headers={"Content-Type": "application/json"}, origin=EVIL)
    assert r.status == 403 and "set-cookie" not in r.headers
    # The C project's form login keeps working from our own login page.
    r = client(d).post("/api/auth/login", body=f"username=admin&password={d.password}".encode(),
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 302 and r.headers["set-cookie"].startswith("session=")


def test_api_keys_are_for_scripts_and_need_no_origin(daemon_factory):
    d = daemon_factory()
    key = client(d, basic=("admin", d.password)).post("/api/auth/users/1/api-key",
                                                      json={}).json["api_key"]
    scripted = client(d, api_key=key)
    r = scripted.post("/api/auth/users", json={"username": "bot1", "password": "bot-password-1"},
                      origin=None)
    assert r.status == 200, r.text
    # A browser never attaches X-API-Key by itself, so an Origin does not matter here...
    r = scripted.post("/api/auth/users", json={"username": "bot2", "password": "bot-password-2"},
                      origin=EVIL)
    assert r.status == 200, r.text
    # ...but the body must still be labelled JSON.
    r = scripted.post("/api/auth/users", body=b'{"username":"bot3","password":"bot-password-3"}',
                      headers={"Content-Type": "text/plain"}, origin=None)
    assert r.status == 415


def test_forwarded_host_is_believed_only_from_a_trusted_proxy(daemon_factory):
    plain = daemon_factory()
    proxied = daemon_factory({"web": {"trusted_proxy_cidrs": "127.0.0.1/32"}})
    for d, expected in ((plain, 403), (proxied, 200)):
        c = client(d)
        assert c.login("admin", d.password).status == 200
        # A foreign Origin made to look like our own host by naming it in X-Forwarded-Host.
        r = c.post("/api/system/logs/clear", origin="http://nvr.example",
                   headers={"X-Forwarded-Host": "nvr.example"})
        assert r.status == expected, (d.port, r.status, r.text)
        basic = client(d, basic=("admin", d.password))
        r = basic.post("/api/system/logs/clear", origin="http://nvr.example",
                       headers={"X-Forwarded-Host": "nvr.example"})
        assert r.status == expected, (d.port, r.status, r.text)
