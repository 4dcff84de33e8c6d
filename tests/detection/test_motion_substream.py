"""Detection on the sub-stream: the detector watches `sub_stream_url` through its own reader,
while the main stream is what gets recorded. Real daemon, camera and SQLite.

The main stream shows a still scene and the sub-stream a moving one, so any motion event
can only come from the sub-stream, and the clips it triggers must be the main stream's.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import av
import pytest

from tests.detection.daemon_db import db_rows, detection_event_count
from tests.fixtures.camera import TestCamera
from tests.fixtures.daemon import DaemonProcess
from tests.video.helpers import wait_until

pytestmark = [pytest.mark.camera, pytest.mark.slow]



def test_detection_runs_on_the_sub_stream_and_records_the_main_stream(
        daemon_factory: Any, rtsp_camera: TestCamera) -> None:
    d: DaemonProcess = daemon_factory()
    status, body = d.call("POST", "/api/streams", {
        "name": "cam", "url": rtsp_camera.url("still264"),
        # credentials in the sub-stream URL (the test camera ignores them): never logged
        "sub_stream_url": rtsp_camera.url("moving264").replace("rtsp://",
                                                               "rtsp://viewer:s3cret-sub@"),
        "record": False,
        "streaming_enabled": False, "detection_based_recording": True,
        "detection_model": "motion", "detection_interval": 2, "pre_detection_buffer": 1,
        "post_detection_buffer": 1})
    assert status in (200, 201), body
    assert wait_until(lambda: detection_event_count(d, "cam") >= 2, 25), d.log_tail()
    # Switched back to the main stream (no restart): it is still, so events stop.
    status, body = d.call("PUT", "/api/streams/cam", {"sub_stream_url": ""})
    assert status == 200 and b'"restarted":false' in body, body
    threading.Event().wait(2.5)  # the sub reader's last frames
    settled = detection_event_count(d, "cam")
    threading.Event().wait(6.5)  # three more looks at the main stream
    assert detection_event_count(d, "cam") == settled, "the main stream is still: no motion there"
    assert d.json("/api/streams/cam")["detection"]["state"] == "running"
    assert d.stop() == 0
    assert "reader:cam/sub started" in d.log_tail(200_000), "detection ran on its own reader"
    assert "s3cret-sub" not in d.log_tail(10_000_000), "the sub-stream password was logged"
    rows = db_rows(d, "SELECT stream_name, trigger_type, file_path FROM recordings "
                      "WHERE is_complete = 1")
    assert rows and {r[0] for r in rows} == {"cam"} and {r[1] for r in rows} == {"detection"}
    # The clip is the main stream's picture: the still scene, so no two decoded frames of it
    # differ the way the moving ball makes them differ.
    with av.open(str(Path(d.base / "rec") / rows[0][2])) as c:
        frames = [f.to_ndarray(format="gray").astype(int) for f in c.decode(video=0)]
    assert len(frames) > 15
    worst = max(abs(a - frames[0]).mean() for a in frames[1:])
    assert worst < 8, worst
