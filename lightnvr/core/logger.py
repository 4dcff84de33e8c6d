"""Logging set-up: C-style levels 0-3, stderr, rotating log file, syslog, JSON lines, a ring.

All handlers hang off the root logger, so library messages land in the same places.
`setup_logging` can be called again (SIGHUP: new level, re-opened files); it replaces only the
handlers it installed itself and keeps the one `LogRing`, so `/api/system/logs` survives it.

Every handler installed here carries a `RedactingFilter`: callers already pass URLs through
`core.redact.redact_url`, and the filter is the safety net for what they cannot see (a URL with
credentials inside an FFmpeg error, a `password=` in an exception), so no secret reaches the
file, stderr (journald under systemd), syslog or the ring that viewers read.
"""

from __future__ import annotations

import collections
import logging
import logging.handlers
import os
import sys
import threading
from dataclasses import dataclass

import orjson

from lightnvr.core.config import GeneralConfig
from lightnvr.core.redact import redact_text

_C_LEVELS = (logging.ERROR, logging.WARNING, logging.INFO, logging.DEBUG)
_LEVEL_NAMES = {logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warning",
                logging.ERROR: "error", logging.CRITICAL: "error"}
_NAME_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
                "warn": logging.WARNING, "error": logging.ERROR}
_TEXT_FORMAT = "%(asctime)s [%(levelname)s] %(threadName)s %(name)s: %(message)s"
_SYSLOG_SOCKETS = ("/dev/log", "/var/run/syslog")


def level_from_c(level: int) -> int:
    """Map LightNVR's 0 (error) .. 3 (debug) to a `logging` level; out of range is clamped."""
    return _C_LEVELS[max(0, min(3, int(level)))]


@dataclass(frozen=True, slots=True)
class LogRecordView:
    """One remembered log line, as `/api/system/logs` shows it."""

    time: float
    level: str
    logger: str
    message: str


class RedactingFilter(logging.Filter):
    """Rewrites a record in place with secrets masked (message, traceback text, stack).

    The record is shared by all handlers, so masking it once here also covers handlers that
    run after this one; the redaction is idempotent, so running it per handler is harmless.
    Never drops a record.
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True  # a broken format: the handler reports it through handleError
        record.msg, record.args = redact_text(message), None
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True


class LogRing(logging.Handler):
    """A bounded in-memory ring of recent records (oldest fall off; memory never grows)."""

    def __init__(self, capacity: int = 1000) -> None:
        super().__init__(logging.DEBUG)
        self.addFilter(RedactingFilter())
        self._records: collections.deque[LogRecordView] = collections.deque(maxlen=capacity)
        self._ring_lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_info and record.exc_info[0] is not None:
                message += " | " + redact_text(repr(record.exc_info[1]))
            view = LogRecordView(record.created, _LEVEL_NAMES.get(record.levelno, "info"),
                                 record.name, message)
        except Exception:
            self.handleError(record)
            return
        with self._ring_lock:
            self._records.append(view)

    def recent(self, level: str = "debug", count: int = 100) -> list[LogRecordView]:
        """Up to `count` newest records at `level` or more severe, newest last."""
        threshold = _NAME_LEVELS.get(level.lower(), logging.DEBUG)
        with self._ring_lock:
            records = list(self._records)
        chosen = [r for r in records if _NAME_LEVELS[r.level] >= threshold]
        return chosen[-count:] if count > 0 else []

    def clear(self) -> None:
        with self._ring_lock:
            self._records.clear()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, thread, msg (and exc when present)."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, object] = {
            "ts": round(record.created, 3),
            "level": _LEVEL_NAMES.get(record.levelno, "info"),
            "logger": record.name,
            "thread": record.threadName,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            # exc_text: the RedactingFilter's masked traceback when the filter ran.
            doc["exc"] = record.exc_text or self.formatException(record.exc_info)
        return orjson.dumps(doc).decode()


_lock = threading.Lock()
_ring = LogRing()
_installed: list[logging.Handler] = []


def get_log_ring() -> LogRing:
    """The process-wide ring (the same object across `setup_logging` calls)."""
    return _ring


def _syslog_handler(cfg: GeneralConfig) -> logging.Handler | None:
    address = next((p for p in _SYSLOG_SOCKETS if os.path.exists(p)), None)
    if address is None:
        return None
    facility = getattr(logging.handlers.SysLogHandler,
                       cfg.syslog_facility, logging.handlers.SysLogHandler.LOG_USER)
    handler = logging.handlers.SysLogHandler(address=address, facility=facility)
    handler.ident = f"{cfg.syslog_ident}[{os.getpid()}]: "
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    return handler


def setup_logging(cfg: GeneralConfig, verbose: bool = False) -> LogRing:
    """Install stderr, file (rotating), syslog and ring handlers per `cfg`; idempotent.

    `verbose` forces debug level. Failing to open the log file or syslog is logged as a
    warning on the remaining handlers, never fatal.
    """
    level = logging.DEBUG if verbose else level_from_c(cfg.log_level)
    formatter: logging.Formatter = (JsonFormatter() if cfg.log_format == "json"
                                    else logging.Formatter(_TEXT_FORMAT))
    handlers: list[logging.Handler] = []
    problems: list[str] = []
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(formatter)
    handlers.append(stderr)
    if cfg.log_file:
        try:
            directory = os.path.dirname(cfg.log_file)
            if directory:
                os.makedirs(directory, exist_ok=True)
            fh = logging.handlers.RotatingFileHandler(
                cfg.log_file, maxBytes=cfg.log_max_bytes, backupCount=cfg.log_backup_count,
                encoding="utf-8")
            fh.setFormatter(formatter)
            handlers.append(fh)
        except OSError as e:
            problems.append(f"cannot open log_file {cfg.log_file}: {e.strerror}")
    if cfg.syslog_enabled:
        try:
            sh = _syslog_handler(cfg)
        except OSError as e:
            sh = None
            problems.append(f"syslog unavailable: {e}")
        if sh is None:
            problems.append("syslog_enabled but no syslog socket found")
        else:
            handlers.append(sh)
    for h in handlers:
        h.addFilter(RedactingFilter())
    handlers.append(_ring)  # has its own filter, from birth (it outlives setup_logging calls)
    root = logging.getLogger()
    with _lock:
        _remove_installed(root)
        _installed[:] = handlers
        for h in handlers:
            root.addHandler(h)
        root.setLevel(level)
    log = logging.getLogger(__name__)
    for problem in problems:
        log.warning("%s", problem)
    return _ring


def _remove_installed(root: logging.Logger) -> None:
    """Under _lock: take our handlers off the root logger and close them (not the ring,
    which outlives setup_logging calls)."""
    for old in _installed:
        root.removeHandler(old)
        if old is not _ring:
            old.close()


def reopen_log_files() -> None:
    """Close our log files; each reopens on its next record (after logrotate moved it)."""
    with _lock:
        handlers = list(_installed)
    for h in handlers:
        if isinstance(h, logging.FileHandler):
            h.acquire()
            try:
                if h.stream is not None:
                    h.stream.close()
                    h.stream = None  # type: ignore[assignment]
            finally:
                h.release()


def teardown_logging() -> None:
    """Remove and close the handlers `setup_logging` installed (tests, end of process)."""
    with _lock:
        _remove_installed(logging.getLogger())
        _installed.clear()
