"""go2rtc's HTTP API on 127.0.0.1, as we use it: is it up, and the WebRTC SDP offer/answer."""

from __future__ import annotations

import http.client
import urllib.parse
from dataclasses import dataclass

from lightnvr.video.go2rtc.config import BASE_PATH

SDP_TYPE = "application/sdp"
# go2rtc answers an offer only once it has the camera's tracks, which can take a camera's
# whole RTSP handshake; LightNVR's UI waits about as long.
OFFER_TIMEOUT_SECONDS = 15.0


class Go2rtcUnavailable(Exception):
    """go2rtc's API could not be reached or did not answer in time; str() says which."""


@dataclass(frozen=True, slots=True)
class ApiAnswer:
    """go2rtc's answer as it came: status, body and Content-Type."""

    status: int
    body: bytes
    content_type: str


def request(port: int, method: str, path: str, body: bytes | None = None,
            content_type: str = "", timeout: float = 2.0) -> ApiAnswer:
    """One request to go2rtc's API on 127.0.0.1:`port`; `path` is below its base path
    (e.g. "/api/streams"). Raises Go2rtcUnavailable when nothing answers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": content_type} if content_type else {}
    try:
        conn.request(method, BASE_PATH + path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        return ApiAnswer(resp.status, data, resp.getheader("Content-Type") or "")
    except (OSError, http.client.HTTPException) as e:
        raise Go2rtcUnavailable(f"go2rtc API on 127.0.0.1:{port} did not answer: {e}") from None
    finally:
        conn.close()


def alive(port: int, timeout: float = 1.0) -> bool:
    """True when go2rtc's API answers `GET /api` with 200."""
    try:
        return request(port, "GET", "/api", timeout=timeout).status == 200
    except Go2rtcUnavailable:
        return False


def webrtc_offer(port: int, src: str, offer: bytes, content_type: str = SDP_TYPE,
                 timeout: float = OFFER_TIMEOUT_SECONDS) -> ApiAnswer:
    """POST the browser's offer to go2rtc's `/api/webrtc?src=NAME`; go2rtc takes a raw SDP
    (application/sdp, answered with a raw SDP) or its JSON form ({"type", "sdp"})."""
    query = urllib.parse.urlencode({"src": src})
    return request(port, "POST", f"/api/webrtc?{query}", offer, content_type, timeout)
