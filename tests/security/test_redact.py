"""`core.redact`: the one function every log line, error text and API answer uses for URLs.

Camera URLs come in many shapes; each case here is one a real camera or NVR user writes.
"""

from __future__ import annotations

import pytest

from lightnvr.core.redact import redact_text, redact_url

SECRET = "S3cr3t"


@pytest.mark.parametrize("url", [
    f"rtsp://admin:{SECRET}@cam.local:554/Streaming/Channels/101",
    f"rtsp://admin:p@{SECRET}@cam/live",  # "@" inside the password
    f"rtsp://admin:a#{SECRET}?x@cam/live",  # "#" and "?" inside the password
    f"rtsp://cam/h264Preview_01_main?user=admin&password={SECRET}",  # Reolink
    f"http://cam/cgi-bin/CGIStream.cgi?cmd=GetMJStream&usr=admin&pwd={SECRET}",  # Foscam
    f"https://cam/stream?access_token={SECRET}&channel=1",
    f"rtsp://cam/live;user=admin;pass={SECRET}",
    f"rtmp://relay/app/stream?auth={SECRET}",
    f"http://det/api?api_key={SECRET}",
    f"otpauth://totp/lightnvr:cam?secret={SECRET}&issuer=lightnvr",  # a TOTP enrolment URI
])
def test_no_form_of_credential_survives(url: str) -> None:
    for shown in (redact_url(url), redact_url(url, keep_user=False), redact_text(f"x '{url}' y")):
        assert SECRET not in shown, shown
        assert "cam" in shown or "relay" in shown or "det" in shown  # still says which one


def test_viewers_get_no_user_name_and_logs_keep_it() -> None:
    url = f"rtsp://admin:{SECRET}@cam/s?user=admin&password={SECRET}&channel=1"
    assert redact_url(url) == "rtsp://admin:***@cam/s?user=admin&password=***&channel=1"
    assert redact_url(url, keep_user=False) == "rtsp://cam/s?user=***&password=***&channel=1"
    assert redact_url("rtsp://cam:554/live?channel=1") == "rtsp://cam:554/live?channel=1"


def test_text_pairs_and_idempotence() -> None:
    text = (f"password={SECRET} mqtt_password: {SECRET} {{'token': '{SECRET}'}} "
            f'{{"secret": "{SECRET}"}} Authorization: Bearer {SECRET}xyz keyframe=1')
    once = redact_text(text)
    assert SECRET not in once and "keyframe=1" in once
    assert redact_text(once) == once
