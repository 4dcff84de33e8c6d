"""Run the real web server over a seeded temp database for working on the UI by hand.

    .venv/bin/python -m tests.ui.devserver [PORT]

Serves www/ with the REAL WebApp (tests/fixtures/web.py's build_context: real DB, repos,
storage manager, governor), seeds three streams and a day of short real H.264 recordings, and
prints the admin password. Ctrl-C stops it.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

from lightnvr.web.app import WebApp
from lightnvr.web.server import WebServer
from tests.fixtures.db import TestDb, make_clip, open_testdb
from tests.fixtures.web import ADMIN_PASSWORD, build_context

WWW = str(Path(__file__).resolve().parents[2] / "www")


def seed(testdb: TestDb, clip: bytes, hours: int = 6) -> None:
    """Streams "garage" and "yard" beside "front", and recordings over the last `hours`."""
    testdb.add_stream("garage")
    testdb.add_stream("yard", record=False)
    now = time.time()
    for i in range(hours * 4):
        start = now - hours * 3600 + i * 900
        testdb.add_recording("front", start=start, duration=600, content=clip,
                             trigger="manual" if i % 7 == 0 else "scheduled",
                             protected=i % 5 == 0)
        if i % 3 == 0:
            testdb.add_recording("garage", start=start + 120, duration=300, content=clip,
                                 trigger="detection")


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8099
    base = Path(tempfile.mkdtemp(prefix="lightnvr-ui-"))
    testdb = open_testdb(base)
    clip_path = base / "clip.mp4"
    make_clip(clip_path, frames=30, noise=False)
    seed(testdb, clip_path.read_bytes())
    ctx = build_context(base, testdb, www_root=WWW)
    for stream in testdb.streams.list():  # the manager was started empty by build_context
        ctx.stream_manager.apply(stream)
    server = WebServer(ctx.config.web, WebApp(ctx), port=port)
    server.start()
    print(f"http://127.0.0.1:{server.bound_port}/  admin / {ADMIN_PASSWORD}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop(5.0)
        testdb.db.close()


if __name__ == "__main__":
    main()
