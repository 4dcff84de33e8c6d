"""Registers the ``lightnvr check`` and ``lightnvr backup`` subcommands with the CLI."""

from __future__ import annotations

import argparse

from lightnvr.cli import register_command
from lightnvr.database.backup import backup_command
from lightnvr.storage.check import add_check_args, check_command


def _check(args: argparse.Namespace) -> int:
    return check_command(args.check_config or args.config, args.repair)


def _backup_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("-c", "--config", dest="backup_config", metavar="PATH",
                   help="configuration file")
    p.add_argument("--dest", help="backup directory (default: [database] backup_path)")
    p.add_argument("--keep", type=int, help="backups to keep "
                   "(default: [database] backup_retention_count)")


def _backup(args: argparse.Namespace) -> int:
    return backup_command(args.backup_config or args.config, args.dest, args.keep)


register_command("check", "verify the storage invariants of docs/storage.md on the data "
                 "directory (exit 0 only when all hold); --repair fixes violations",
                 add_check_args, _check)
register_command("backup", "write an online backup of the database now", _backup_args, _backup)
