"""CLI in-process: subcommand registry, check-config, and hand-over to lightnvr.app.run."""

from __future__ import annotations

import argparse
import sys
import types
from pathlib import Path

import pytest

from lightnvr import cli
from lightnvr.core.config import Config

pytestmark = pytest.mark.usefixtures("restore_logging")  # tests/fixtures/logs.py


def test_register_command_adds_a_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[argparse.Namespace] = []

    def add_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--dry-run", action="store_true")

    def run(args: argparse.Namespace) -> int:
        seen.append(args)
        return 3

    cli.register_command("frobnicate", "frobnicate the data dir", add_args, run)
    try:
        assert cli.main(["frobnicate", "--dry-run"]) == 3
        assert seen[0].dry_run is True
        with pytest.raises(SystemExit):
            cli.main(["-h"])
        assert "frobnicate" in capsys.readouterr().out
    finally:
        cli._COMMANDS.pop("frobnicate")


def test_check_config_in_process(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conf = tmp_path / "c.conf"
    conf.write_text("[streams]\nmax_streams = 0\n")
    assert cli.main(["check-config", str(conf)]) == 2
    err = capsys.readouterr().err
    assert "[streams] max_streams = '0'" in err and "from 1 to 1024" in err


def test_daemon_mode_hands_over_to_app_run(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Config, argparse.Namespace]] = []
    fake = types.ModuleType("lightnvr.app")

    def run(config: Config, args: argparse.Namespace) -> int:
        calls.append((config, args))
        return 0 if len(calls) == 1 else 1

    fake.run = run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "lightnvr.app", fake)
    pid = tmp_path / "x.pid"
    conf = tmp_path / "c.conf"
    conf.write_text(f"[general]\npid_file = {pid}\nlog_file =\n[web]\nport = 8111\n")
    assert cli.main(["-c", str(conf), "--verbose"]) == 0
    assert len(calls) == 1
    config, args = calls[0]
    assert config.web.port == 8111 and args.verbose is True and args.config == str(conf)
    assert not pid.exists()
    # A failing app's code is returned (in-process the CLI never exits hard).
    assert cli.main(["-c", str(conf)]) == 1


def test_other_missing_module_inside_app_is_not_swallowed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    real = importlib.import_module

    def fake_import(name: str, package: str | None = None) -> types.ModuleType:
        if name == "lightnvr.app":
            raise ModuleNotFoundError("No module named 'cv2'", name="cv2")
        return real(name, package)

    monkeypatch.setattr(cli.importlib, "import_module", fake_import)
    conf = tmp_path / "c.conf"
    conf.write_text(f"[general]\npid_file = {tmp_path / 'p.pid'}\nlog_file =\n")
    with pytest.raises(ModuleNotFoundError):
        cli.main(["-c", str(conf)])
    assert not (tmp_path / "p.pid").exists()


def test_check_config_masks_every_secret(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """docs/core.md: check-config prints the effective configuration with secrets masked -
    every *password key (not only [web]/[mqtt] `password`) and credentials inside a URL."""
    conf = tmp_path / "c.conf"
    conf.write_text("[web]\npassword = webSecret1\n"
                    "[mqtt]\nusername = nvr\npassword = mqttSecret2\n"
                    "[go2rtc]\nturn_username = alice\nturn_password = turnSecret3\n"
                    "[api_detection]\nurl = http://det:apiSecret4@127.0.0.1:9001/api/v1/detect\n")
    assert cli.main(["check-config", str(conf)]) == 0
    out = capsys.readouterr().out
    for secret in ("webSecret1", "mqttSecret2", "turnSecret3", "apiSecret4"):
        assert secret not in out, secret
    assert "turn_password = ********" in out
    assert "url = http://det:***@127.0.0.1:9001/api/v1/detect" in out
    # what is not secret is printed as it is: the output must stay useful
    assert "turn_username = alice" in out and "username = nvr" in out
