"""Issue #10 item 6: the audit trail — written for each security-relevant action, shown only to
admins (GET /api/system/audit and the System page), never holding a secret.

Real daemon over real sockets; the failed logins come from a second loopback address so the
entries can be seen to carry the client's address.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import orjson
import pyotp
import pytest

from tests.security.client import Client

BOB_PASSWORD = "Bob-password-1"
TYPED_INTO_USERNAME = "Hunter2-typed-as-a-username"


class _Admin:
    """Basic-auth admin calls that follow the daemon's current password."""

    def __init__(self, d: Any) -> None:
        self.d = d
        self.c = Client(d.port, "127.0.0.1")

    def __call__(self, method: str, path: str, body: object = None) -> Any:
        status, payload = self.c.json(method, path, body, basic=("admin", self.d.password))
        assert status == 200, (method, path, status, payload)
        return payload


def _audit(admin: _Admin, query: str = "limit=1000") -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = admin("GET", f"/api/system/audit?{query}")["events"]
    return out


def _one(events: list[dict[str, Any]], kind: str, **match: object) -> dict[str, Any]:
    found = [e for e in events if e["kind"] == kind
             and all(e.get(k) == v for k, v in match.items())]
    assert found, f"no {kind} entry with {match} in {[e['kind'] for e in events]}"
    return found[0]


def _act(d: Any, admin: _Admin, stranger: Client) -> dict[str, str]:
    """Every audited action once; returns the secrets that went over the wire."""
    me = admin("GET", "/api/auth/verify")
    new_pw = "Audit-admin-pw-2"
    admin("PUT", f"/api/auth/users/{me['id']}/password",
          {"old_password": d.password, "new_password": new_pw})
    old_pw, d.password = d.password, new_pw
    bob = admin("POST", "/api/auth/users",
                {"username": "bob", "password": BOB_PASSWORD, "role": 2})["id"]
    admin("PUT", f"/api/auth/users/{bob}", {"role": 1})
    api_key = admin("POST", f"/api/auth/users/{bob}/api-key")["api_key"]
    secret = admin("POST", f"/api/auth/users/{bob}/totp/setup")["secret"]
    admin("POST", f"/api/auth/users/{bob}/totp/verify", {"code": pyotp.TOTP(secret).now()})
    admin("POST", f"/api/auth/users/{bob}/totp/disable", {"password": d.password})
    for _ in range(5):
        assert stranger.login("bob", "wrong-password-1") == 401
    assert stranger.login("bob", BOB_PASSWORD) == 429
    assert stranger.login(TYPED_INTO_USERNAME, "x-wrong-password") == 401
    admin("POST", f"/api/auth/users/{bob}/login-lockout/clear")
    admin("POST", "/api/settings", {"retention_days": 29})
    admin("DELETE", f"/api/auth/users/{bob}")
    return {"old admin password": old_pw, "new admin password": new_pw,
            "bob's password": BOB_PASSWORD, "API key": api_key, "TOTP secret": secret,
            "typed-in password": TYPED_INTO_USERNAME, "wrong password": "wrong-password-1"}


def test_each_audited_action_is_shown_to_admins_without_secrets(daemon_factory):
    d = daemon_factory()
    admin, stranger = _Admin(d), Client(d.port, "127.0.0.2")
    try:
        secrets = _act(d, admin, stranger)
        events = _audit(admin)
        _one(events, "password_changed", actor="admin", target="admin", ip="127.0.0.1")
        _one(events, "user_created", actor="admin", target="bob")
        changed = _one(events, "role_changed", target="bob")
        assert changed["details"] == {"old_role": 2, "new_role": 1}
        _one(events, "api_key_changed", actor="admin", target="bob")
        _one(events, "totp_enabled", target="bob")
        _one(events, "totp_disabled", target="bob")
        failed = [e for e in events if e["kind"] == "login_failed" and e["target"] == "bob"]
        assert len(failed) == 5 and all(e["ip"] == "127.0.0.2" for e in failed)
        _one(events, "login_lockout", target="bob", ip="127.0.0.2")
        unknown = _one(events, "login_failed", actor="", ip="127.0.0.2")
        assert unknown["details"]["unknown_user"] is True
        _one(events, "lockout_cleared", actor="admin", target="bob")
        assert _one(events, "settings_changed", actor="admin")["details"]["settings"] == \
            ["retention_days"]
        _one(events, "user_deleted", actor="admin", target="bob")
        # Newest first.
        ids = [e["id"] for e in events]
        assert ids == sorted(ids, reverse=True)
        # Nothing that went over the wire as a secret is in the trail, in any form.
        text = orjson.dumps(events).decode()
        for what, value in secrets.items():
            assert value not in text, f"the {what} is in the audit trail"
    finally:
        admin.c.close()
        stranger.close()


def test_audit_pages_back_by_id(daemon_factory):
    d = daemon_factory()
    admin, stranger = _Admin(d), Client(d.port, "127.0.0.2")
    try:
        for i in range(7):
            assert stranger.login(f"nobody{i}", "wrong-password-1") == 401
        everything = [e["id"] for e in _audit(admin)]
        assert len(everything) >= 7
        first = admin("GET", "/api/system/audit?limit=3")
        assert [e["id"] for e in first["events"]] == everything[:3]
        second = admin("GET", f"/api/system/audit?limit=3&before={first['next_before']}")
        assert [e["id"] for e in second["events"]] == everything[3:6]
    finally:
        admin.c.close()
        stranger.close()


def test_only_admins_may_read_the_audit_trail(daemon_factory):
    d = daemon_factory()
    admin = _Admin(d)
    anyone = Client(d.port)
    try:
        for name, role in (("vera", 2), ("ulla", 1), ("apia", 3)):
            admin("POST", "/api/auth/users", {"username": name, "password": BOB_PASSWORD,
                                              "role": role})
            status, _ = anyone.call("GET", "/api/system/audit", basic=(name, BOB_PASSWORD))
            assert status == 403, (name, status)
        assert anyone.call("GET", "/api/system/audit")[0] == 401
        assert len(_audit(admin)) >= 3  # the three user_created entries
    finally:
        admin.c.close()
        anyone.close()


@pytest.mark.ui
def test_system_page_shows_the_audit_trail_to_admins_only(daemon_factory, chromium):
    from tests.ui.conftest import WWW, login, new_page

    d = daemon_factory({"web": {"root": WWW}})
    admin, stranger = _Admin(d), Client(d.port, "127.0.0.2")
    page = new_page(chromium)
    try:
        admin("POST", "/api/auth/users", {"username": "vera", "password": BOB_PASSWORD,
                                          "role": 2})
        assert stranger.login("vera", "wrong-password-1") == 401
        # login() needs only these two attributes of a UiServer
        site: Any = SimpleNamespace(base_url=f"http://127.0.0.1:{d.port}",
                                    admin_password=d.password)
        login(page, site, hash_="#/system")
        audit = page.locator("#audit")
        audit.locator("tr[data-kind=user_created]").wait_for()
        assert "vera" in audit.locator("tr[data-kind=user_created]").inner_text()
        failed = audit.locator("tr[data-kind=login_failed]").inner_text()
        assert "vera" in failed and "127.0.0.2" in failed
        assert not page.problems, page.problems
        # A viewer's System page has no audit section (and the API says 403).
        viewer = new_page(chromium)
        try:
            login(viewer, site, "vera", BOB_PASSWORD, hash_="#/system")
            viewer.wait_for_selector(".stat-value")
            assert viewer.locator("#audit").count() == 0
        finally:
            viewer.context.close()
    finally:
        page.context.close()
        admin.c.close()
        stranger.close()
