"""Detection settings and the zone editor in Chromium against the real web app and database.

The stream form edits the motion settings, the detection schedule and the cross-stream trigger;
the zone editor draws a polygon with the mouse over the stream's picture and saves it through
the zones API. Each test reads back what the API returns, not what the page shows. The review
test seeds detections in SQLite and checks what the recordings list, a recording's page and the
timeline show of them.
"""

from __future__ import annotations

import datetime
import time
from typing import Any

import pytest

from lightnvr.database.detections import DetectionsRepo, NewDetection
from tests.fixtures.ui_pages import draw_zone
from tests.ui.conftest import UiServer, axe_serious, login, shot

pytestmark = [pytest.mark.ui, pytest.mark.slow]


def open_form(page: Any, ui: UiServer, stream: str) -> None:
    login(page, ui, hash_="#/streams")
    page.click(f"button[aria-label='Edit {stream}']")
    page.click("form.stream-form summary:has-text('Video details and detection')")


def test_motion_settings_schedule_and_trigger_source_are_saved(ui: UiServer, page: Any) -> None:
    ui.testdb.add_stream("gate", enabled=False)
    ui.testdb.add_stream("drive", enabled=False)
    open_form(page, ui, "gate")
    page.select_option("select[name=detection_model]", "motion")
    page.fill("input[name=motion_sensitivity]", "0.7")
    page.fill("input[name=motion_min_area]", "0.05")
    page.fill("input[name=motion_cooldown]", "12")
    page.fill("input[name=detection_interval]", "2")
    page.select_option("select[name=motion_trigger_source]", "drive")
    page.click("form.stream-form .toggle:has-text('Decode every frame')")
    # the detection grid is its own: these two hours off, the recording schedule untouched
    page.click("button[aria-label='Detection Sun 03:00']")
    page.click("button[aria-label='Detection Mon 14:00']")
    page.locator("fieldset:has(legend:text('Detection schedule'))").scroll_into_view_if_needed()
    shot(page, "stream-motion-settings")
    assert not axe_serious(page)
    page.click("form.stream-form button[type=submit]")
    page.wait_for_selector("dialog.modal", state="detached")
    s = ui.admin.get("/api/streams/gate").json
    assert s["detection_model"] == "motion"
    assert s["motion_sensitivity"] == pytest.approx(0.7)
    assert s["motion_min_area"] == pytest.approx(0.05)
    assert s["motion_cooldown"] == 12 and s["detection_interval"] == 2
    assert s["motion_trigger_source"] == "drive" and s["detection_every_frame"] is True
    sched = s["detection_schedule"]
    assert len(sched) == 168 and sum(sched) == 166
    assert not sched[0 * 24 + 3] and not sched[1 * 24 + 14] and sched[1 * 24 + 13]
    assert all(s["recording_schedule"])


def test_zone_drawn_in_the_editor_is_what_the_api_returns(ui: UiServer, page: Any) -> None:
    ui.testdb.add_stream("yard", enabled=False)
    open_form(page, ui, "yard")
    # a quad in the right half, clicked at known fractions of the picture
    corners = [(0.55, 0.10), (0.95, 0.10), (0.95, 0.90), (0.55, 0.90)]
    draw_zone(page, corners)
    page.fill("input[name=zone-name-0]", "Right half")
    page.select_option("select[name=zone-type-0]", "exclude")
    shot(page, "zone-editor")
    assert not axe_serious(page)
    page.click("button:has-text('Save zones')")
    page.wait_for_selector("text=Zones of yard saved")
    zones = ui.admin.get("/api/streams/yard/zones").json["zones"]
    assert len(zones) == 1
    z = zones[0]
    assert z["name"] == "Right half" and z["type"] == "exclude" and z["enabled"] is True
    got = [(p["x"], p["y"]) for p in z["polygon"]]
    assert len(got) == 4
    for (gx, gy), (fx, fy) in zip(got, corners, strict=True):
        assert gx == pytest.approx(fx, abs=0.01) and gy == pytest.approx(fy, abs=0.01)

    # reopening shows the stored zone; disabling it and saving is stored too
    page.reload()
    page.click("button[aria-label='Edit yard']")
    page.click("form.stream-form summary:has-text('Video details and detection')")
    assert page.input_value("input[name=zone-name-0]") == "Right half"
    page.click("li[data-zone] .toggle:has-text('Enabled')")
    page.click("button:has-text('Save zones')")
    page.wait_for_selector("text=Zones of yard saved")
    zones = ui.admin.get("/api/streams/yard/zones").json["zones"]
    assert zones[0]["enabled"] is False and zones[0]["type"] == "exclude"


def test_review_label_filter_recording_detections_and_timeline_marks(ui: UiServer,
                                                                     page: Any) -> None:
    ui.testdb.add_stream("porchcam", enabled=False)
    day = datetime.date.today()
    midnight = datetime.datetime.combine(day, datetime.time()).timestamp()
    start = float(int(max(midnight + 60, time.time() - 2 * 3600)))
    person = ui.testdb.add_recording("porchcam", start=start, duration=8.0, content=ui.clip,
                                     trigger="detection")
    quiet = ui.testdb.add_recording("porchcam", start=start + 600, duration=8.0, content=ui.clip)
    DetectionsRepo(ui.testdb.db).add_many([
        NewDetection("porchcam", start + 2.0, "person", 0.8, recording_id=person.id),
        NewDetection("porchcam", start + 5.0, "motion", 1.0, recording_id=person.id)])
    login(page, ui, hash_="#/recordings?stream=porchcam")
    page.wait_for_selector(f"tr[data-id='{quiet.id}']")
    page.select_option("select[name=label]", "person")  # offered from detection-labels
    page.wait_for_selector(f"tr[data-id='{quiet.id}']", state="detached")
    assert page.locator(f"tr[data-id='{person.id}']").count() == 1
    assert "label=person" in page.url
    page.click(f"tr[data-id='{person.id}'] button[aria-label='Play recording {person.id}']")
    items = page.locator(".det-list li")
    items.first.wait_for()
    assert [items.nth(i).get_attribute("data-label") for i in range(items.count())] == \
        ["person", "motion"]
    page.click(".det-list button[aria-label^='Play from motion']")
    page.wait_for_function("() => document.querySelector('video.player').currentTime >= 4.5")
    shot(page, "recording-detections")
    assert not axe_serious(page)
    # that day's timeline (after midnight the page's "today" is another day)
    page.goto(ui.base_url + f"/#/timeline?stream=porchcam&day={day.isoformat()}")
    mark = page.locator(".ruler-track[data-stream='porchcam'] .ruler-mark")
    mark.first.wait_for(state="attached")
    assert mark.count() == 1 and mark.first.get_attribute("data-labels") == "person,motion"
    shot(page, "timeline-detection-marks")
