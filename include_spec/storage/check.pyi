# `lightnvr check [-c CONFIG] [--repair]` (lightnvr/storage/check.py): docs/storage.md invariants.
import argparse
from collections.abc import Callable

from lightnvr.core.config import StorageConfig
from lightnvr.database.recordings import RecordingsRepo
from lightnvr.storage.probe import ProbeResult

EXIT_OK: int           # 0 every invariant holds
EXIT_VIOLATIONS: int   # 1
EXIT_USAGE: int        # 2 configuration error

class CheckReport:
    violations: list[tuple[int, str]]   # (invariant number in docs/storage.md, message)
    repaired: list[str]
    @property
    def ok(self) -> bool: ...
    def add(self, invariant: int, message: str) -> None: ...

def check_files(repo: RecordingsRepo, root: str, report: CheckReport, now: float,
                excludes: tuple[str, ...] = ()) -> None: ...
def run_check(storage: StorageConfig, db_path: str, repair: bool = False,
              probe: Callable[[str], ProbeResult | None] | None = None,
              now: float | None = None) -> CheckReport: ...
def add_check_args(p: argparse.ArgumentParser) -> None: ...
def check_command(config_path: str | None, repair: bool) -> int: ...
def check_main(argv: list[str]) -> int: ...
