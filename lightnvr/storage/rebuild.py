"""Rebuild the ``recordings`` table from the segment files (tools/rebuild_recordings.py).

Run with the daemon stopped:
    python tools/rebuild_recordings.py -c /etc/lightnvr/lightnvr.conf [--wipe]
    python tools/rebuild_recordings.py --db PATH --storage DIR [--wipe]

Without --wipe, rows keep their protection, overrides and tags: every file is probed and its
row's end time, size and stream parameters are rewritten from the file; rows without files
go, files without rows are registered (docs/storage.md, Start-up reconciliation). With
--wipe the table is emptied first and every file registered afresh.
"""

from __future__ import annotations

import argparse
import logging
import os
import time

from lightnvr.database.manager import Database
from lightnvr.database.recordings import RecordingsRepo
from lightnvr.storage.paths import recording_file
from lightnvr.storage.probe import probe_segment
from lightnvr.storage.sync import Reconciler, SyncResult


def rebuild(db: Database, root: str, wipe: bool = False,
            excludes: tuple[str, ...] = ()) -> tuple[SyncResult, int]:
    """(reconciliation result, rows re-probed) after rebuilding from the files."""
    repo = RecordingsRepo(db)
    if wipe:
        with db.writer() as c:
            c.execute("DELETE FROM recordings")
    result = Reconciler(repo, root, probe_segment, time.time(), startup=True,
                        excludes=excludes).run()
    reprobed = 0
    for rec in repo.all():
        path = recording_file(root, rec.file_path)
        info = probe_segment(path) if os.path.exists(path) else None
        if info is None:
            continue
        repo.repair(rec.id, rec.start_time + info.duration, os.path.getsize(path))
        repo.update_media(rec.id, info.width, info.height, info.fps, info.codec)
        reprobed += 1
    return result, reprobed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("-c", "--config", help="lightnvr configuration file")
    p.add_argument("--db", help="database file (instead of -c)")
    p.add_argument("--storage", help="storage path (instead of -c)")
    p.add_argument("--wipe", action="store_true", help="empty the table first")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    excludes: tuple[str, ...] = ()
    if args.db and args.storage:
        db_path, root = args.db, args.storage
    else:
        from lightnvr.core.config import load_config

        cfg = load_config(args.config)
        db_path, root = cfg.database.path, cfg.storage.path
        if cfg.storage.path_hls:
            excludes = (os.path.abspath(cfg.storage.path_hls),)
    db = Database(db_path)
    db.open()
    try:
        result, reprobed = rebuild(db, root, args.wipe, excludes)
    finally:
        db.close()
    print(f"{result}; {reprobed} rows re-probed from their files")
    return 0 if result.errors == 0 else 1

