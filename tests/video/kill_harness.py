"""Subprocess harness for the SIGKILL test: record one stream into a real SQLite database.

    python -m tests.video.kill_harness DB_PATH STORAGE_DIR URL

Runs a StreamManager (fsync every second) writing through RecordingsRepo, prints
``RECORDING <path>`` once a segment file is open, then waits to be killed.
"""

from __future__ import annotations

import sys
import threading

from lightnvr.core.memory.pool import BufferPool
from lightnvr.core.stream_config import StreamConfig
from lightnvr.database.manager import Database
from lightnvr.database.recordings import RecordingsRepo
from lightnvr.video.stream_manager import StreamManager, VideoSettings
from tests.fixtures.wait import wait_until


def main(argv: list[str]) -> int:
    db_path, storage, url = argv
    db = Database(db_path)
    db.open()
    settings = VideoSettings(storage_path=storage, hls_path=storage + "-hls",
                             stagger_seconds=0.0, fsync_interval_seconds=1.0)
    mgr = StreamManager(settings, BufferPool.from_budget(16 * 1024 * 1024), RecordingsRepo(db))
    mgr.start([StreamConfig("k", url, segment_duration=900, streaming_enabled=False)])
    def recording_path() -> str | None:
        st = mgr.status("k")
        threads = mgr.pipeline("k")
        rec = threads.recorder if threads is not None else None
        if st is not None and st.recording and rec is not None and rec.current_path:
            return str(rec.current_path)
        return None

    path = wait_until(recording_path, 20)
    if path is None:
        print(f"NOT RECORDING {mgr.status('k')}", flush=True)
        return 1
    print(f"RECORDING {path}", flush=True)
    threading.Event().wait(600)  # until SIGKILL
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
