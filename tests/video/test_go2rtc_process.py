"""The go2rtc supervisor on its own: config file, start, kill -> restart, stream changes, stop.

A real subprocess every time: the real go2rtc when installed (tests/video/go2rtc_binaries.py),
always the stand-in, which serves go2rtc's API from the file our supervisor wrote.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from lightnvr.core.config import Go2rtcConfig
from lightnvr.core.heartbeat import HeartbeatRegistry
from lightnvr.core.stream_config import StreamConfig
from lightnvr.video.go2rtc.config import render, streams_for_go2rtc
from lightnvr.video.go2rtc.process import Go2rtcState, Go2rtcStatus, Go2rtcSupervisor
from tests.fixtures.wait import wait_until
from tests.video.go2rtc_binaries import NO_REAL_GO2RTC, go2rtc_section, real_go2rtc, standin_go2rtc

SECRET = "s3cret-Pw-9"


def _cfg(base: Path, binary: Path | str, **extra: Any) -> Go2rtcConfig:
    keys = go2rtc_section(base, binary, **extra)
    keys["binary_path"], keys["config_dir"] = str(keys["binary_path"]), str(keys["config_dir"])
    return Go2rtcConfig(**keys)


def _streams_api(cfg: Go2rtcConfig) -> dict[str, Any]:
    """go2rtc's own list of streams; {} while it is being restarted."""
    url = f"http://127.0.0.1:{cfg.api_port}/go2rtc/api/streams"
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            data: dict[str, Any] = orjson.loads(r.read())
    except OSError:
        return {}
    return data


def _wait_status(sup: Go2rtcSupervisor, ok: Callable[[Go2rtcStatus], bool], timeout: float,
                 what: str, step: float = 0.1) -> Go2rtcStatus:
    """The supervisor's status once `ok(status)`; AssertionError naming `what` on timeout."""
    def check() -> Go2rtcStatus | None:
        st = sup.status()
        return st if ok(st) else None
    found = wait_until(check, timeout, step, what)
    assert found is not None
    return found


def _pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # a zombie still answers kill(0); the supervisor reaps its child, so it should not last
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().split(")")[-1].split()[0] == "Z"


