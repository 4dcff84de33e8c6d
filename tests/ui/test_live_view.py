"""Live view in headless Chromium against the real daemon and the real RTSP test camera.

Glass-to-glass latency: the camera's `levels264` mount steps its gray level by the wall clock
(tools/test_camera.py LEVEL_PERIOD, LEVELS, LEVEL_STEP); the page samples a tile's <video>
through a canvas and, at each level change it sees, computes how long ago the camera switched
to that level. 20 samples per mode, MSE then HLS, 4 tiles live. Then 16 sub-stream tiles play
while /api/health keeps answering; closing the page frees every viewer; a camera outage shows
"reconnecting" and the tile resumes by itself.

One daemon for the module: 16 streams on `levels264` (sub-stream: the same mount), recording
off, so the camera encodes one small picture however many readers.
"""

from __future__ import annotations

import http.client
import statistics
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fixtures.daemon import DaemonProcess, start_daemon
from tests.fixtures.wait import wait_until
from tests.ui.conftest import WWW, new_page

pytestmark = [pytest.mark.ui, pytest.mark.camera, pytest.mark.slow]

LEVEL_PERIOD, LEVELS, LEVEL_STEP = 1.0, 12, 23  # tools/test_camera.py's levels264 scene
SAMPLES = 20
NAMES = [f"cam{i:02d}" for i in range(1, 17)]

# Resolves with the latencies (s) of the first `want` level changes seen in `selector`.
SAMPLER = """
({selector, want, period, levels, step, timeout}) => new Promise((resolve) => {
  const c = document.createElement('canvas'); c.width = 16; c.height = 9;
  const g = c.getContext('2d', { willReadFrequently: true });
  let last = null; const out = []; const t0 = Date.now();
  const tick = () => {
    const v = document.querySelector(selector);
    if (v && v.readyState >= 2) {
      g.drawImage(v, 0, 0, 16, 9);
      const d = g.getImageData(8, 4, 1, 1).data;
      const gray = (d[0] + d[1] + d[2]) / 3;
      const lvl = Math.round(gray / step);
      if (lvl < levels && Math.abs(gray - lvl * step) < step / 3) {
        if (last !== null && lvl !== last) {
          const now = Date.now() / 1000;
          let m = Math.floor(now / period);
          while (((m % levels) + levels) % levels !== lvl) m -= 1;
          out.push(now - m * period);
        }
        last = lvl;
      }
    }
    if (out.length >= want || Date.now() - t0 > timeout) resolve(out);
    else setTimeout(tick, 10);
  };
  tick();
})
"""


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory, rtsp_camera: Any) -> Iterator[DaemonProcess]:
    d = start_daemon(tmp_path_factory.mktemp("liveui") / "d", {"web": {"root": str(WWW)}})
    try:
        url = rtsp_camera.url("levels264")
        for name in NAMES:
            status, body = d.call("POST", "/api/streams", {
                "name": name, "url": url, "sub_stream_url": url, "record": False})
            assert status in (200, 201), body
        assert wait_until(lambda: all(d.json(f"/api/streams/{n}")["state"] == "active"
                                      for n in NAMES), 60), d.log_tail()
        yield d
    finally:
        assert d.stop() == 0, d.log_tail()


def _open_live(chromium: Any, d: DaemonProcess, layout: int) -> Any:
    page = new_page(chromium)
    page.add_init_script(f"localStorage.setItem('lightnvr.layout', '{layout}');")
    page.goto(f"http://127.0.0.1:{d.port}/#/live")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", d.password)
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('Live')")
    return page


def _tile(name: str) -> str:
    return f"article.tile[data-stream='{name}']"


def _playing(page: Any, names: list[str]) -> bool:
    """Every named tile's video has a picture and is advancing."""
    return set(_playing_now(page, names)) == set(names)


def _playing_now(page: Any, names: list[str]) -> list[str]:
    """The named tiles whose video has a picture and plays at this instant."""
    playing: list[str] = page.evaluate("""(names) => names.filter((n) => {
        const v = document.querySelector(`article.tile[data-stream='${n}'] video`);
        return v && v.readyState >= 2 && !v.paused && v.currentTime > 0; })""", names)
    return playing


def _video_times(page: Any, names: list[str]) -> dict[str, float]:
    times: dict[str, float] = page.evaluate("""(names) => Object.fromEntries(names.map((n) =>
        [n, document.querySelector(`article.tile[data-stream='${n}'] video`)?.currentTime ?? -1]))
        """, names)
    return times


def _tile_states(page: Any, names: list[str]) -> dict[str, Any]:
    """What each named tile's video is doing (for a failure message)."""
    states: dict[str, Any] = page.evaluate("""(names) => Object.fromEntries(names.map((n) => {
        const v = document.querySelector(`article.tile[data-stream='${n}'] video`);
        return [n, v ? [v.readyState, v.paused, v.currentTime, v.dataset.liveState || '']
                     : null]; }))""", names)
    return states


