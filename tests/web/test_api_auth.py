"""Authentication and users on the live server: logins, sessions, keys, Basic, TOTP, roles."""

from __future__ import annotations

import base64
import logging
import os
import stat
import time

import pytest

from lightnvr.core.config import WebConfig
from lightnvr.database.sessions import SessionsRepo
from lightnvr.database.users import UsersRepo
from lightnvr.web.auth import Auth, hash_password, verify_password
from tests.fixtures.accounts import totp_codes
from tests.fixtures.wait import wait_until


def test_password_hash_is_salted_scrypt_and_verifies():
    h1, s1 = hash_password("correct horse")
    h2, s2 = hash_password("correct horse")
    assert h1.startswith("scrypt$16384$8$1$") and s1 != s2 and h1 != h2
    assert verify_password("correct horse", h1, s1)
    assert not verify_password("correct horsE", h1, s1)
    assert not verify_password("x", "md5$abc", s1)


def test_first_start_creates_admin_with_random_password_file(testdb, tmp_path, caplog):
    data = tmp_path / "data"
    auth = Auth(WebConfig(password=""), UsersRepo(testdb.db), SessionsRepo(testdb.db), str(data))
    with caplog.at_level(logging.WARNING):
        assert auth.ensure_admin() == "admin"
    path = data / "initial_admin_password"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    password = path.read_text().strip()
    assert len(password) >= 12 and password != "admin"
    assert not any(password in r.getMessage() for r in caplog.records)  # only the file has it
    assert any(str(path) in r.getMessage() for r in caplog.records)  # where it is, is logged
    user = auth.users.get_by_username("admin")
    assert user is not None and user.role == 0 and user.password_change_required
    assert auth.login("admin", password).status == "ok"
    assert auth.login("admin", "admin").status == "invalid"
    assert auth.ensure_admin() is None  # only on first start


def test_configured_admin_password_is_used(testdb, tmp_path):
    auth = Auth(WebConfig(password="configured-pw-1"), UsersRepo(testdb.db),
                SessionsRepo(testdb.db), str(tmp_path / "data"))
    assert auth.ensure_admin() == "admin"
    result = auth.login("admin", "configured-pw-1")
    assert result.status == "ok" and result.user is not None
    assert result.user.password_change_required  # changed first, before anything else


def test_login_cookie_flags_and_verify(web, web_factory):
    c = web.client()
    r = c.login("admin", web.admin_password)
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    assert c.get("/api/auth/verify").json["username"] == "admin"
    https = {"X-Forwarded-Proto": "https"}
    login = {"username": "admin", "password": web.admin_password}
    # from a client that is not a trusted proxy the header counts for nothing
    r = web.client().post("/api/auth/login", json=login, headers=https)
    assert r.status == 200 and "Secure" not in r.headers["set-cookie"]
    proxied = web_factory(web={"trusted_proxy_cidrs": "127.0.0.1/32"})
    login["password"] = proxied.admin_password
    r = proxied.client().post("/api/auth/login", json=login, headers=https)
    assert "; Secure" in r.headers["set-cookie"]


def test_bad_logins(web):
    c = web.client()
    assert c.login("admin", "wrong").status == 401
    assert c.login("nobody", "whatever1").status == 401
    assert c.post("/api/auth/login", json={"username": 5, "password": "x"}).status == 400
    assert c.post("/api/auth/login", json={"username": "admin"}).status == 400
    assert c.get("/api/auth/verify").status == 401


