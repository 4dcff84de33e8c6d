"""The settings page's MQTT tab shows the live connection state (real daemon, real broker,
headless Chromium): connected while the broker runs, disconnected once it stops."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.daemon import start_daemon
from tests.fixtures.mqtt_broker import Broker
from tests.fixtures.ui_pages import checked_page, sign_in
from tests.ui.conftest import WWW

pytestmark = [pytest.mark.ui, pytest.mark.timeout(120)]


def test_settings_mqtt_tab_shows_connection_state(mqtt_broker: Broker, tmp_path: Path,
                                                  chromium: Any) -> None:
    d = start_daemon(tmp_path / "d", {"mqtt": mqtt_broker.mqtt_config(),
                                      "web": {"root": WWW}})
    try:
        with checked_page(chromium) as page:
            sign_in(page, f"http://127.0.0.1:{d.port}", d.password, "#/settings")
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
    finally:
        d.stop()
