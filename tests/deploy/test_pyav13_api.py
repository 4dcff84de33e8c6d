"""lightnvr keeps to the PyAV API that the Buildroot image has (PyAV 13.1, FFmpeg 6.1).

Buildroot packages FFmpeg 6.1 and PyAV 14+ requires FFmpeg 7, so the image ships PyAV 13.1
(buildroot/package/python-av). The development venv has a newer PyAV, so nothing else would
notice a call that 13.1 lacks until a device fails to record. Each name below was found
missing by running the video tests under PyAV 13.1.0; a use is allowed only in
lightnvr/video/avcompat.py, which picks the API the installed PyAV has.
"""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "lightnvr"
COMPAT = PACKAGE / "video" / "avcompat.py"
# Added after 13.1 -> the 13.1 spelling to use instead (through avcompat).
NEWER_THAN_13_1 = {
    r"\.add_stream_from_template\(": "OutputContainer.add_stream(template=...)",
    r"\.add_mux_stream\(": "OutputContainer.add_stream(template=...)",
    r"\.(qmin|qmax)\s*=": 'codec_context.options = {"qmin": ..., "qmax": ...}',
}


def test_no_pyav_14_only_calls_outside_the_compat_module() -> None:
    offences = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == COMPAT:
            continue
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            for pattern, instead in NEWER_THAN_13_1.items():
                if re.search(pattern, line) and not line.lstrip().startswith("#"):
                    rel = path.relative_to(PACKAGE.parent)
                    offences.append(f"{rel}:{lineno}: {line.strip()}  (PyAV 13.1: {instead})")
    assert offences == [], "\n".join(offences)
