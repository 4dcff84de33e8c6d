"""Benchmark: what live view costs the daemon, MSE (WebSocket fMP4) beside HLS and recording.

    .venv/bin/python tools/bench_live.py [--streams 1,4] [--warmup 4] [--window 10]

For each N it starts the daemon (`lightnvr -c CONF`) with N streams recording the test
camera's `live264` mount (H.264 + AAC, 640x360@15) and measures the daemon's CPU (% of one
core) and memory (RSS, USS) over `--window` seconds in these modes, one after the other:
`no-live` (recording only: `streaming_enabled` off), `record` (+ the HLS writer every stream
with live view runs, no viewer), `hls-1` (one viewer per stream polling the playlist and
fetching each new segment, as hls.js does), `mse-1` and `mse-4` (one / four WebSocket viewers
per stream reading the fMP4 feed). Design targets (issue #13): MSE for a stream costs no more
than its HLS, each extra viewer <= 0.5 % of a core and <= 1 MiB. It measures and asserts
nothing; the machine's load average is printed beside the figures (they mean little on a busy
machine). Not part of `make bench` yet.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.fixtures.camera import TestCamera  # noqa: E402
from tests.fixtures.daemon import DaemonProcess, start_daemon  # noqa: E402
from tests.video.live_ws import LiveClient  # noqa: E402


class Viewers:
    """Viewer threads of one mode; `stop()` ends them."""

    def __init__(self) -> None:
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []

    def add(self, target: Any, *args: Any) -> None:
        t = threading.Thread(target=target, args=(self.stop_event, *args), daemon=True,
                             name=f"bench:viewer-{len(self.threads)}")
        self.threads.append(t)
        t.start()

    def stop(self) -> None:
        self.stop_event.set()
        for t in self.threads:
            t.join(10)


def mse_viewer(stop: threading.Event, d: DaemonProcess, stream: str) -> None:
    with LiveClient(d.port, stream, auth=d.auth) as c:
        while not stop.is_set() and not c.closed:
            c.pump(0.5)
            c.messages.clear()  # read and forget, as a player appends and trims


def hls_viewer(stop: threading.Event, d: DaemonProcess, stream: str) -> None:
    auth = {"Authorization": "Basic " + base64.b64encode(
        f"admin:{d.password}".encode()).decode()}
    seen: set[str] = set()
    while not stop.wait(1.0):
        conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10)
        try:
            conn.request("GET", f"/hls/{stream}/index.m3u8", headers=auth)
            resp = conn.getresponse()
            body = resp.read().decode(errors="replace")
            if resp.status != 200:
                continue
            for line in body.splitlines():
                name = line.split('URI="')[-1].rstrip('"') if "URI=" in line else line
                if (line.startswith("#") and "URI=" not in line) or not name or name in seen:
                    continue
                seen.add(name)
                conn.request("GET", f"/hls/{stream}/{name}", headers=auth)
                conn.getresponse().read()
        except OSError:
            pass
        finally:
            conn.close()


def measure(proc: psutil.Process, warmup: float, window: float) -> tuple[float, float, float]:
    """(% of one core, RSS MiB, USS MiB) of the daemon over `window` after `warmup`."""
    time.sleep(warmup)
    t0, c0 = time.monotonic(), sum(proc.cpu_times()[:2])
    time.sleep(window)
    t1, c1 = time.monotonic(), sum(proc.cpu_times()[:2])
    mem = proc.memory_full_info()
    return 100 * (c1 - c0) / (t1 - t0), mem.rss / 2**20, mem.uss / 2**20


def run(n: int, camera: TestCamera, warmup: float, window: float) -> list[tuple[str, Any]]:
    base = Path(tempfile.mkdtemp(prefix="bench-live-"))
    d = start_daemon(base)
    rows: list[tuple[str, Any]] = []
    try:
        names = [f"cam{i}" for i in range(n)]
        for name in names:
            d.call("POST", "/api/streams", {"name": name, "url": camera.url("live264"),
                                            "segment_duration": 900})
        proc = psutil.Process(d.proc.pid)
        # first without live view at all (streaming_enabled off: no HLS writer either)
        for name in names:
            d.call("PUT", f"/api/streams/{name}", {"name": name, "url": camera.url("live264"),
                                                   "segment_duration": 900,
                                                   "streaming_enabled": False})
        rows.append(("no-live", measure(proc, warmup + 2, window)))
        for name in names:
            d.call("PUT", f"/api/streams/{name}", {"name": name, "url": camera.url("live264"),
                                                   "segment_duration": 900,
                                                   "streaming_enabled": True})
        time.sleep(2)
        for mode, target, per in (("record", None, 0), ("hls-1", hls_viewer, 1),
                                  ("mse-1", mse_viewer, 1), ("mse-4", mse_viewer, 4)):
            viewers = Viewers()
            for name in names:
                for _ in range(per):
                    viewers.add(target, d, name)
            try:
                rows.append((mode, measure(proc, warmup, window)))
            finally:
                viewers.stop()
    finally:
        d.stop()
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--streams", default="1,4")
    ap.add_argument("--warmup", type=float, default=4.0)
    ap.add_argument("--window", type=float, default=10.0)
    args = ap.parse_args(argv)
    media = Path(os.environ.get("LIGHTNVR_TEST_MEDIA", ROOT / ".cache" / "test-media"))
    camera = TestCamera(media)
    camera.start()
    try:
        print(f"load average before: {os.getloadavg()[0]:.2f}")
        for n in (int(x) for x in args.streams.split(",")):
            rows = run(n, camera, args.warmup, args.window)
            base = dict(rows)["no-live"]
            print(f"\n{n} stream(s) of live264 (640x360@15 + AAC), recording:")
            print(f"  {'mode':8} {'CPU %':>7} {'RSS MiB':>8} {'USS MiB':>8} "
                  f"{'+CPU %/stream':>14} {'+USS MiB/stream':>16}")
            for mode, (cpu, rss, uss) in rows:
                print(f"  {mode:8} {cpu:7.1f} {rss:8.1f} {uss:8.1f} "
                      f"{(cpu - base[0]) / n:14.2f} {(uss - base[2]) / n:16.2f}")
            mse1, mse4 = dict(rows)["mse-1"], dict(rows)["mse-4"]
            hls, rec = dict(rows)["hls-1"], dict(rows)["record"]
            print(f"  live view per stream over recording only: HLS (writer + 1 viewer) "
                  f"{(hls[0] - base[0]) / n:.2f} %, MSE (HLS writer + muxer + 1 viewer) "
                  f"{(mse1[0] - base[0]) / n:.2f} %, the MSE part alone "
                  f"{(mse1[0] - rec[0]) / n:.2f} %")
            print(f"  each extra MSE viewer: {(mse4[0] - mse1[0]) / (3 * n):.2f} % of a core, "
                  f"{(mse4[2] - mse1[2]) / (3 * n):.2f} MiB (targets 0.5 %, 1 MiB)")
        print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    finally:
        camera.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
