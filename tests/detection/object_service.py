"""A small real detection service speaking LightNVR's HTTP detection API, for the tests.

It is what LightNVR's companion service (light-object-detect) looks like from the NVR: a POST
with the frame as a JPEG in the multipart field `file` and the query `backend`,
`confidence_threshold`, `return_image`; the answer `{"detections": [{"label", "confidence",
"bounding_box": {"x_min", "y_min", "x_max", "y_max"}}]}` normalised to the picture. Its
"model" is a brightness rule in numpy (independent of the engine under test): the box around
the pixels whose mean of R, G, B is above 0.9 (the `objects264` mount's white ball), label
"ball". `flat=True` answers with the box keys in the detection itself; `pixels=True` answers
pixel coordinates. Every request is remembered (`requests`), `stop()` and `start()` again on
the same port simulate an outage; `hang` set makes it take requests and never answer (until
`stop()`).
"""

from __future__ import annotations

import io
import json
import threading
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import av
import numpy as np

BRIGHT = 0.9 * 255


@dataclass
class Seen:
    path: str
    query: dict[str, list[str]]
    field: str
    filename: str
    content_type: str
    jpeg_size: tuple[int, int]
    authorization: str


def _bright_box(jpeg: bytes) -> tuple[tuple[int, int], tuple[float, float, float, float] | None]:
    with av.open(io.BytesIO(jpeg), "r") as c:
        frame = next(c.decode(video=0))
    rgb = frame.to_ndarray(format="rgb24").astype(np.float32)
    h, w = rgb.shape[:2]
    ys, xs = np.nonzero(rgb.mean(axis=2) > BRIGHT)
    if not len(xs):
        return (w, h), None
    return (w, h), (float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))


@dataclass
class DetectionService:
    flat: bool = False
    pixels: bool = False
    port: int = 0
    requests: list[Seen] = field(default_factory=list)
    hang: threading.Event = field(default_factory=threading.Event)
    _released: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1/detect"

    def start(self) -> DetectionService:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                msg = BytesParser(policy=email_policy).parsebytes(
                    b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n"
                    + body)
                part = next(p for p in msg.iter_parts())
                jpeg = part.get_payload(decode=True)
                assert isinstance(jpeg, bytes)
                size, box = _bright_box(jpeg)
                url = urlsplit(self.path)
                name = part.get_param("name", header="content-disposition")
                service.requests.append(Seen(url.path, parse_qs(url.query), str(name),
                                             part.get_filename() or "",
                                             part.get_content_type(), size,
                                             self.headers.get("Authorization", "")))
                if service.hang.is_set():
                    service._released.wait(60)  # a service that never answers
                    return
                dets = []
                if box is not None:
                    x1, y1, x2, y2 = box
                    if not service.pixels:
                        x1, x2, y1, y2 = x1 / size[0], x2 / size[0], y1 / size[1], y2 / size[1]
                    coords = {"x_min": x1, "y_min": y1, "x_max": x2, "y_max": y2}
                    d: dict[str, Any] = {"label": "ball", "confidence": 0.8, "track_id": 7}
                    if service.flat:
                        d.update(coords)
                    else:
                        d["bounding_box"] = coords
                    dets.append(d)
                out = json.dumps({"detections": dets, "backend": "test"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self._released.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="test:detect-svc",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
