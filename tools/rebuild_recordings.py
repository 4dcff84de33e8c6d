"""Rebuild the ``recordings`` table from the segment files under the storage path.

Run with the daemon stopped:
    python tools/rebuild_recordings.py -c /etc/lightnvr/lightnvr.conf [--wipe]
    python tools/rebuild_recordings.py --db PATH --storage DIR [--wipe]

The work is done by lightnvr.storage.rebuild (see its docstring and docs/storage.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":
    # run from a checkout without installing: the repository root holds the package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from lightnvr.storage.rebuild import main

    sys.exit(main())
