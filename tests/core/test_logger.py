"""Logging: C levels, file rotation, JSON lines, ring, re-open after rotation, idempotence."""

from __future__ import annotations

import dataclasses
import json
import logging
import socket
from pathlib import Path

import pytest

from lightnvr.core import logger as logger_mod
from lightnvr.core.config import GeneralConfig
from lightnvr.core.logger import (
    LogRing,
    get_log_ring,
    level_from_c,
    reopen_log_files,
    setup_logging,
    teardown_logging,
)

pytestmark = pytest.mark.usefixtures("restore_logging")  # tests/fixtures/logs.py


def cfg(tmp_path: Path, **kw: object) -> GeneralConfig:
    return dataclasses.replace(GeneralConfig(), log_file=str(tmp_path / "logs" / "nvr.log"),
                               **kw)  # type: ignore[arg-type]


def test_level_from_c() -> None:
    assert [level_from_c(n) for n in range(4)] == [
        logging.ERROR, logging.WARNING, logging.INFO, logging.DEBUG]
    assert level_from_c(9) == logging.DEBUG and level_from_c(-1) == logging.ERROR


def test_file_and_level(tmp_path: Path) -> None:
    setup_logging(cfg(tmp_path, log_level=1))
    log = logging.getLogger("lightnvr.test")
    log.info("hidden info")
    log.warning("shown warning")
    text = (tmp_path / "logs" / "nvr.log").read_text()
    assert "shown warning" in text and "hidden info" not in text
    setup_logging(cfg(tmp_path, log_level=1), verbose=True)
    log.debug("now debug")
    assert "now debug" in (tmp_path / "logs" / "nvr.log").read_text()


def test_setup_is_idempotent(tmp_path: Path) -> None:
    ring1 = setup_logging(cfg(tmp_path))
    n = len(logging.getLogger().handlers)
    ring2 = setup_logging(cfg(tmp_path))
    assert ring1 is ring2 is get_log_ring()
    assert len(logging.getLogger().handlers) == n
    logging.getLogger("x").warning("once")
    assert (tmp_path / "logs" / "nvr.log").read_text().count("once") == 1


def test_json_lines(tmp_path: Path) -> None:
    setup_logging(cfg(tmp_path, log_format="json"))
    try:
        raise ValueError("bad")
    except ValueError:
        logging.getLogger("lightnvr.j").error("failed %d", 3, exc_info=True)
    line = (tmp_path / "logs" / "nvr.log").read_text().strip().splitlines()[-1]
    doc = json.loads(line)
    assert doc["level"] == "error" and doc["msg"] == "failed 3"
    assert doc["logger"] == "lightnvr.j" and "ValueError: bad" in doc["exc"]


def test_rotation_bounds_disk_use(tmp_path: Path) -> None:
    setup_logging(cfg(tmp_path, log_max_bytes=2000, log_backup_count=2))
    log = logging.getLogger("lightnvr.rot")
    for i in range(300):
        log.warning("line %d %s", i, "x" * 50)
    files = sorted(p.name for p in (tmp_path / "logs").iterdir())
    assert files == ["nvr.log", "nvr.log.1", "nvr.log.2"]
    assert all((tmp_path / "logs" / f).stat().st_size <= 2100 for f in files)


def test_reopen_after_external_rotation(tmp_path: Path) -> None:
    setup_logging(cfg(tmp_path))
    log = logging.getLogger("lightnvr.reopen")
    log.warning("before")
    path = tmp_path / "logs" / "nvr.log"
    path.rename(tmp_path / "logs" / "moved.log")
    reopen_log_files()
    log.warning("after")
    assert "after" in path.read_text()
    assert "after" not in (tmp_path / "logs" / "moved.log").read_text()


def test_unwritable_log_file_is_a_warning(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    ring = setup_logging(dataclasses.replace(GeneralConfig(),
                                             log_file=str(blocker / "sub" / "x.log")))
    assert any("cannot open log_file" in r.message for r in ring.recent("warning"))


def test_ring_is_bounded_and_filters() -> None:
    ring = LogRing(capacity=5)
    logger = logging.getLogger("lightnvr.ring")
    logger.addHandler(ring)
    logger.setLevel(logging.DEBUG)
    try:
        for i in range(8):
            logger.debug("d%d", i)
        logger.error("e")
    finally:
        logger.removeHandler(ring)
    recent = ring.recent()
    assert len(recent) == 5 and recent[-1].message == "e" and recent[-1].level == "error"
    assert [r.message for r in ring.recent("error")] == ["e"]
    assert [r.message for r in ring.recent(count=2)] == ["d7", "e"]
    ring.clear()
    assert ring.recent() == []


def test_syslog_goes_to_the_syslog_socket(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    path = str(tmp_path / "log.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(path)
    server.settimeout(2)
    try:
        monkeypatch.setattr(logger_mod, "_SYSLOG_SOCKETS", (path,))
        setup_logging(cfg(tmp_path, syslog_enabled=True, syslog_ident="nvrtest",
                          syslog_facility="LOG_DAEMON"))
        logging.getLogger("lightnvr.sys").warning("to syslog")
        data = server.recv(4096).decode()
    finally:
        teardown_logging()
        server.close()
    # <priority>: facility LOG_DAEMON (3) * 8 + warning (4) = 28
    assert data.startswith("<28>nvrtest[") and "to syslog" in data


def test_syslog_without_socket_is_a_warning(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logger_mod, "_SYSLOG_SOCKETS", (str(tmp_path / "none"),))
    ring = setup_logging(cfg(tmp_path, syslog_enabled=True))
    assert any("no syslog socket" in r.message for r in ring.recent("warning"))
