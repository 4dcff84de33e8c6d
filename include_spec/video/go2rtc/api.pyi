# go2rtc's HTTP API on 127.0.0.1 (lightnvr/video/go2rtc/api.py): health and the WebRTC offer.
SDP_TYPE: str
OFFER_TIMEOUT_SECONDS: float

class Go2rtcUnavailable(Exception): ...   # str() says why (not answering, not running)

class ApiAnswer:
    status: int
    body: bytes
    content_type: str

def request(port: int, method: str, path: str, body: bytes | None = None,
            content_type: str = "", timeout: float = 2.0) -> ApiAnswer: ...
def alive(port: int, timeout: float = 1.0) -> bool: ...
def webrtc_offer(port: int, src: str, offer: bytes, content_type: str = ...,
                 timeout: float = ...) -> ApiAnswer: ...
