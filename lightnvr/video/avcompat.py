"""PyAV version differences in one place: the Buildroot image has PyAV 13.1 (FFmpeg 6.1),
development machines a newer PyAV. tests/deploy/test_pyav13_api.py keeps every other module
off the calls 13.1 lacks."""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def pyav_major() -> int:
    """The installed PyAV's major version (imported only when media is touched)."""
    import av

    return int(av.__version__.split(".")[0])


def add_stream_copy(container: Any, template: Any) -> Any:
    """An output stream with `template`'s codec parameters, for stream copy (no encoder).

    PyAV >= 14: `add_stream_from_template(opaque=True)` copies the codec as is (without
    `opaque` it looks up an *encoder*, which a minimal FFmpeg may lack). PyAV 13:
    `add_stream(template=...)` does the stream copy.
    """
    if pyav_major() >= 14:
        return container.add_stream_from_template(template, opaque=True)
    return container.add_stream(template=template)


def set_fixed_quantizer(codec_context: Any, quality: int) -> None:
    """Encode with a fixed quantizer (qmin = qmax = quality), on every PyAV version."""
    codec_context.options = {"qmin": str(quality), "qmax": str(quality)}
