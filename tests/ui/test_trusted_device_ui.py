"""Issue #15 in Chromium against the real daemon: "Remember this device" at the TOTP step and
the user's list of trusted devices with "Forget".

A user with TOTP signs in with the box ticked, signs out, and the next sign-in skips the code;
after "Forget" on "This browser" in their account page the code is asked again. Under
`[web] force_mfa_on_login` the password form itself takes the code and the box.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fixtures.accounts import totp_codes
from tests.fixtures.daemon import DaemonProcess, start_daemon
from tests.fixtures.web import ApiClient
from tests.ui.conftest import WWW

pytestmark = pytest.mark.ui
PW = "tina-password-1"
DAYS = 9


@pytest.fixture(scope="module")
def nvr(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    d = start_daemon(tmp_path_factory.mktemp("trusted-ui"),
                     {"web": {"root": str(WWW), "trusted_device_days": DAYS}})
    try:
        yield d
    finally:
        d.stop()


def _totp_user(d: DaemonProcess) -> str:
    """User tina with TOTP on; the code for her first sign-in."""
    admin = ApiClient("127.0.0.1", d.port, basic=("admin", d.password))
    r = admin.post("/api/auth/users", json={"username": "tina", "password": PW, "role": 1})
    assert r.status == 200, r.text
    tina = ApiClient("127.0.0.1", d.port)
    assert tina.login("tina", PW).status == 200
    secret = tina.post(f"/api/auth/users/{r.json['id']}/totp/setup", json={}).json["secret"]
    enrol, sign_in, _ = totp_codes(secret)
    assert tina.post(f"/api/auth/users/{r.json['id']}/totp/verify",
                     json={"code": enrol}).status == 200
    return sign_in


def _password_step(page: Any, d: DaemonProcess) -> None:
    page.goto(f"http://127.0.0.1:{d.port}/#/live")
    page.fill("input[name=username]", "tina")
    page.fill("input[name=password]", PW)
    page.click("button[type=submit]")


def _sign_out(page: Any) -> None:
    page.click("button[aria-label='Sign out']")
    page.wait_for_selector("input[name=username]")


def test_remember_device_skips_the_code_until_forgotten(nvr: DaemonProcess, page: Any) -> None:
    code = _totp_user(nvr)
    _password_step(page, nvr)
    page.wait_for_selector("h1:has-text('Two-factor code')")
    box = page.locator(f"label:has-text('Remember this device for {DAYS} days') input")
    box.check()
    page.fill("input[name=code]", code)
    page.click("button[type=submit]")
    page.wait_for_selector("nav#sidenav")
    _sign_out(page)

    # The password form does not offer the box: without forced MFA no code is asked there.
    assert page.locator("input[name=remember_device]").count() == 0
    _password_step(page, nvr)
    page.wait_for_selector("nav#sidenav")  # straight in: no code asked
    assert page.locator("h1:has-text('Two-factor code')").count() == 0

    page.goto(f"http://127.0.0.1:{nvr.port}/#/users")
    item = page.locator("[data-testid=trusted-devices] li", has_text="This browser")
    item.wait_for()
    assert page.locator("[data-testid=trusted-devices] li").count() == 1
    item.locator("button:has-text('Forget')").click()
    page.wait_for_selector("[data-testid=trusted-devices] >> text=No device skips")
    _sign_out(page)
    _password_step(page, nvr)
    page.wait_for_selector("h1:has-text('Two-factor code')")  # asked again


@pytest.fixture(scope="module")
def forced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    """A daemon with [web] force_mfa_on_login: the code goes with the password."""
    d = start_daemon(tmp_path_factory.mktemp("forced-mfa-ui"),
                     {"web": {"root": str(WWW), "trusted_device_days": DAYS,
                              "force_mfa_on_login": True}})
    try:
        yield d
    finally:
        d.stop()


def test_forced_mfa_form_takes_the_code_and_remembers_the_device(forced: DaemonProcess,
                                                                 page: Any) -> None:
    code = _totp_user(forced)
    page.goto(f"http://127.0.0.1:{forced.port}/#/live")
    page.fill("input[name=username]", "tina")
    page.fill("input[name=password]", PW)
    page.fill("input[name=code]", code)  # on the password form itself: no second step
    page.locator(f"label:has-text('Remember this device for {DAYS} days') input").check()
    page.click("button[type=submit]")
    page.wait_for_selector("nav#sidenav")
    _sign_out(page)
    _password_step(page, forced)  # the code field left empty: the device is trusted
    page.wait_for_selector("nav#sidenav")
