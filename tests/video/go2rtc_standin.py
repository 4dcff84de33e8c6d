"""A stand-in for the go2rtc binary where the real one cannot be had (its npm package
downloads it at install time; docs/go2rtc.md): `go2rtc_standin.py -config FILE`.

It does only what go2rtc does that our supervisor and proxy rely on, so the tests of *our*
supervision (start, kill, restart, reconfigure, stop) and proxying run everywhere:
  - reads FILE as YAML (as go2rtc does) and serves its API on `api.listen` under
    `api.base_path`: `GET /api` (version), `GET /api/streams` (the configured streams and
    their sources), `POST /api/webrtc?src=NAME` (404 for an unknown stream, otherwise an
    `application/sdp` body naming the stream and the offer's length, after 3 s for a stream
    whose name starts with "slow" — not a usable answer:
    real WebRTC is tested with the real go2rtc in tests/ui/test_webrtc_play.py);
  - runs on without an API when its API port is taken, as go2rtc does;
  - exits when its parent dies, so a killed test daemon leaves nothing behind.
Real go2rtc does much more; nothing here decides whether our code is right beyond reporting
what it was given.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml


def main() -> None:
    args = sys.argv[1:]
    path = args[args.index("-config") + 1]
    with open(path, encoding="utf-8") as fh:
        conf = yaml.safe_load(fh)
    host, _, port = conf["api"]["listen"].rpartition(":")
    base = conf["api"].get("base_path", "")
    streams: dict[str, list[str]] = conf.get("streams") or {}

    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            if url.path == base + "/api":
                self._send(200, b'{"version": "standin"}', "application/json")
            elif url.path == base + "/api/streams":
                out = {n: {"producers": [{"url": s} for s in srcs]} for n, srcs in
                       streams.items()}
                self._send(200, json.dumps(out).encode(), "application/json")
            else:
                self._send(404, b"404 page not found", "text/plain")

        def do_POST(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            offer = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            src = urllib.parse.parse_qs(url.query).get("src", [""])[0]
            if url.path != base + "/api/webrtc":
                self._send(404, b"404 page not found", "text/plain")
            elif src not in streams:
                self._send(404, b"stream not found", "text/plain")
            else:
                if src.startswith("slow"):  # a camera that takes its time to answer go2rtc
                    threading.Event().wait(3.0)
                answer = f"v=0\r\ns=standin {src}\r\na=offer-bytes:{len(offer)}\r\n"
                self._send(200, answer.encode(), "application/sdp")

        def log_message(self, format: str, *args: object) -> None:
            print("standin:", format % args, flush=True)

    parent = os.getppid()
    try:
        server = ThreadingHTTPServer((host or "0.0.0.0", int(port)), Handler)
    except OSError as e:
        # go2rtc logs "[api] listen" and runs on without its API; so does the stand-in
        print(f"standin go2rtc: [api] listen error: {e}", flush=True)
        while os.getppid() == parent:
            threading.Event().wait(0.5)
        return

    def orphaned() -> None:
        tick = threading.Event()  # never set: it only paces the check
        while not tick.wait(0.5):
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=orphaned, daemon=True).start()
    print(f"standin go2rtc: API on {host}:{port}{base}, streams: {sorted(streams)}",
          flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
