"""LightNVR's HTTP detection API as an engine (`detection_model = api-detection`, or a URL).

The protocol is LightNVR's (src/video/api_detection.c; its companion service is
light-object-detect): the frame is POSTed as a JPEG in the multipart field `file` to
`<url>?backend=<b>&confidence_threshold=<t>&return_image=false` and the answer is
`{"detections": [{"label", "confidence", "bounding_box": {"x_min", "y_min", "x_max",
"y_max"}, "track_id"?}]}`; the box keys may also stand in the detection itself. Coordinates
are normalised to the picture (0..1); answers in pixels of the sent picture (any coordinate
above 1.5) are normalised here. Detections that are not well-formed are skipped, as LightNVR
does. Credentials in the URL are sent as HTTP Basic auth and never shown (status, logs and
the models list carry the URL with its password masked).

A slow or absent service must never hold anything but its own detector thread: requests have
short time-outs (below the shutdown deadline of a phase, so stopping a stream never waits
for a hung service), and after a failure the engine backs off (1 s doubling to 30 s) and
answers `ServiceUnavailable` at once until then, without touching the network. The back-off
is the engine's, shared by every stream that uses the same URL.
"""

from __future__ import annotations

import json
import re
import threading
import time
from fractions import Fraction
from typing import Any

import numpy as np

from lightnvr.core.redact import redact_url
from lightnvr.video.avcompat import set_fixed_quantizer
from lightnvr.video.detection.engine import Letterbox, ModelInfo, ObjectBox, Rgb

API_MODEL = "api-detection"  # LightNVR's detection_model value for [api_detection] url
CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 3.0
BACKOFF_INITIAL = 1.0
BACKOFF_MAX = 30.0
MAX_DETECTIONS = 100
JPEG_QUALITY = 5  # mjpeg qscale (2 best .. 31)
MAX_WIDTH = 1280  # the picture sent is at most this wide (LightNVR sends the decoded frame)
_BACKEND = re.compile(r"^[A-Za-z0-9_-]+$")
_BOX_KEYS = ("x_min", "y_min", "x_max", "y_max")


class ServiceUnavailable(Exception):
    """The service did not answer usably this time (down, slow, bad answer, backing off)."""


def is_api_model(detection_model: str) -> bool:
    """True when a stream's detection_model selects the HTTP API engine."""
    m = detection_model.strip().lower()
    return m == API_MODEL or m.startswith(("http://", "https://"))


def request_url(base: str, backend: str, threshold: float) -> str:
    """`base` with LightNVR's query (an invalid backend name becomes "onnx", as LightNVR)."""
    backend = backend if backend and _BACKEND.match(backend) else "onnx"
    t = threshold if threshold > 0 else 0.5
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}backend={backend}&confidence_threshold={t:.2f}&return_image=false"


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def parse_detections(body: bytes, width: int, height: int) -> list[ObjectBox]:
    """The detections of a service's answer, boxes normalised; ServiceUnavailable when the
    answer is not JSON with a `detections` array."""
    try:
        doc = json.loads(body)
    except ValueError as e:
        raise ServiceUnavailable(f"the answer is not JSON ({e})") from e
    dets = doc.get("detections") if isinstance(doc, dict) else None
    if not isinstance(dets, list):
        raise ServiceUnavailable("the answer has no 'detections' array")
    out: list[ObjectBox] = []
    for d in dets[:MAX_DETECTIONS]:
        if not isinstance(d, dict):
            continue
        nested = d.get("bounding_box")
        src: dict[str, Any] = nested if isinstance(nested, dict) else d
        coords: list[Any] = [src.get(k) for k in _BOX_KEYS]
        label: Any = d.get("label")
        conf: Any = d.get("confidence")
        if not isinstance(label, str) or not _number(conf) or not all(map(_number, coords)):
            continue
        x1, y1, x2, y2 = (float(c) for c in coords)
        if max(abs(x1), abs(y1), abs(x2), abs(y2)) > 1.5:  # pixels of the picture sent
            x1, x2, y1, y2 = x1 / width, x2 / width, y1 / height, y2 / height
        x1, y1 = min(1.0, max(0.0, x1)), min(1.0, max(0.0, y1))
        x2, y2 = min(1.0, max(0.0, x2)), min(1.0, max(0.0, y2))
        track: Any = d.get("track_id")
        out.append(ObjectBox(label, round(float(conf), 4), round(x1, 4), round(y1, 4),
                             round(max(0.0, x2 - x1), 4), round(max(0.0, y2 - y1), 4),
                             int(track) if _number(track) else -1))
    return out


