"""Issue #15 in Chromium: the first-run setup wizard (GET/POST /api/setup/status) and the
users page's access rules (camera tags, sign-in networks, password lock), over the real app."""

from __future__ import annotations

from typing import Any

from tests.fixtures.wait import wait_until
from tests.ui.conftest import UiServer, login


def test_first_run_wizard_adds_a_camera_and_marks_setup_complete(
        ui: UiServer, page: Any, rtsp_camera: Any) -> None:
    login(page, ui)  # the first admin's password change comes first
    admin = ui.admin_client()
    assert admin.get("/api/setup/status").json["complete"] is False
    for s in admin.get("/api/streams").json:  # a true first run: no camera yet
        assert admin.delete(f"/api/streams/{s['name']}?permanent=true").status == 200
    page.reload()
    page.wait_for_selector("h1:has-text('Welcome to LightNVR')")
    page.wait_for_selector("[data-testid=setup-storage-path]")  # step 1: where recordings go
    page.click("button:has-text('Next')")
    page.fill("input[name=setup-name]", "porch")
    page.fill("input[name=setup-url]", rtsp_camera.url("live264"))
    page.click("button:has-text('Add camera')")
    page.wait_for_selector("text=Setup is complete")
    page.click("button:has-text('Finish')")
    page.wait_for_selector("h1:has-text('Welcome to LightNVR')", state="detached")
    assert admin.get("/api/setup/status").json["complete"] is True
    assert [s["name"] for s in admin.get("/api/streams").json] == ["porch"]
    page.reload()
    page.wait_for_selector("h1:has-text('Live')")
    assert page.locator("h1:has-text('Welcome to LightNVR')").count() == 0


def test_users_page_sets_access_rules(ui: UiServer, page: Any) -> None:
    admin = ui.admin_client()
    r = admin.post("/api/auth/users", json={"username": "hank", "password": "hank-pass-123",
                                            "role": 2})
    assert r.status == 200, r.text
    uid = r.json["id"]
    login(page, ui, hash_="#/users")
    row = page.locator("tr[data-user=hank]")
    row.locator("button:has-text('Access')").click()
    page.fill("textarea[name=allowed_login_cidrs]", "10.9.8.7\n192.168.0.0/16")
    page.fill("input[name=allowed_tags]", "porch, yard")
    page.check("input[name=password_change_locked]")
    page.click("button:has-text('Save')")
    page.wait_for_selector("tr[data-user=hank] .chip:has-text('password locked')")

    def saved() -> dict[str, Any] | None:
        u = admin.get(f"/api/auth/users/{uid}").json
        return u if u["password_change_locked"] else None

    u = wait_until(saved, 10, what="hank's access rules saved")
    assert u is not None
    assert u["allowed_login_cidrs"] == "10.9.8.7/32\n192.168.0.0/16"
    assert u["allowed_tags"] == "porch,yard"