def test_form_login_redirects(web):
    c = web.client()
    r = c.post("/api/auth/login", body=f"username=admin&password={web.admin_password}".encode(),
               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 302 and r.headers["location"] == "/index.html"
    assert r.headers["set-cookie"].startswith("session=")
    r = c.post("/api/auth/login", body=b"username=admin&password=nope",
               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 302 and "error" in r.headers["location"]


def test_login_rate_limit_and_admin_clear(web_factory):
    web = web_factory(web={"login_rate_limit_max_attempts": 3,
                           "login_rate_limit_window_seconds": 300})
    web.make_user("bob", role=1, password="bob-password", login=False)
    c = web.client()
    for _ in range(3):
        assert c.login("bob", "wrong-password").status == 401
    r = c.login("bob", "bob-password")
    assert r.status == 429 and "error" in r.json
    # Basic auth is limited by the same counter.
    assert web.client(basic=("bob", "bob-password")).get("/api/auth/verify").status == 401
    bob_id = next(u["id"] for u in web.api.get("/api/auth/users").json["users"]
                  if u["username"] == "bob")
    r = web.api.post(f"/api/auth/users/{bob_id}/login-lockout/clear")
    assert r.status == 200 and r.json["cleared"] is True
    assert c.login("bob", "bob-password").status == 200


def test_sessions_list_revoke_and_expiry(web):
    other = web.client()
    assert other.login("admin", web.admin_password).status == 200
    sessions = web.api.get("/api/auth/sessions").json["sessions"]
    assert len(sessions) == 2 and sum(s["current"] for s in sessions) == 1
    other_id = next(s["id"] for s in sessions if not s["current"])
    assert web.api.delete(f"/api/auth/sessions/{other_id}").status == 200
    assert other.get("/api/auth/verify").status == 401
    assert web.api.delete(f"/api/auth/sessions/{other_id}").status == 404
    # Idle expiry, then absolute expiry, are enforced from the row.
    for column in ("idle_expires_at", "expires_at"):
        c = web.client()
        assert c.login("admin", web.admin_password).status == 200
        assert c.get("/api/auth/verify").status == 200
        with web.testdb.db.writer() as conn:
            conn.execute(f"UPDATE sessions SET {column} = ? WHERE id = (SELECT MAX(id) "
                         "FROM sessions)", (int(time.time()) - 1,))
        assert c.get("/api/auth/verify").status == 401, column


def test_session_cookie_of_someone_else_or_garbage_is_refused(web):
    for cookie in ("session=deadbeef", "session=", "session", "a=b; session=\"x\"",
                   "session=" + "x" * 5000):
        r = web.client().get("/api/auth/verify", headers={"Cookie": cookie})
        assert r.status in (401, 400), cookie


def test_logout(web):
    c = web.client()
    c.login("admin", web.admin_password)
    r = c.post("/api/auth/logout")
    assert r.status == 200 and "Max-Age=0" in r.headers["set-cookie"]
    assert c.get("/api/auth/verify").status == 401
    c.login("admin", web.admin_password)
    r = c.get("/logout")
    assert r.status == 302 and r.headers["location"].startswith("/login.html")
    assert c.get("/api/auth/verify").status == 401


def test_api_key_header_and_bearer_and_regeneration(web):
    key = web.api.post("/api/auth/users/1/api-key").json["api_key"]
    assert web.client(api_key=key).get("/api/auth/verify").json["via"] == "api_key"
    r = web.client().get("/api/auth/verify", headers={"Authorization": f"Bearer {key}"})
    assert r.status == 200
    users = web.api.get("/api/auth/users").json["users"]
    assert "api_key" not in users[0] and users[0]["has_api_key"] is True
    new = web.api.post("/api/auth/users/1/api-key").json["api_key"]
    assert web.client(api_key=key).get("/api/auth/verify").status == 401
    assert web.client(api_key=new).get("/api/auth/verify").status == 200


def test_basic_auth_cache_is_invalidated_by_password_change(web):
    bob = web.make_user("bob", role=1, password="first-password")
    basic = web.client(basic=("bob", "first-password"))
    assert basic.get("/api/auth/verify").json["via"] == "basic"
    t0 = time.monotonic()
    for _ in range(10):
        assert basic.get("/api/auth/verify").status == 200
    cached = (time.monotonic() - t0) / 10
    r = bob.put(f"/api/auth/users/{bob.user_id}/password",
                json={"old_password": "first-password", "new_password": "second-password"})
    assert r.status == 200
    assert basic.get("/api/auth/verify").status == 401  # cache forgot the old password
    wrong = basic.get("/api/auth/verify")
    assert wrong.headers.get("www-authenticate", "").startswith("Basic")
    assert web.client(basic=("bob", "second-password")).get("/api/auth/verify").status == 200
    assert bob.get("/api/auth/verify").status == 200  # the changing session survives
    assert cached < 0.5
    raw = base64.b64encode(b"no-colon").decode()
    assert web.client().get("/api/auth/verify",
                            headers={"Authorization": f"Basic {raw}"}).status == 401
    assert web.client().get("/api/auth/verify",
                            headers={"Authorization": "Basic !!!"}).status == 401


def test_totp_enrolment_and_two_step_login(web):
    bob = web.make_user("bob", role=1, password="bob-password")
    uid = bob.user_id
    assert bob.get(f"/api/auth/users/{uid}/totp/status").json == {
        "totp_enabled": False, "totp_configured": False}
    setup = bob.post(f"/api/auth/users/{uid}/totp/setup").json
    secret = setup["secret"]
    assert setup["otpauth_uri"].startswith("otpauth://totp/") and secret in setup["otpauth_uri"]
    assert bob.post(f"/api/auth/users/{uid}/totp/verify", json={"code": "000000"}).status == 400
    enrol_code, code, inline_code = totp_codes(secret)
    r = bob.post(f"/api/auth/users/{uid}/totp/verify", json={"code": enrol_code})
    assert r.status == 200
    assert bob.get(f"/api/auth/users/{uid}/totp/status").json["totp_enabled"] is True
    assert bob.post(f"/api/auth/users/{uid}/totp/setup").status == 409

    c = web.client()
    first = c.post("/api/auth/login", json={"username": "bob", "password": "bob-password"})
    assert first.status == 200 and first.json["totp_required"] is True
    assert "set-cookie" not in first.headers
    token = first.json["totp_token"]
    assert c.post("/api/auth/login/totp",
                  json={"totp_token": token, "code": "123456"}).status == 401
    assert c.post("/api/auth/login/totp",
                  json={"totp_token": "forged", "code": code}).status == 401
    ok = c.post("/api/auth/login/totp", json={"totp_token": token, "code": code})
    assert ok.status == 200 and ok.headers["set-cookie"].startswith("session=")
    # the pending token is single-use
    assert c.post("/api/auth/login/totp", json={"totp_token": token, "code": code}).status == 401
    # inline code in the first step also works
    inline = web.client().post("/api/auth/login", json={
        "username": "bob", "password": "bob-password", "totp_code": inline_code})
    assert inline.status == 200 and inline.json["success"]
    r = bob.post(f"/api/auth/users/{uid}/totp/disable", json={"password": "bob-password"})
    assert r.status == 200
    assert web.client().login("bob", "bob-password").json.get("success") is True


def test_users_crud_and_guards(web):
    api = web.api
    r = api.post("/api/auth/users", json={"username": "carol", "password": "carol-pass-1",
                                          "role": 2, "email": "c@example.org"})
    assert r.status == 200 and r.json["role_name"] == "viewer"
    cid = r.json["id"]
    assert api.post("/api/auth/users", json={"username": "carol",
                                             "password": "carol-pass-1"}).status == 409
    for bad in ({"username": "ab", "password": "long-enough"},
                {"username": "dave", "password": "short"},
                {"username": "dave", "password": "long-enough", "role": 7},
                {"username": "dave", "password": "long-enough", "role": True},
                {"username": "da/ve", "password": "long-enough"},
                {"username": ["x"], "password": "long-enough"}):
        assert api.post("/api/auth/users", json=bad).status == 400, bad
    assert api.get(f"/api/auth/users/{cid}").json["email"] == "c@example.org"
    r = api.put(f"/api/auth/users/{cid}", json={"role": 1, "email": "new@example.org"})
    assert r.status == 200 and r.json["role"] == 1
    assert api.get("/api/auth/users/424242").status == 404
    assert api.put("/api/auth/users/1", json={"role": 2}).status == 400  # no self-demotion
    assert api.put("/api/auth/users/1", json={"is_active": False}).status == 400
    assert api.delete("/api/auth/users/1").status == 403  # not yourself
    assert api.delete(f"/api/auth/users/{cid}").status == 200
    assert api.get(f"/api/auth/users/{cid}").status == 404


def test_deactivated_user_loses_sessions_and_basic(web):
    bob = web.make_user("bob", role=1, password="bob-password")
    basic = web.client(basic=("bob", "bob-password"))
    assert basic.get("/api/auth/verify").status == 200
    assert web.api.put(f"/api/auth/users/{bob.user_id}", json={"is_active": False}).status == 200
    assert bob.get("/api/auth/verify").status == 401
    assert basic.get("/api/auth/verify").status == 401
    assert web.client().login("bob", "bob-password").status == 401


def test_self_service_limits(web):
    bob = web.make_user("bob", role=1, password="bob-password")
    carol = web.make_user("carol", role=2, password="carol-password")
    assert bob.put(f"/api/auth/users/{bob.user_id}", json={"role": 0}).status == 403
    assert bob.put(f"/api/auth/users/{carol.user_id}", json={"email": "x@y"}).status == 403
    assert bob.put(f"/api/auth/users/{bob.user_id}",
                   json={"email": "bob@example.org"}).status == 200
    assert bob.get("/api/auth/users").status == 403
    # viewers change their own password (old one required), never anyone else's
    r = carol.put(f"/api/auth/users/{carol.user_id}/password",
                  json={"new_password": "carol-password-2"})
    assert r.status == 400
    r = carol.put(f"/api/auth/users/{carol.user_id}/password",
                  json={"old_password": "wrong", "new_password": "carol-password-2"})
    assert r.status == 400
    r = carol.put(f"/api/auth/users/{carol.user_id}/password",
                  json={"old_password": "carol-password", "new_password": "carol-password-2"})
    assert r.status == 200
    assert carol.put(f"/api/auth/users/{bob.user_id}/password",
                     json={"new_password": "hijacked-pass"}).status == 403
    assert carol.post(f"/api/auth/users/{bob.user_id}/totp/setup").status == 403


# (method, path template, body) -> statuses for admin, user, viewer, api
_MATRIX = [
    ("POST", "/api/settings", {"log_level": 2}, (200, 403, 403, 403)),
    ("POST", "/api/system/logs/clear", None, (200, 403, 403, 403)),
    ("POST", "/api/system/restart", None, (200, 403, 403, 403)),
    ("POST", "/api/system/shutdown", None, (200, 403, 403, 403)),
    ("POST", "/api/system/backup", None, (200, 403, 403, 403)),
    ("POST", "/api/auth/users", "NEWUSER", (200, 403, 403, 403)),
    ("PUT", "/api/auth/users/{self}", {"email": "me@example.org"}, (200, 200, 403, 200)),
    ("POST", "/api/auth/users/{self}/api-key", None, (200, 200, 403, 200)),
    ("PUT", "/api/auth/users/{self}/password", "PASSWORD", (200, 200, 200, 200)),
    ("POST", "/api/auth/users/{self}/totp/setup", None, (200, 200, 200, 200)),
    ("POST", "/api/auth/users/{self}/totp/disable", {"password": "matrix-password"},
     (200, 200, 200, 200)),
    ("POST", "/api/auth/users/{victim}/login-lockout/clear", None, (200, 403, 403, 403)),
    ("PUT", "/api/auth/users/{victim}", {"email": "v@example.org"}, (200, 403, 403, 403)),
    ("DELETE", "/api/auth/users/{victim}", None, (200, 403, 403, 403)),  # keep last
]


@pytest.mark.parametrize("role_index,role", [(0, 0), (1, 1), (2, 2), (3, 3)])
def test_auth_matrix(web, role_index, role):
    client = web.make_user(f"role{role}", role=role, password="matrix-password")
    me = client.user_id
    victim = web.make_user("victim", role=1, login=False).user_id
    for n, (method, template, body, expected) in enumerate(_MATRIX):
        path = template.replace("{self}", str(me)).replace("{victim}", str(victim))
        if body == "NEWUSER":
            body = {"username": f"new{n}", "password": "new-user-pass"}
        elif body == "PASSWORD":
            body = {"old_password": "matrix-password", "new_password": "matrix-password"}
        r = client.request(method, path, json=body if body is not None else {})
        assert r.status == expected[role_index], (role, method, path, r.status, r.text)
    if role == 0:  # the callbacks run just after the answers were written
        wait_until(lambda: web.restarts and web.shutdowns, 5, step=0.01)
    assert (len(web.restarts) == 1) == (role == 0)
    assert (len(web.shutdowns) == 1) == (role == 0)