def encode_jpeg(rgb: Rgb) -> bytes:
    """`rgb` as a JPEG (FFmpeg's mjpeg encoder: no imaging library)."""
    import av

    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    frame = frame.reformat(format="yuvj420p")
    enc: Any = av.CodecContext.create("mjpeg", "w")
    enc.width, enc.height = frame.width, frame.height
    enc.pix_fmt = "yuvj420p"
    enc.time_base = Fraction(1, 25)
    enc.thread_count = 1
    set_fixed_quantizer(enc, JPEG_QUALITY)
    return b"".join(bytes(p) for p in [*enc.encode(frame), *enc.encode(None)])


class ApiEngine:
    """See the module doc. Thread-safe (urllib3's pool; the back-off state under a lock)."""

    def __init__(self, url: str, backend: str = "onnx", connect_timeout: float = CONNECT_TIMEOUT,
                 read_timeout: float = READ_TIMEOUT) -> None:
        import urllib3

        parsed = urllib3.util.parse_url(url)
        # credentials in the URL go as HTTP Basic auth (curl, which LightNVR uses, does so)
        self._headers = urllib3.make_headers(basic_auth=parsed.auth) if parsed.auth else {}
        self.url = parsed._replace(auth=None).url
        self.backend = backend
        self.info = ModelInfo(API_MODEL, redact_url(url), "api")
        self._http = urllib3.PoolManager(
            num_pools=2, maxsize=4, retries=False,
            timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout))
        self._lock = threading.Lock()
        self._failures = 0
        self._retry_at = 0.0
        self.last_error = ""
        self.requests = 0

    @property
    def input_size(self) -> tuple[int, int]:
        return 0, 0

    def _backing_off(self) -> float:
        with self._lock:
            return max(0.0, self._retry_at - time.monotonic())

    def _failed(self, why: str) -> ServiceUnavailable:
        with self._lock:
            self._failures += 1
            delay = min(BACKOFF_MAX, BACKOFF_INITIAL * 2 ** (self._failures - 1))
            self._retry_at = time.monotonic() + delay
            self.last_error = f"detection API {self.info.path}: {why}; next try in {delay:.0f} s"
            return ServiceUnavailable(self.last_error)

    def detect(self, rgb: Rgb, threshold: float, box: Letterbox) -> list[ObjectBox]:
        wait = self._backing_off()
        if wait > 0:
            raise ServiceUnavailable(f"{self.last_error} (backing off, {wait:.0f} s left)")
        import urllib3

        jpeg = encode_jpeg(rgb)
        self.requests += 1
        try:
            r = self._http.request(
                "POST", request_url(self.url, self.backend, threshold),
                fields={"file": ("snapshot.jpg", jpeg, "image/jpeg")}, headers=self._headers,
                preload_content=True)
        except urllib3.exceptions.HTTPError as e:
            raise self._failed(f"no answer ({type(e).__name__})") from e
        if r.status != 200:
            raise self._failed(f"HTTP {r.status}")
        try:
            found = parse_detections(r.data, rgb.shape[1], rgb.shape[0])
        except ServiceUnavailable as e:
            raise self._failed(str(e)) from e
        with self._lock:
            self._failures = 0
            self.last_error = ""
        return [o for o in found if o.confidence >= threshold]

    def close(self) -> None:
        self._http.clear()
