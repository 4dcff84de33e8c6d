"""The timeline manifest plays in hls.js in headless Chromium, across recordings.

This is the player the UI uses; the manifest's fMP4 byte ranges and per-recording
`#EXT-X-MAP`s must play through the discontinuity to the end without an hls.js error.
hls.js is loaded from www/node_modules (the UI's own copy) through Playwright routing, so the
page and every media request share the live server's origin and credentials.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.web import LiveWeb

REPO = Path(__file__).resolve().parents[2]
HLS_JS = REPO / "www" / "node_modules" / "hls.js" / "dist" / "hls.js"
T0 = 1_700_000_000.0

PAGE = """<!doctype html><html><body>
<video id="v" muted playsinline></video>
<script src="/__test__/hls.js"></script>
<script>
window.problems = [];
const v = document.getElementById('v');
const hls = new Hls({enableWorker: false});
hls.on(Hls.Events.ERROR, (e, d) => {
  if (d.fatal) window.problems.push(d.type + ':' + d.details);
});
hls.loadSource(__MANIFEST_URL__);
hls.attachMedia(v);
hls.on(Hls.Events.MANIFEST_PARSED, () => { v.playbackRate = 4; v.play(); });
</script></body></html>"""


pytestmark = pytest.mark.api_env(streams=["cam"])


@pytest.mark.ui
@pytest.mark.slow
def test_hlsjs_plays_the_manifest_across_recordings(env: LiveWeb, chromium: Any) -> None:
    if not HLS_JS.exists():
        pytest.fail("needs www/node_modules (make www-deps)")
    for i in range(2):
        env.add_recording("cam", T0 + i * 6)
    base = f"http://127.0.0.1:{env.port}"
    manifest = f"/api/timeline/manifest?stream=cam&start={int(T0)}&end={int(T0 + 12)}"
    ctx = chromium.new_context(extra_http_headers={
        **env.api.credential_headers(), "X-Requested-With": "test"})
    try:
        page = ctx.new_page()
        page.route(f"{base}/__test__/page.html", lambda r: r.fulfill(
            content_type="text/html",
            body=PAGE.replace("__MANIFEST_URL__", repr(manifest))))
        page.route(f"{base}/__test__/hls.js", lambda r: r.fulfill(
            content_type="application/javascript", body=HLS_JS.read_text()))
        page.goto(f"{base}/__test__/page.html")
        page.wait_for_function("() => window.problems.length > 0 || "
                               "document.getElementById('v').ended || "
                               "document.getElementById('v').currentTime > 11.0",
                               timeout=30_000)
        problems = page.evaluate("window.problems")
        t = page.evaluate("document.getElementById('v').currentTime")
        frames = page.evaluate(
            "document.getElementById('v').getVideoPlaybackQuality().totalVideoFrames")
    finally:
        ctx.close()
    assert problems == []
    assert t > 11.0 and frames > 60  # past the second recording's start, frames decoded
