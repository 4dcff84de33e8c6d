"""The zone editor's per-zone object list (LightNVR's `filter_classes`) in Chromium against the
real web app and database: what is typed is what the zones API stores and returns, and a
reopened editor shows it.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.ui_pages import draw_zone
from tests.ui.conftest import UiServer, axe_serious
from tests.ui.test_detection_ui import open_form

pytestmark = [pytest.mark.ui, pytest.mark.slow]


def test_zone_objects_field_is_stored_and_shown_again(ui: UiServer, page: Any) -> None:
    ui.testdb.add_stream("porch", enabled=False)
    open_form(page, ui, "porch")
    draw_zone(page, [(0.1, 0.1), (0.9, 0.1), (0.9, 0.9), (0.1, 0.9)])
    page.fill("input[name=zone-classes-0]", "person, car")
    assert not axe_serious(page)
    page.click("button:has-text('Save zones')")
    page.wait_for_selector("text=Zones of porch saved")
    zones = ui.admin.get("/api/streams/porch/zones").json["zones"]
    assert [z["filter_classes"] for z in zones] == ["person, car"]

    page.reload()
    page.click("button[aria-label='Edit porch']")
    page.click("form.stream-form summary:has-text('Video details and detection')")
    assert page.input_value("input[name=zone-classes-0]") == "person, car"
    page.fill("input[name=zone-classes-0]", "")  # back to any object
    page.click("button:has-text('Save zones')")
    page.wait_for_selector("text=Zones of porch saved")
    zones = ui.admin.get("/api/streams/porch/zones").json["zones"]
    assert [z["filter_classes"] for z in zones] == [""]