@pytest.fixture(params=["standin", "real"])
def binary(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    if request.param == "real":
        real = real_go2rtc()
        if real is None:
            pytest.skip(NO_REAL_GO2RTC)
        return real
    return standin_go2rtc(tmp_path / "bin")


class _Streams:
    """The stream manager's list as the supervisor reads it; tests change it."""

    def __init__(self, *configs: StreamConfig) -> None:
        self.configs = list(configs)

    def __call__(self) -> list[StreamConfig]:
        return list(self.configs)


@pytest.fixture
def supervisors() -> Iterator[list[Go2rtcSupervisor]]:
    made: list[Go2rtcSupervisor] = []
    yield made
    for s in made:
        s.stop(5.0)


def test_config_file_serves_enabled_camera_streams_on_loopback_only(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path, "/x", turn_enabled=True, turn_server_url="turn:t.example:3478",
               turn_username="u", turn_password=SECRET, stun_enabled=True)
    streams = streams_for_go2rtc([
        StreamConfig("front door", f"rtsp://admin:{SECRET}@10.0.0.2/h264"),
        StreamConfig("side", "rtsp://10.0.0.3/s?channel=1#x"),
        StreamConfig("off", "rtsp://10.0.0.4/s", enabled=False),
        StreamConfig("demo", "demo://testsrc"),
    ])
    doc = yaml.safe_load(render(cfg, streams))
    assert doc["streams"] == {"front door": [f"rtsp://admin:{SECRET}@10.0.0.2/h264"],
                              "side": ["rtsp://10.0.0.3/s?channel=1#x"]}
    # go2rtc's API and RTSP server have no authentication: never beyond this machine
    assert doc["api"]["listen"] == f"127.0.0.1:{cfg.api_port}"
    assert doc["rtsp"]["listen"] == f"127.0.0.1:{cfg.rtsp_port}"
    assert doc["webrtc"]["listen"] == f":{cfg.webrtc_listen_port}"
    turn = doc["webrtc"]["ice_servers"][-1]
    assert turn == {"urls": ["turn:t.example:3478"], "username": "u", "credential": SECRET}


def test_killed_go2rtc_is_started_again_within_5s(binary: Path, tmp_path: Path,
                                                   supervisors: list[Go2rtcSupervisor]) -> None:
    cfg = _cfg(tmp_path, binary)
    hb = HeartbeatRegistry()
    sup = Go2rtcSupervisor(cfg, _Streams(StreamConfig("cam", f"rtsp://u:{SECRET}@127.0.0.1:9/x")),
                           hb)
    supervisors.append(sup)
    sup.start()
    first = _wait_status(sup, lambda st: st.ready, 15, "go2rtc running")
    assert first.pid is not None and first.streams == ("cam",)
    assert "go2rtc" in hb.ages() and "go2rtc" not in hb.stale()
    mode = stat.S_IMODE(os.stat(sup.config_path).st_mode)
    assert mode == 0o600, "the config holds camera passwords"

    os.kill(first.pid, signal.SIGKILL)
    killed = time.monotonic()
    again = _wait_status(sup, lambda st: st.ready and st.pid != first.pid, 5.0,
                         "go2rtc running again after SIGKILL", step=0.05)
    assert time.monotonic() - killed <= 5.0
    assert again.restarts == 1
    assert "signal 9" in again.last_exit
    assert "cam" in _streams_api(cfg)


def test_streams_follow_the_stream_list(tmp_path: Path,
                                        supervisors: list[Go2rtcSupervisor]) -> None:
    cfg = _cfg(tmp_path, standin_go2rtc(tmp_path / "bin"))
    streams = _Streams(StreamConfig("a", "rtsp://127.0.0.1:9/a"))
    sup = Go2rtcSupervisor(cfg, streams)
    supervisors.append(sup)
    sup.start()
    wait_until(lambda: sup.status().ready, 15, what="go2rtc running")
    streams.configs.append(StreamConfig("b", "rtsp://127.0.0.1:9/b"))
    wait_until(lambda: set(_streams_api(cfg)) == {"a", "b"}, 10,
               what="stream b added to go2rtc")
    streams.configs = [StreamConfig("b", "rtsp://127.0.0.1:9/b2")]
    wait_until(lambda: _streams_api(cfg) == {"b": {"producers": [
        {"url": "rtsp://127.0.0.1:9/b2"}]}}, 10,
        what="stream a removed and b's URL changed in go2rtc")
    assert wait_until(lambda: sup.status().ready, 10)
    assert sup.status().streams == ("b",)


def test_missing_binary_is_a_clear_error_and_stops_cleanly(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "go2rtc"
    hb = HeartbeatRegistry()
    sup = Go2rtcSupervisor(_cfg(tmp_path, missing), _Streams(), hb)
    sup.start()
    try:
        st = _wait_status(sup, lambda s: s.state is Go2rtcState.ERROR, 10, "the error state")
        assert str(missing) in st.error and "[go2rtc] binary_path" in st.error
        assert st.pid is None and not st.ready
    finally:
        began = time.monotonic()
        sup.stop(3.0)
    assert time.monotonic() - began < 3.0
    assert "go2rtc" not in hb.ages()


def test_go2rtc_without_its_api_is_restarted_with_the_reason(tmp_path: Path) -> None:
    with socket.socket() as taken:  # someone else holds [go2rtc] api_port
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        cfg = _cfg(tmp_path, standin_go2rtc(tmp_path / "bin"), api_port=taken.getsockname()[1])
        sup = Go2rtcSupervisor(cfg, _Streams(), api_timeout=1.5)
        sup.start()
        try:
            st = _wait_status(sup, lambda s: s.restarts >= 1, 15, "a restart")
            assert f"127.0.0.1:{cfg.api_port} did not answer" in st.last_exit
            assert "[go2rtc] api_port" in st.last_exit and not st.ready
        finally:
            sup.stop(3.0)


@pytest.mark.parametrize("stubborn", [False, True], ids=["sigterm", "ignores-sigterm"])
def test_stop_ends_thread_and_process_within_deadline(tmp_path: Path, stubborn: bool) -> None:
    cfg = _cfg(tmp_path, standin_go2rtc(tmp_path / "bin", ignore_sigterm=stubborn))
    before = {t.ident for t in threading.enumerate()}
    sup = Go2rtcSupervisor(cfg, _Streams())
    sup.start()
    pid = _wait_status(sup, lambda st: st.ready, 15, "go2rtc running").pid
    assert pid is not None
    assert any(t.name == "go2rtc" for t in threading.enumerate())
    began = time.monotonic()
    sup.stop(3.0)
    assert time.monotonic() - began < 3.0 + 0.5
    assert {t.ident for t in threading.enumerate() if t.is_alive()} <= before
    assert _pid_gone(pid)
    assert sup.status().state is Go2rtcState.STOPPED
