"""The settings page's MQTT tab shows the live connection state (real daemon, real broker,
headless Chromium): connected while the broker runs, disconnected once it stops."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.daemon import start_daemon
from tests.fixtures.mqtt_broker import Broker
from tests.ui.conftest import WWW, new_page

pytestmark = [pytest.mark.ui, pytest.mark.timeout(120)]


def test_settings_mqtt_tab_shows_connection_state(mqtt_broker: Broker, tmp_path: Path,
                                                  chromium: Any) -> None:
    d = start_daemon(tmp_path / "d", {"mqtt": mqtt_broker.mqtt_config(),
                                      "web": {"root": WWW}})
    page = new_page(chromium)
    try:
        page.goto(f"http://127.0.0.1:{d.port}/#/settings")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", d.password)
        page.click("button[type=submit]")
        page.wait_for_selector("nav#sidenav", state="attached")
        page.click("#tab-mqtt")
        state = page.locator(".mqtt-state")
        state.wait_for()
        page.wait_for_function("() => document.querySelector('.mqtt-state')"
                               "?.dataset.state === 'connected'", timeout=15000)
        assert "Connected" in state.inner_text()
        assert page.locator("input[name$='ha_snapshot_interval']").count() == 1
        mqtt_broker.stop()
        page.wait_for_function("() => document.querySelector('.mqtt-state')"
                               "?.dataset.state === 'disconnected'", timeout=15000)
        assert "cannot reach" in state.inner_text() or "lost" in state.inner_text()
        assert not page.problems, page.problems
    finally:
        page.context.close()
        d.stop()
