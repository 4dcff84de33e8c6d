"""docs/security.md, "Requests that cost the server": batch ZIP downloads hold a web worker
while they stream, so at most half of `[web] web_thread_pool_size` (and at most 4) may be
unfinished at once; more answer 429 with Retry-After, and a finished download frees its place.

The per-user limit (2) is tests/security/test_request_costs.py; this is the server-wide one,
against the real web app over HTTP with a real recording file.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable

from tests.fixtures.web import LiveWeb


def test_zip_streams_take_at_most_half_the_web_workers(
        web_factory: Callable[..., LiveWeb]) -> None:
    web = web_factory(web={"web_thread_pool_size": 4})  # half: 2 ZIPs at a time
    web.add_stream("cam")
    rid = web.add_recording("cam", time.time() - 3600, seconds=2)
    # one job each, so the per-user limit (2) never applies
    users = [web.make_user(f"zip{i}", role=2) for i in range(3)]
    tokens = []
    for u in users[:2]:
        r = u.post("/api/recordings/batch-download", json={"ids": [rid]})
        assert r.status == 202, r.text
        tokens.append(r.json["token"])
    r = users[2].post("/api/recordings/batch-download", json={"ids": [rid]})
    assert r.status == 429 and "too many" in r.json["error"], r.text
    assert r.headers.get("retry-after")

    done = users[0].get(f"/api/recordings/batch-download/result/{tokens[0]}")
    assert done.status == 200 and zipfile.ZipFile(io.BytesIO(done.body)).namelist()
    r = users[2].post("/api/recordings/batch-download", json={"ids": [rid]})
    assert r.status == 202, r.text  # the finished download freed its place
