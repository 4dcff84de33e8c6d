"""Command line: `lightnvr [-c CONF] [-d] [--verbose]` runs the daemon; subcommands do one job.

Subcommands are registered with `register_command(name, help, add_args, func)`. A subsystem
that provides one (`check`, `backup`) calls `register_command` at import time in its own
module, and that module's name is added to `COMMAND_MODULES` below; they are imported only
when the CLI runs (a module that does not exist yet is skipped).

Running the daemon calls `lightnvr.app.run(config, args) -> int`. With `--core-only`, or
if importing `lightnvr.app` fails because that very module is missing (not something it
imports), the core daemon runs with no components (pid file, signals, sd_notify, watchdog,
shutdown); the core's end-to-end tests use it to check the lifecycle on its own.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lightnvr import __version__

if TYPE_CHECKING:
    from lightnvr.core.config import Config

# Modules that register subcommands when imported (a missing module is skipped).
COMMAND_MODULES: list[str] = ["lightnvr.storage.commands"]

EXIT_USAGE = 2


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    help: str
    add_args: Callable[[argparse.ArgumentParser], None]
    func: Callable[[argparse.Namespace], int]


_COMMANDS: dict[str, Command] = {}


def register_command(name: str, help: str,
                     add_args: Callable[[argparse.ArgumentParser], None],
                     func: Callable[[argparse.Namespace], int]) -> None:
    """Add subcommand `name`: `add_args(parser)` declares its arguments, `func(args)` runs it
    and returns the exit code. Registering a name twice replaces the earlier one."""
    _COMMANDS[name] = Command(name, help, add_args, func)


def _load_command_modules() -> None:
    for module in COMMAND_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name != module:
                raise


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lightnvr", description="Lightweight network video recorder.")
    parser.add_argument("-c", "--config", metavar="PATH",
                        help="configuration file (default: ./lightnvr.conf, ./lightnvr.ini, "
                             "/etc/lightnvr/lightnvr.conf, /etc/lightnvr/lightnvr.ini)")
    parser.add_argument("-d", "--daemon", action="store_true",
                        help="detach into the background (uses [general] pid_file)")
    parser.add_argument("-v", "--version", action="version", version=f"lightnvr {__version__}")
    parser.add_argument("--verbose", action="store_true", help="log at debug level")
    parser.add_argument("--core-only", action="store_true",
                        help="run only the core lifecycle (pid file, signals, sd_notify, "
                             "shutdown) without any subsystem: for diagnosing start-up "
                             "problems and for testing")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for cmd in _COMMANDS.values():
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        cmd.add_args(p)
    return parser


# -- check-config ----------------------------------------------------------------------------
def _check_config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", metavar="PATH", help="configuration file to validate")


def _check_config(args: argparse.Namespace) -> int:
    from lightnvr.core.config import ConfigError, config_to_ini, load_config
    from lightnvr.core.redact import redact_text

    try:
        config = load_config(args.path)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    for warning in config.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"; effective configuration from {config.source_path}")
    for line in config_to_ini(config).splitlines():
        key, sep, value = line.partition(" = ")
        # Secrets are not printed: the output ends up in terminals and bug reports. That is
        # every *password key ([web], [mqtt], [go2rtc] turn_password) and credentials inside
        # a value ([api_detection] url = http://user:pw@host/...).
        if sep and key.endswith("password") and value:
            print(f"{key} = ********")
        else:
            print(f"{key} = {redact_text(value)}" if sep else line)
    return 0


register_command("check-config", "validate a configuration file and print the effective "
                 "configuration (exit 0 if valid, 2 if not)", _check_config_args, _check_config)


# -- import-lightnvr --------------------------------------------------------------------------
def _import_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="PATH-TO-LIGHTNVR-DB",
                   help="LightNVR's database file (only read, never changed)")
    p.add_argument("-c", "--config", dest="import_config", metavar="PATH",
                   help="our configuration file: [database] path is the target, recordings "
                        "are looked for under [storage] path")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def _import_lightnvr(args: argparse.Namespace) -> int:
    """Import into the configured database; 0 done, 1 refused, 2 configuration error."""
    import json

    from lightnvr.core.config import ConfigError, load_config
    from lightnvr.database.lightnvr_import import ImportRefused, import_lightnvr
    from lightnvr.database.lightnvr_import_formats import LightNVRDatabase
    from lightnvr.database.manager import Database
    from lightnvr.storage.lightnvr_layout import locate_imported

    try:
        config = load_config(args.import_config or args.config)
    except ConfigError as e:
        print(f"lightnvr import-lightnvr: configuration error: {e}", file=sys.stderr)
        return EXIT_USAGE
    target = Database(config.database.path, backup_dir=config.database.backup_path or None)
    if os.path.realpath(args.source) == os.path.realpath(target.path):
        print(f"lightnvr import-lightnvr: [database] path is {target.path}, the LightNVR file "
              "itself: point it at a new file, then import", file=sys.stderr)
        return EXIT_USAGE
    try:
        target.open()
    except LightNVRDatabase as e:
        print(f"lightnvr import-lightnvr: the target {e}", file=sys.stderr)
        return EXIT_USAGE
    root = config.storage.path
    try:
        report = import_lightnvr(args.source, target,
                                 lambda file_path: locate_imported(root, file_path))
    except ImportRefused as e:
        print(f"lightnvr import-lightnvr: {e}", file=sys.stderr)
        return 1
    finally:
        target.close()
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.to_text())
    return 0


register_command("import-lightnvr", "import a LightNVR (C) database: streams, users (their "
                 "passwords keep working), API keys, TOTP, zones, recordings (adopted where "
                 "they lie), tags, detections, events and settings; prints what was not "
                 "imported and why", _import_args, _import_lightnvr)


# -- the daemon ------------------------------------------------------------------------------
def _run_daemon(args: argparse.Namespace, as_program: bool) -> int:
    from lightnvr.core.config import ConfigError, load_config
    from lightnvr.core.daemon import PidFile, PidFileError, daemonize
    from lightnvr.core.logger import setup_logging

    try:
        config = load_config(args.config)
    except ConfigError as e:
        print(f"lightnvr: configuration error: {e}", file=sys.stderr)
        return EXIT_USAGE
    pidfile = PidFile(config.general.pid_file) if config.general.pid_file else None
    try:
        if pidfile is not None:
            pidfile.acquire()
    except PidFileError as e:
        print(f"lightnvr: {e}", file=sys.stderr)
        return 1
    if args.daemon:
        daemonize()
        if pidfile is not None:
            pidfile.write_pid()
    setup_logging(config.general, args.verbose)
    log = logging.getLogger("lightnvr")
    log.info("lightnvr %s starting (config %s)", __version__, config.source_path or "defaults")
    for warning in config.warnings:
        log.warning("%s", warning)
    try:
        code = _run_app(config, args, log)
    finally:
        if pidfile is not None:
            pidfile.release()
    return _exit_process(code, log) if as_program else code


def _run_app(config: Config, args: argparse.Namespace, log: logging.Logger) -> int:
    """`lightnvr.app.run`, or the bare core daemon while lightnvr/app.py does not exist."""
    from lightnvr.core.daemon import Daemon

    if not args.core_only:
        try:
            app = importlib.import_module("lightnvr.app")
        except ModuleNotFoundError as e:
            if e.name != "lightnvr.app":
                raise  # something app imports is missing: a real error, not "no app yet"
            log.warning("lightnvr.app not present: running the core daemon only")
        else:
            return int(app.run(config, args))
    log.info("core only: no subsystems are started")
    daemon = Daemon(config, config_path=args.config, verbose=args.verbose)
    daemon.install_signal_handlers()
    return daemon.run()


def _exit_process(code: int, log: logging.Logger) -> int:
    """Check that shutdown left no thread behind; exit hard if one is stuck or code != 0."""
    leftover = [t.name for t in threading.enumerate()
                if t is not threading.main_thread() and not t.daemon]
    if leftover:
        log.error("threads still running after shutdown: %s", ", ".join(leftover))
        code = code or 1
    else:
        log.info("no threads left after shutdown")
    log.info("lightnvr exiting with code %d", code)
    if code != 0:
        # A component may have overrun its stop deadline and still hold a non-daemon
        # thread; normal interpreter exit would wait for it forever.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `lightnvr` and `python -m lightnvr`; returns the exit code.

    With `argv` None (run as the program) a daemon run ends the process hard (`os._exit`)
    when it failed or left a thread behind; with an explicit `argv` (tests) it just returns.
    """
    _load_command_modules()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command:
        return _COMMANDS[args.command].func(args)
    return _run_daemon(args, as_program=argv is None)
