"""Issue #10 item 3: `password_change_required` is enforced by the server, not only the UI.

Until the flagged account changes its password, every authenticated route answers 403
`{"error": "password change required"}` except changing its OWN password, /api/auth/verify,
logout and the login flow — whatever the credentials (session, Basic, API key).
"""

from __future__ import annotations

import re

from lightnvr.web.http import Access
from tests.fixtures.web import ApiClient

REQUIRED = {"error": "password change required"}
EXEMPT = {("GET", "/api/auth/verify"), ("PUT", "/api/auth/users/{id}/password")}
_EXAMPLE = {"id": "1", "name": "front", "stream": "front", "file": "index.m3u8"}


def concrete(template: str) -> str:
    return re.sub(r"\{(\w+)(?::path)?\}", lambda m: _EXAMPLE.get(m.group(1), "x"), template)


def test_fresh_admin_can_do_nothing_but_change_the_password(daemon_factory):
    d = daemon_factory(settle_password=False)  # as installed: [web] password, never changed
    basic = ApiClient("127.0.0.1", d.port, basic=("admin", d.password))
    me = basic.get("/api/auth/verify")
    assert me.status == 200 and me.json["must_change_password"] is True

    # The reproduction: users and keys could be made before the change.
    for method, path, body in (
            ("POST", "/api/auth/users", {"username": "eve", "password": "eve-password-1"}),
            ("POST", "/api/auth/users/1/api-key", {}),
            ("PUT", "/api/auth/users/1", {"password": "sidestep-pw-1",
                                          "old_password": d.password}),
            ("GET", "/api/auth/users", None), ("GET", "/api/settings", None),
            ("GET", "/api/streams", None), ("GET", "/api/system/info", None)):
        r = basic.request(method, path, json=body) if body is not None \
            else basic.request(method, path)
        assert (r.status, r.json) == (403, REQUIRED), (method, path, r.status, r.text)

    # The same through a browser session: login works and tells the UI, the rest waits.
    session = ApiClient("127.0.0.1", d.port)
    r = session.login("admin", d.password)
    assert r.status == 200 and r.json["must_change_password"] is True
    assert (session.get("/api/recordings").status, session.get("/api/recordings").json) \
        == (403, REQUIRED)
    assert session.get("/api/auth/verify").status == 200
    assert session.post("/api/auth/logout").status == 200
    assert session.get("/api/auth/verify").status == 401

    # Changing it still needs the old one (item 4), then everything opens up.
    assert basic.put("/api/auth/users/1/password",
                     json={"new_password": "admin-own-pw-1"}).status == 400
    r = basic.put("/api/auth/users/1/password",
                  json={"old_password": d.password, "new_password": "admin-own-pw-1"})
    assert r.status == 200, r.text
    admin = ApiClient("127.0.0.1", d.port, basic=("admin", "admin-own-pw-1"))
    assert admin.get("/api/auth/verify").json["must_change_password"] is False
    r = admin.post("/api/auth/users", json={"username": "eve", "password": "eve-password-1"})
    assert r.status == 200, r.text
    assert admin.get("/api/settings").status == 200
    assert [u["username"] for u in admin.get("/api/auth/users").json["users"]] == ["admin", "eve"]


def test_every_route_but_the_exempt_ones_waits_for_the_change(web_factory):
    web = web_factory(settle_password=False, login=False)
    configured = web.admin_password
    basic = web.client(basic=("admin", configured))
    key_before = web.app.auth.new_api_key(1)  # a key the account already had still waits too
    assert key_before is not None
    by_key = web.client(api_key=key_before)
    checked = 0
    for route in web.app.router.routes():
        if route.access == Access.PUBLIC or (route.method, route.template) in EXEMPT:
            continue
        for c in (basic, by_key):
            r = c.request(route.method, concrete(route.template), json={})
            assert (r.status, r.json) == (403, REQUIRED), (route.method, route.template,
                                                          r.status, r.text)
        checked += 1
    assert checked > 30
    # Another user's password is not "one's own": still refused.
    r = basic.put("/api/auth/users/2/password", json={"new_password": "someone-else-1"})
    assert (r.status, r.json) == (403, REQUIRED)
    for c in (basic, by_key):
        assert c.get("/api/auth/verify").status == 200
    r = basic.put("/api/auth/users/1/password",
                  json={"old_password": configured, "new_password": "admin-own-pw-1"})
    assert r.status == 200, r.text
    assert web.client(api_key=key_before).get("/api/auth/users").status == 200
