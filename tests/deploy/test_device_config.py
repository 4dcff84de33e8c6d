"""The Buildroot image's /etc/lightnvr/lightnvr.conf is valid and fits the image it ships in.

Checks it with the daemon's own loader (no warnings: every key is known), that its memory
limits make sense for a 256 MB board, and that every path the daemon writes is writable
under both start methods: inside the systemd unit's ReadWritePaths (unit + Buildroot
drop-in, the sandbox is ProtectSystem=strict) and inside the directories S99lightnvr
creates and chowns for BusyBox init.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from lightnvr.core.config import Config, load_config

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "buildroot" / "package" / "python-lightnvr"
DEVICE_CONF = PKG / "lightnvr.conf"


def _device_config() -> Config:
    return load_config(str(DEVICE_CONF), environ={})


def _written_paths(cfg: Config) -> list[PurePosixPath]:
    """Directories the daemon creates files in, per the config."""
    return [
        PurePosixPath(cfg.storage.path),
        PurePosixPath(cfg.storage.path_hls),
        PurePosixPath(cfg.database.path).parent,
        PurePosixPath(cfg.general.log_file).parent,
        PurePosixPath(cfg.general.pid_file).parent,
    ]


def _under(path: PurePosixPath, roots: list[PurePosixPath]) -> bool:
    return any(path == r or r in path.parents for r in roots)


def test_loads_without_warnings() -> None:
    cfg = _device_config()
    assert cfg.warnings == []
    assert cfg.web.port == 8080
    assert cfg.storage.path.startswith("/data/")
    assert cfg.database.path.startswith("/data/")
    assert cfg.storage.path_hls == "/run/lightnvr/hls"
    assert cfg.general.demo_mode is False


def test_memory_limits_fit_a_256_mb_board() -> None:
    mem = _device_config().memory
    assert 0 < mem.rss_pressure_mb < mem.rss_critical_mb < 200
    assert mem.available_pressure_mb > mem.available_critical_mb > 0
    # Queues for 4 streams x 3 consumers plus the pool stay far below the RSS limit.
    assert mem.pool_size_mb + 4 * 3 * mem.buffer_size / 1024 < mem.rss_pressure_mb / 2


def test_paths_writable_under_systemd_sandbox() -> None:
    unit = (ROOT / "conf" / "lightnvr.service").read_text()
    dropin = (PKG / "lightnvr.service.d" / "buildroot.conf").read_text()
    roots: list[PurePosixPath] = []
    for text in (unit, dropin):
        for m in re.finditer(r"^ReadWritePaths=(.*)$", text, re.MULTILINE):
            roots += [PurePosixPath(p.lstrip("-")) for p in m.group(1).split()]
    for path in _written_paths(_device_config()):
        assert _under(path, roots), f"{path} is read-only for the service (ReadWritePaths={roots})"


def test_paths_prepared_by_busybox_init_script() -> None:
    script = (PKG / "S99lightnvr").read_text()
    dirs = {
        name: PurePosixPath(value)
        for name, value in re.findall(r'^([A-Z_]+_DIR)="(/[^"]+)"$', script, re.MULTILINE)
    }
    assert {"RUN_DIR", "HLS_DIR", "DATA_DIR", "LOG_DIR"} <= set(dirs)
    assert re.search(r'chown "\$DAEMON:\$DAEMON" "\$RUN_DIR" "\$HLS_DIR" "\$DATA_DIR" '
                     r'"\$LOG_DIR"', script)
    for path in _written_paths(_device_config()):
        assert _under(path, list(dirs.values())), f"{path} is not created by S99lightnvr"
