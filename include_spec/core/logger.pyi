# Logging (lightnvr/core/logger.py): levels 0 error .. 3 debug as in the C project.
import logging

from lightnvr.core.config import GeneralConfig

class LogRecordView:
    time: float
    level: str          # "error" | "warning" | "info" | "debug"
    logger: str
    message: str

class RedactingFilter:                                  # on every handler setup_logging installs
    def filter(self, record: logging.LogRecord) -> bool: ...  # masks in place; never drops

class LogRing:
    def __init__(self, capacity: int = 1000) -> None: ...
    def recent(self, level: str = "debug", count: int = 100) -> list[LogRecordView]: ...  # newest last
    def clear(self) -> None: ...

def level_from_c(level: int) -> int: ...               # 0..3 -> logging.ERROR..DEBUG
def setup_logging(cfg: GeneralConfig, verbose: bool = False) -> LogRing: ...   # idempotent
def reopen_log_files() -> None: ...                    # SIGHUP
def get_log_ring() -> LogRing: ...
def teardown_logging() -> None: ...                    # remove our handlers (tests, exit)

# one JSON object per line: ts, level, logger, thread, msg (+ exc)
class JsonFormatter(logging.Formatter):
    ...
