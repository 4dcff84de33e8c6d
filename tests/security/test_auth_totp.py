"""Issue #10 items 1 and 4 against the real daemon: TOTP cannot be bypassed, codes are single-use,
and security settings (own password, TOTP off) need proof beyond a session or a Basic header.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.fixtures.accounts import totp_codes
from tests.fixtures.daemon import DaemonProcess
from tests.fixtures.web import ApiClient


def client(d: DaemonProcess, **kw: Any) -> ApiClient:
    return ApiClient("127.0.0.1", d.port, **kw)


def enable_totp(c: ApiClient, user_id: int, code_of: Callable[[str], str]) -> str:
    """Enrol `user_id` through the API as client `c`; the secret."""
    r = c.post(f"/api/auth/users/{user_id}/totp/setup", json={})
    assert r.status == 200, r.text
    secret: str = r.json["secret"]
    r = c.post(f"/api/auth/users/{user_id}/totp/verify", json={"code": code_of(secret)})
    assert r.status == 200, r.text
    return secret


def test_basic_is_refused_for_a_totp_account_on_every_route(daemon_factory):
    d = daemon_factory()
    admin = client(d, basic=("admin", d.password))
    assert admin.get("/api/auth/users").status == 200  # Basic works before TOTP is on
    key = admin.post("/api/auth/users/1/api-key", json={}).json["api_key"]
    secret = enable_totp(admin, 1, lambda s: totp_codes(s)[0])

    # The reproduction: curl -u admin:PASSWORD /api/auth/users answered 200.
    for method, path, body in (("GET", "/api/auth/users", None),
                               ("GET", "/api/auth/verify", None),
                               ("POST", "/api/auth/users", {"username": "mallory",
                                                            "password": "mallory-pass-1"}),
                               ("POST", "/api/auth/users/1/totp/disable",
                                {"password": d.password})):
        r = admin.request(method, path, json=body) if body else admin.request(method, path)
        assert r.status == 401, (method, path, r.status, r.text)
        error = r.json["error"]
        assert "login" in error and "API key" in error, error
        # Offering Basic again would only make a browser ask for the same password.
        assert not r.headers.get("www-authenticate", "").lower().startswith("basic")
    assert [u["username"] for u in client(d, api_key=key).get("/api/auth/users").json["users"]] \
        == ["admin"]  # mallory was not created
    assert client(d, api_key=key).get("/api/auth/users/1/totp/status").json["totp_enabled"]

    # A wrong password gets the plain answer: the TOTP hint needs the right password.
    wrong = client(d, basic=("admin", "not-the-password")).get("/api/auth/users")
    assert wrong.status == 401 and wrong.json == {"error": "authentication required"}
    assert wrong.headers["www-authenticate"].startswith("Basic")

    # The ways in that stay: API keys for scripts, the two-step login for people.
    assert client(d, api_key=key).get("/api/auth/users").status == 200
    c = client(d)
    first = c.post("/api/auth/login", json={"username": "admin", "password": d.password})
    assert first.status == 200 and first.json["totp_required"] is True
    ok = c.post("/api/auth/login/totp", json={"totp_token": first.json["totp_token"],
                                              "code": totp_codes(secret)[1]})
    assert ok.status == 200, ok.text
    c.cookie = ok.headers["set-cookie"].split(";", 1)[0].split("=", 1)[1]
    assert c.get("/api/auth/users").status == 200


def test_a_totp_code_is_accepted_once(daemon_factory):
    d = daemon_factory()
    admin = client(d, basic=("admin", d.password))
    r = admin.post("/api/auth/users", json={"username": "bob", "password": "bob-password-1",
                                            "role": 1})
    bob_id = r.json["id"]
    bob = client(d)
    assert bob.login("bob", "bob-password-1").status == 200
    enrol = {}

    def first_code(secret: str) -> str:
        enrol["codes"] = totp_codes(secret)
        return enrol["codes"][0]

    enable_totp(bob, bob_id, first_code)
    enrolled, current, following = enrol["codes"]

    def inline(code: str) -> int:
        return client(d).post("/api/auth/login", json={
            "username": "bob", "password": "bob-password-1", "totp_code": code}).status

    assert inline(enrolled) == 401  # used to enrol: spent
    assert inline(current) == 200
    assert inline(current) == 401  # replayed within its window
    # The two-step login shares the record: the same code on the second step is refused too.
    token = client(d).post("/api/auth/login", json={"username": "bob",
                                                    "password": "bob-password-1"}).json
    assert client(d).post("/api/auth/login/totp", json={"totp_token": token["totp_token"],
                                                        "code": current}).status == 401
    ok = client(d).post("/api/auth/login/totp", json={"totp_token": token["totp_token"],
                                                      "code": following})
    assert ok.status == 200, ok.text
    # ...and disabling TOTP with a spent code is refused as well.
    r = bob.post(f"/api/auth/users/{bob_id}/totp/disable", json={"code": following})
    assert r.status == 400
    assert bob.get(f"/api/auth/users/{bob_id}/totp/status").json["totp_enabled"] is True


def test_turning_totp_off_needs_a_code_or_the_password(daemon_factory):
    d = daemon_factory()
    admin = client(d, basic=("admin", d.password))
    bob_id = admin.post("/api/auth/users", json={"username": "bob", "role": 1,
                                                 "password": "bob-password-1"}).json["id"]
    bob = client(d)
    assert bob.login("bob", "bob-password-1").status == 200
    codes: list[str] = []

    def remember(secret: str) -> str:
        codes.extend(totp_codes(secret))
        return codes[0]

    secret = enable_totp(bob, bob_id, remember)
    status = f"/api/auth/users/{bob_id}/totp/status"
    disable = f"/api/auth/users/{bob_id}/totp/disable"

    # A session alone (e.g. a stolen cookie) cannot turn the second factor off.
    for body in ({}, {"password": "wrong-password"}, {"code": "000000"}, {"code": "abc"}):
        r = bob.post(disable, json=body)
        assert r.status == 400, (body, r.status, r.text)
        assert "error" in r.json
        assert bob.get(status).json["totp_enabled"] is True, body
    r = bob.post(disable, json={"code": codes[1]})
    assert r.status == 200, r.text
    assert bob.get(status).json == {"totp_enabled": False, "totp_configured": False}

    # Again, proving with the password this time.
    secret = enable_totp(bob, bob_id, lambda s: totp_codes(s)[2])
    assert secret
    assert bob.post(disable, json={"password": "bob-password-1"}).status == 200
    assert bob.get(status).json["totp_enabled"] is False
    assert client(d, basic=("bob", "bob-password-1")).get("/api/auth/verify").status == 200


def test_own_password_change_needs_the_old_one_admins_included(daemon_factory):
    d = daemon_factory()
    admin = client(d, basic=("admin", d.password))
    bob_id = admin.post("/api/auth/users", json={"username": "bob", "role": 1,
                                                 "password": "bob-password-1"}).json["id"]
    me = "/api/auth/users/1"
    for body in ({"new_password": "taken-over-pw"},
                 {"old_password": "wrong-password", "new_password": "taken-over-pw"}):
        r = admin.put(f"{me}/password", json=body)
        assert r.status == 400, (body, r.status, r.text)
    # The general update route is no side door.
    assert admin.put(me, json={"password": "taken-over-pw"}).status == 400
    assert admin.put(me, json={"password": "taken-over-pw",
                               "old_password": "wrong-password"}).status == 400
    assert client(d, basic=("admin", "taken-over-pw")).get("/api/auth/verify").status == 401
    assert admin.get("/api/auth/verify").status == 200  # still the old password

    # An admin resetting SOMEONE ELSE's password needs no knowledge of it.
    r = admin.put(f"/api/auth/users/{bob_id}/password", json={"new_password": "reset-by-admin"})
    assert r.status == 200, r.text
    assert client(d, basic=("bob", "reset-by-admin")).get("/api/auth/verify").status == 200

    r = admin.put(f"{me}/password", json={"old_password": d.password,
                                          "new_password": "admin-new-pw-1"})
    assert r.status == 200, r.text
    assert client(d, basic=("admin", "admin-new-pw-1")).get("/api/auth/verify").status == 200
    r = client(d, basic=("admin", "admin-new-pw-1")).put(
        me, json={"password": "admin-new-pw-2", "old_password": "admin-new-pw-1"})
    assert r.status == 200, r.text
    assert client(d, basic=("admin", "admin-new-pw-2")).get("/api/auth/verify").status == 200