def _latencies(page: Any, name: str) -> list[float]:
    values: list[float] = page.evaluate(SAMPLER, {
        "selector": f"{_tile(name)} video", "want": SAMPLES, "period": LEVEL_PERIOD,
        "levels": LEVELS, "step": LEVEL_STEP, "timeout": 60000})
    return values


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def test_mse_latency_with_hls_beside_it(daemon: DaemonProcess, chromium: Any) -> None:
    page = _open_live(chromium, daemon, 4)
    try:
        page.select_option("select[aria-label='Live view mode']", "mse")
        first = NAMES[:4]
        assert wait_until(lambda: _playing(page, first), 30), "4 MSE tiles must play"
        assert page.locator(f"{_tile(first[0])} .live-kind").get_attribute("data-kind") == "mse"
        mse = _latencies(page, first[0])
        page.select_option("select[aria-label='Live view mode']", "hls")
        assert page.locator(f"{_tile(first[0])} .live-kind").get_attribute("data-kind") == "hls"
        assert wait_until(lambda: _playing(page, first[:1]), 40), "HLS must play too"
        hls = _latencies(page, first[0])
        problems = list(page.problems)
    finally:
        page.context.close()
    print(f"\nglass-to-glass latency, 4 streams live, {len(mse)} MSE / {len(hls)} HLS samples:"
          f"\n  MSE p50 {_p(mse, 50):.2f} s p95 {_p(mse, 95):.2f} s max {max(mse):.2f} s"
          f"\n  HLS p50 {_p(hls, 50):.2f} s p95 {_p(hls, 95):.2f} s max {max(hls):.2f} s")
    assert len(mse) >= SAMPLES and len(hls) >= SAMPLES
    assert _p(mse, 50) <= 1.0 and _p(mse, 95) <= 1.5, sorted(mse)
    assert not problems, problems


def _health_times(port: int, stop: threading.Event, out: list[float]) -> None:
    while not stop.wait(0.25):
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", "/api/health")
            assert conn.getresponse().status == 200
        finally:
            conn.close()
        out.append(time.monotonic() - started)


def test_sixteen_sub_stream_tiles_play_api_answers_and_closing_frees(
        daemon: DaemonProcess, chromium: Any) -> None:
    page = _open_live(chromium, daemon, 16)
    times: list[float] = []
    stop = threading.Event()
    prober = threading.Thread(target=_health_times, args=(daemon.port, stop, times),
                              name="test:health-probe")
    try:
        page.select_option("select[aria-label='Live view mode']", "mse")
        prober.start()
        # Each tile is seen playing, not all sixteen at one instant: sixteen decoders on a
        # loaded machine fall behind, a tile that does jumps to the live edge (mse_player.js
        # keepLive) and has no picture until it decodes there, so "all at once" may never
        # come: a full run waited 60 s for it with every feed flowing. That each tile then
        # keeps advancing is checked below, per tile.
        seen: set[str] = set()

        def all_seen() -> bool:
            seen.update(_playing_now(page, NAMES))
            return len(seen) == len(NAMES)

        assert wait_until(all_seen, 60), (sorted(set(NAMES) - seen), _tile_states(
            page, NAMES), daemon.json("/api/live/status"))
        status = daemon.json("/api/live/status")
        assert status["sockets"] == 16
        # grid tiles are fed from the sub-stream
        assert status["feeds"] == {f"{n}/sub": 1 for n in NAMES}, status
        before = _video_times(page, NAMES)
        page.wait_for_timeout(3000)  # keep playing while the API is probed
        after = _video_times(page, NAMES)
        stuck = [n for n in NAMES if not after[n] > before[n] > 0]
        assert not stuck, (stuck, before, after, _tile_states(page, NAMES))
        problems = list(page.problems)
    finally:
        stop.set()
        page.context.close()
        if prober.is_alive():
            prober.join(15)
    assert wait_until(lambda: daemon.json("/api/live/status") == {
        "available": True, "sockets": 0, "feeds": {}}, 15), daemon.json("/api/live/status")
    worst = max(times)
    print(f"\n/api/health with 16 MSE tiles playing: {len(times)} probes, "
          f"p50 {statistics.median(times) * 1000:.0f} ms, max {worst * 1000:.0f} ms")
    assert len(times) > 10
    assert worst < 1.0, sorted(times)[-5:]  # the 200 ms: see the printed figures
    assert statistics.median(times) < 0.2
    assert not problems, problems


def test_camera_outage_shows_reconnecting_and_resumes(daemon: DaemonProcess, chromium: Any,
                                                      rtsp_camera: Any) -> None:
    page = _open_live(chromium, daemon, 1)
    tile = _tile(NAMES[0])
    try:
        page.select_option("select[aria-label='Live view mode']", "mse")
        assert wait_until(lambda: _playing(page, NAMES[:1]), 30)
        rtsp_camera.stop()
        try:
            page.wait_for_selector(f"{tile} :text-matches('reconnecting', 'i')", timeout=20000)
        finally:
            rtsp_camera.start()
        assert wait_until(lambda: _playing(page, NAMES[:1])
                          and page.locator(f"{tile} video").get_attribute("data-live-state")
                          == "playing", 40), daemon.log_tail()
        t0 = page.evaluate(f"document.querySelector(\"{tile} video\").currentTime")
        page.wait_for_timeout(2000)
        t1 = page.evaluate(f"document.querySelector(\"{tile} video\").currentTime")
        assert t1 - t0 > 1.0, (t0, t1)
        problems = [p for p in page.problems if "WebSocket" not in p]
    finally:
        page.context.close()
    assert not problems, problems
