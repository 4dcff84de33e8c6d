"""`make arm-check`: run lightnvr on arm64 Debian under qemu-user emulation, record, measure.

Steps (each logged; run as root on a Debian/Ubuntu amd64 host):
 1. apt-get install debootstrap, qemu-user-static, binfmt-support when missing.
 2. Mount binfmt_misc at /proc/sys/fs/binfmt_misc if needed and register qemu-aarch64 (with
    the F flag, so the interpreter also works inside the chroot).
 3. debootstrap a minimal arm64 Debian bookworm into build/arm64-rootfs (once; reused).
 4. Build the wheel (python -m build --wheel) unless --wheel is given, install it with its
    dependencies (aarch64 wheels from the package index) into /opt/lightnvr in the rootfs.
 5. Start the test camera (tools/test_camera.py, host loopback), start lightnvr in the chroot
    as user `lightnvr` with the Buildroot device config (paths moved by LIGHTNVR_* variables),
    add two recording streams (H.264 with motion detection, and H.265) through the API, let
    them record --duration seconds while sampling the daemon's RSS/PSS, check that the motion
    detector decoded frames and saw the moving picture, fetch /api/health and one recording.
 6. Stop the daemon with SIGTERM (orderly shutdown expected), stop the camera, undo every
    mount and binfmt registration this run made, write build/arm-check/result.json.

Design: no threads; the camera and the daemon are child processes, stopped in `finally`.
Memory: under qemu-user the ARM process *is* the qemu process, so /proc/PID/smaps_rollup
(what the daemon's own psutil reads too) includes qemu's translated-code cache: the figures
are an upper bound of what the same process uses on a real ARM board.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEVICE_CONF = ROOT / "buildroot" / "package" / "python-lightnvr" / "lightnvr.conf"
BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")
BINFMT_CONF = Path("/usr/lib/binfmt.d/qemu-aarch64.conf")
HOST_PACKAGES = ("debootstrap", "qemu-user-static", "binfmt-support")
SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
CHROOT_PACKAGES = "python3,python3-venv,ca-certificates,passwd"
VENV = "/opt/lightnvr"
# The daemon runs with the chroot's PATH; the host's chroot(8) is in /usr/sbin.
CHROOT = shutil.which("chroot") or "/usr/sbin/chroot"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# Never set: waits on it are interruptible pauses (no bare sleep in loops).
_PAUSE = threading.Event()


def log(msg: str) -> None:
    print(f"[arm-check] {msg}", flush=True)


def run(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    """Run a command, echoing it; raise with its output when it fails."""
    log("$ " + " ".join(cmd))
    proc = subprocess.run(cmd, text=True, capture_output=True, **kw)
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n"
                         f"{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return proc


class Mounts:
    """Mounts made by this run, undone in reverse order (lazily if busy)."""

    def __init__(self) -> None:
        self._targets: list[Path] = []

    def mount(self, args: list[str], target: Path) -> None:
        target.mkdir(parents=True, exist_ok=True)
        run(["mount", *args, str(target)])
        self._targets.append(target)

    def close(self) -> None:
        while self._targets:
            target = self._targets.pop()
            if subprocess.run(["umount", str(target)]).returncode != 0:
                subprocess.run(["umount", "-l", str(target)])
            log(f"unmounted {target}")


def ensure_host_packages() -> None:
    missing = [p for p in HOST_PACKAGES
               if subprocess.run(["dpkg", "-s", p], capture_output=True).returncode != 0]
    if missing:
        run(["apt-get", "update", "-qq"])
        run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def ensure_binfmt(mounts: Mounts) -> bool:
    """Make arm64 ELF files runnable; True when this run registered the handler."""
    if not (BINFMT_DIR / "register").exists():
        mounts.mount(["-t", "binfmt_misc", "binfmt_misc"], BINFMT_DIR)
    if (BINFMT_DIR / "qemu-aarch64").exists():
        return False
    line = BINFMT_CONF.read_text().strip()
    # F: the kernel opens the interpreter now, so it works inside the chroot too.
    name, flags = line.split(":")[1], line.rsplit(":", 1)[1]
    if "F" not in flags:
        line += "F"
    (BINFMT_DIR / "register").write_text(line + "\n")
    log(f"registered binfmt handler {name}")
    return True


def unregister_binfmt() -> None:
    entry = BINFMT_DIR / "qemu-aarch64"
    if entry.exists():
        entry.write_text("-1\n")
        log("unregistered binfmt handler qemu-aarch64")


def debian_mirror() -> str:
    """The host's own Debian mirror (deb822 or one-line sources), else the default."""
    for src in sorted(Path("/etc/apt").glob("sources.list.d/*.sources")):
        for line in src.read_text().splitlines():
            if line.startswith("URIs:") and "security" not in line:
                return line.split()[1].rstrip("/")
    legacy = Path("/etc/apt/sources.list")
    if legacy.exists():
        for line in legacy.read_text().splitlines():
            parts = line.split()
            if parts[:1] == ["deb"] and "security" not in line:
                return next(p for p in parts[1:] if "://" in p).rstrip("/")
    return DEFAULT_MIRROR


def bootstrap(rootfs: Path, mirror: str) -> None:
    stamp = rootfs / ".lightnvr-bootstrap-ok"
    if stamp.exists():
        log(f"reusing {rootfs}")
        return
    try:
        urllib.request.urlopen(f"{mirror}/dists/{SUITE}/Release", timeout=20).close()
    except OSError as exc:
        raise SystemExit(f"Debian mirror {mirror} is not reachable: {exc}") from exc
    if rootfs.exists():
        shutil.rmtree(rootfs)  # a half-finished bootstrap is not reusable
    run(["debootstrap", "--arch=arm64", "--variant=minbase",
         f"--include={CHROOT_PACKAGES}", SUITE, str(rootfs), mirror], timeout=3600)
    stamp.write_text(time.strftime("%Y-%m-%dT%H:%M:%SZ\n", time.gmtime()))


def mount_chroot(mounts: Mounts, rootfs: Path) -> None:
    mounts.mount(["-t", "proc", "proc"], rootfs / "proc")
    mounts.mount(["-t", "sysfs", "sysfs"], rootfs / "sys")
    mounts.mount(["--bind", "/dev"], rootfs / "dev")
    mounts.mount(["-t", "devpts", "devpts"], rootfs / "dev" / "pts")
    mounts.mount(["-t", "tmpfs", "-o", "mode=0755", "tmpfs"], rootfs / "run")
    shutil.copyfile("/etc/resolv.conf", rootfs / "etc" / "resolv.conf")


def chroot(rootfs: Path, *cmd: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": "/root",
           "LANG": "C.UTF-8"}
    return run(["chroot", str(rootfs), *cmd], env=env, timeout=timeout)


def build_wheel(out: Path) -> Path:
    if out.exists():
        shutil.rmtree(out)
    run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
        timeout=900)
    return next(out.glob("lightnvr-*.whl"))


def install_lightnvr(rootfs: Path, wheel: Path) -> None:
    shutil.copyfile(wheel, rootfs / "tmp" / wheel.name)
    if not (rootfs / VENV.lstrip("/") / "bin" / "python").exists():
        chroot(rootfs, "python3", "-m", "venv", VENV)
    # The host's trust store: where downloads go through a TLS-inspecting proxy, only the
    # host's bundle knows its CA (Debian's ca-certificates in the rootfs does not).
    cert: list[str] = []
    if HOST_CA_BUNDLE.is_file():
        shutil.copyfile(HOST_CA_BUNDLE, rootfs / "tmp" / "host-ca-bundle.crt")
        cert = ["--cert", "/tmp/host-ca-bundle.crt"]
    chroot(rootfs, f"{VENV}/bin/pip", "install", "-q", *cert, "--force-reinstall",
           f"/tmp/{wheel.name}", timeout=3600)
    if subprocess.run(["chroot", str(rootfs), "id", "lightnvr"],
                      capture_output=True).returncode != 0:
        chroot(rootfs, "useradd", "--system", "--user-group", "--no-create-home",
               "--shell", "/usr/sbin/nologin", "lightnvr")
    (rootfs / "etc" / "lightnvr").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DEVICE_CONF, rootfs / "etc" / "lightnvr" / "lightnvr.conf")
    for d in ("var/lib/lightnvr", "var/log/lightnvr"):
        # Every run starts as a first boot: no users, streams or recordings of an earlier run
        # (the admin password is only taken from the config when the user is created).
        shutil.rmtree(rootfs / d, ignore_errors=True)
        (rootfs / d).mkdir(parents=True)
    chroot(rootfs, "chown", "-R", "lightnvr:lightnvr", "/var/lib/lightnvr", "/var/log/lightnvr")


def start_camera(port: int, log_path: Path) -> subprocess.Popen[str]:
    with open(log_path, "w") as err:  # the child keeps its own copy of the descriptor
        cam = subprocess.Popen(
            ["/usr/bin/python3", str(ROOT / "tools" / "test_camera.py"), "--port", str(port),
             "--size", "640x360", "--fps", "15", "--kbps", "800"],
            stdout=subprocess.PIPE, stderr=err, text=True)
    assert cam.stdout is not None
    line = cam.stdout.readline()  # blocks until READY (or the camera dies: EOF)
    if not line.startswith("READY"):
        cam.kill()
        raise SystemExit(f"test camera did not start (see {log_path})")
    log(line.strip())
    return cam


def daemon_env(port: int, password: str, rootfs: Path) -> dict[str, str]:
    """The device config, with data moved off /data (no data partition in the chroot)."""
    site = next((rootfs / VENV.lstrip("/") / "lib").glob("python3*/site-packages"))
    return {
        "PATH": "/usr/bin:/bin", "HOME": "/var/lib/lightnvr", "LANG": "C.UTF-8",
        "LIGHTNVR_WEB_PORT": str(port), "LIGHTNVR_WEB_BIND_IP": "127.0.0.1",
        "LIGHTNVR_WEB_PASSWORD": password,
        "LIGHTNVR_WEB_ROOT": "/" + str(site.relative_to(rootfs) / "lightnvr" / "www"),
        "LIGHTNVR_STORAGE_PATH": "/var/lib/lightnvr/recordings",
        "LIGHTNVR_DATABASE_PATH": "/var/lib/lightnvr/lightnvr.db",
        "LIGHTNVR_STORAGE_MP4_SEGMENT_DURATION": "20",
    }


class Api:
    """Minimal JSON client for the daemon (HTTP Basic as the admin)."""

    def __init__(self, port: int, password: str) -> None:
        self.base = f"http://127.0.0.1:{port}"
        token = base64.b64encode(f"admin:{password}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}"}

    def call(self, method: str, path: str, body: Any = None, timeout: float = 30) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        headers = dict(self.headers, **({"Content-Type": "application/json"} if data else {}))
        req = urllib.request.Request(self.base + path, data=data, headers=headers,
                                     method=method)
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def settle_password(self, password: str) -> str:
        """Change the first admin's configured password, as the server demands before anything
        else (docs/security.md); later calls use the new one, which is returned."""
        me = self.call("GET", "/api/auth/verify")
        if not me.get("must_change_password"):
            return password
        new = secrets.token_urlsafe(12)
        self.call("PUT", f"/api/auth/users/{me['id']}/password",
                  {"old_password": password, "new_password": new})
        token = base64.b64encode(f"admin:{new}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}"}
        return new

    def download(self, path: str, dest: Path) -> int:
        req = urllib.request.Request(self.base + path, headers=self.headers)
        with urllib.request.urlopen(req, timeout=120) as resp, open(dest, "wb") as fh:
            shutil.copyfileobj(resp, fh)
        return dest.stat().st_size

    def wait_healthy(self, proc: subprocess.Popen[str], deadline_s: float) -> dict[str, Any]:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if proc.poll() is not None:
                raise SystemExit(f"lightnvr exited during start-up with {proc.returncode}")
            try:
                health: dict[str, Any] = self.call("GET", "/api/health", timeout=5)
                return health
            except (OSError, urllib.error.HTTPError):
                _PAUSE.wait(1)  # start-up poll, bounded by the deadline above
        raise SystemExit(f"lightnvr did not answer /api/health within {deadline_s:.0f} s")


def memory_of(pid: int) -> dict[str, int]:
    """RSS/PSS (kB) of a process from smaps_rollup (children excluded)."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("Rss", "Pss", "Anonymous", "Swap"):
            out[key.lower() + "_kb"] = int(rest.split()[0])
    return out


def emulation_baseline(rootfs: Path) -> dict[str, int]:
    """RSS/PSS of an idle interpreter that imported lightnvr's dependencies, under qemu-user:
    what emulation and the libraries cost before the daemon does anything."""
    proc = subprocess.Popen(
        [CHROOT, str(rootfs), f"{VENV}/bin/python", "-c",
         "import sys, av, cheroot.wsgi, orjson, psutil; print('up', flush=True); "
         "sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={"PATH": "/usr/bin:/bin"})
    assert proc.stdout is not None and proc.stdin is not None
    proc.stdout.readline()
    mem = memory_of(proc.pid)
    proc.stdin.close()
    proc.wait(30)
    log(f"idle interpreter with av/cheroot/orjson/psutil imported, emulated: {mem}")
    return mem


def record_and_sample(api: Api, daemon: subprocess.Popen[str], camera_port: int,
                      duration: float) -> dict[str, Any]:
    streams = {"arm264": "live264", "arm265": "live265"}
    for name, mount in streams.items():
        # arm264 also watches for motion (numpy on ARM; its picture has a moving ball)
        motion = ({"detection_based_recording": True, "detection_model": "motion",
                   "detection_interval": 1} if name == "arm264" else {})
        api.call("POST", "/api/streams", {
            "name": name, "url": f"rtsp://127.0.0.1:{camera_port}/{mount}",
            "enabled": True, "streaming_enabled": True, "record": True,
            "segment_duration": 20, **motion})
        log(f"added stream {name} -> {mount}{' with motion detection' if motion else ''}")
    samples: list[dict[str, int]] = []
    stop = time.monotonic() + duration
    while time.monotonic() < stop:
        if daemon.poll() is not None:
            raise SystemExit(f"lightnvr died while recording (exit {daemon.returncode})")
        samples.append(memory_of(daemon.pid))
        _PAUSE.wait(5)  # sampling period; the loop ends at a fixed deadline
    last = samples[-1]
    peak = {k: max(s[k] for s in samples) for k in last}
    log(f"memory now {last}, peak {peak}")
    return {"samples": samples, "last": last, "peak": peak, "streams": list(streams)}


def check_motion(api: Api, name: str) -> dict[str, Any]:
    """The daemon's motion detector on `name`: it decoded frames and saw the test picture's
    moving ball - unless the memory governor paused it (under qemu-user the translated-code
    cache counts as the daemon's memory, so the device config can read CRITICAL; detectors
    pause then, by design). `motion_in_chroot` checks the detector itself in that case."""
    stream = api.call("GET", f"/api/streams/{name}")
    detection = dict(stream.get("detection", {})) if isinstance(stream, dict) else {}
    log(f"motion detection on {name}: {detection}")
    if detection.get("state") == "paused":
        log("the memory governor paused detection (emulation's memory): checked offline")
        return detection
    if not detection.get("frames") or not detection.get("events"):
        raise SystemExit(f"motion detection did not run or saw no motion on {name}: {stream}")
    return detection


MOTION_SCRIPT = """
import sys, av
from lightnvr.video.detection.motion import MotionDetector
det, frames, events = MotionDetector(), 0, 0
with av.open(sys.argv[1]) as c:
    rate = float(c.streams.video[0].average_rate or 15)
    for i, f in enumerate(c.decode(video=0)):
        if i % max(1, round(rate)):
            continue  # one frame a second, as detection_interval 1 does
        gray = f.reformat(width=320, height=180, format="gray").to_ndarray()
        r = det.analyse(gray, i / rate)
        frames, events = frames + 1, events + int(r.event)
print(frames, events)
"""


def motion_in_chroot(rootfs: Path, stream: str) -> dict[str, Any]:
    """The motion detector (numpy on aarch64) over a recording of `stream`, in the chroot:
    one frame a second of the live264 picture (a moving ball) must give motion events."""
    found = sorted((rootfs / "var" / "lib" / "lightnvr").rglob(f"{stream}/**/*.mp4"))
    if not found:
        raise SystemExit(f"no recording of {stream} in the rootfs to run motion detection on")
    path = "/" + str(found[0].relative_to(rootfs))
    out = chroot(rootfs, f"{VENV}/bin/python", "-c", MOTION_SCRIPT, path).stdout.split()
    frames, events = int(out[0]), int(out[1])
    log(f"motion detector in the chroot over {path}: {frames} frames, {events} events")
    if frames < 5 or events < 1:
        raise SystemExit(f"motion detection on aarch64 saw {events} events in {frames} frames")
    return {"file": path, "frames": frames, "events": events}


def fetch_recording(api: Api, out_dir: Path, streams: list[str]) -> dict[str, Any]:
    listing = api.call("GET", "/api/recordings?limit=100&sort=start_time&order=asc")
    recordings = listing.get("recordings", []) if isinstance(listing, dict) else []
    complete = [r for r in recordings if r.get("is_complete")]
    per_stream = {name: sum(1 for r in complete if r.get("stream_name") == name)
                  for name in streams}
    if not all(per_stream.values()):
        raise SystemExit(f"a stream has no complete recording: {per_stream}: {recordings}")
    rec = complete[0]
    dest = out_dir / f"recording-{rec['id']}.mp4"
    size = api.download(f"/api/recordings/download/{rec['id']}", dest)
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_name",
         "-of", "json", str(dest)], capture_output=True, text=True)
    if probe.returncode != 0:
        raise SystemExit(f"the downloaded recording does not decode: {probe.stderr}")
    info = json.loads(probe.stdout)
    log(f"downloaded recording {rec['id']} ({rec.get('stream_name') or rec.get('stream')}): "
        f"{size} bytes, ffprobe {info}")
    return {"count": len(recordings), "complete_per_stream": per_stream, "fetched": rec,
            "file": str(dest), "bytes": size, "ffprobe": info}


def stop_process(proc: subprocess.Popen[str], name: str, timeout: float) -> int | None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log(f"{name} did not stop within {timeout:.0f} s: killing it")
            proc.kill()
            proc.wait()
    log(f"{name} exited with {proc.returncode}")
    return proc.returncode


def chroot_daemon(rootfs: Path, port: int, password: str) -> tuple[list[str], dict[str, str]]:
    """lightnvr in the arm64 rootfs as user lightnvr, with the device config."""
    (rootfs / "run" / "lightnvr").mkdir(parents=True, exist_ok=True)
    chroot(rootfs, "chown", "lightnvr:lightnvr", "/run/lightnvr")
    cmd = [CHROOT, "--userspec=lightnvr:lightnvr", str(rootfs), f"{VENV}/bin/lightnvr",
           "-c", "/etc/lightnvr/lightnvr.conf"]
    return cmd, daemon_env(port, password, rootfs)


def native_daemon(out_dir: Path, port: int, password: str) -> tuple[list[str], dict[str, str]]:
    """--native: the same config and workload on the host, from the checkout's venv (the
    reference that shows what emulation adds)."""
    state = out_dir / "native"
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir(parents=True)
    env = {
        "PATH": "/usr/bin:/bin", "HOME": str(state), "LANG": "C.UTF-8",
        "LIGHTNVR_WEB_PORT": str(port), "LIGHTNVR_WEB_BIND_IP": "127.0.0.1",
        "LIGHTNVR_WEB_PASSWORD": password, "LIGHTNVR_WEB_ROOT": str(ROOT / "www"),
        "LIGHTNVR_STORAGE_PATH": str(state / "recordings"),
        "LIGHTNVR_STORAGE_PATH_HLS": str(state / "hls"),
        "LIGHTNVR_DATABASE_PATH": str(state / "lightnvr.db"),
        "LIGHTNVR_GENERAL_PID_FILE": str(state / "lightnvr.pid"),
        "LIGHTNVR_GENERAL_LOG_FILE": str(state / "lightnvr.log"),
        "LIGHTNVR_STORAGE_MP4_SEGMENT_DURATION": "20",
    }
    return [str(ROOT / ".venv" / "bin" / "python"), "-m", "lightnvr", "-c", str(DEVICE_CONF)], env


def run_daemon(args: argparse.Namespace, out_dir: Path, password: str,
               cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Camera + daemon: record, sample memory, query the API, stop; the figures."""
    camera = start_camera(args.camera_port, out_dir / "camera.log")
    daemon: subprocess.Popen[str] | None = None
    result: dict[str, Any] = {}
    try:
        with open(out_dir / "lightnvr.log", "w") as daemon_log:
            daemon = subprocess.Popen(cmd, env=env, stdout=daemon_log,
                                      stderr=subprocess.STDOUT, text=True)
            api = Api(args.port, password)
            started = time.monotonic()
            api.wait_healthy(daemon, 300)
            api.settle_password(password)
            result["startup_seconds"] = round(time.monotonic() - started, 1)
            result["memory_idle"] = memory_of(daemon.pid)
            result["memory"] = record_and_sample(api, daemon, args.camera_port, args.duration)
            result["health"] = api.call("GET", "/api/health")
            result["system_status"] = api.call("GET", "/api/system/status")
            result["streams"] = api.call("GET", "/api/streams")
            result["detection"] = check_motion(api, "arm264")
            result["recording"] = fetch_recording(api, out_dir, result["memory"]["streams"])
    finally:
        if daemon is not None:
            result["exit_code"] = stop_process(daemon, "lightnvr", 60)
        stop_process(camera, "test camera", 10)
    return result


def free_port() -> int:
    """A TCP port free on the loopback right now (other test runs may share the host)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--rootfs", default=str(ROOT / "build" / "arm64-rootfs"))
    ap.add_argument("--out", default=str(ROOT / "build" / "arm-check"))
    ap.add_argument("--wheel", help="use this wheel instead of building one")
    ap.add_argument("--mirror", help="Debian mirror (default: the host's apt source)")
    ap.add_argument("--native", action="store_true",
                    help="run the same check on the host (no emulation), for comparison")
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of recording")
    ap.add_argument("--port", type=int, default=0, help="lightnvr web port (0: a free one)")
    ap.add_argument("--camera-port", type=int, default=0,
                    help="test camera RTSP port (0: a free one)")
    args = ap.parse_args(argv)
    args.port = args.port or free_port()
    args.camera_port = args.camera_port or free_port()
    return args


def emulated(args: argparse.Namespace, out_dir: Path) -> dict[str, Any]:
    """Steps 1-6 on the arm64 rootfs; every mount and registration undone on the way out."""
    rootfs = Path(args.rootfs).resolve()
    ensure_host_packages()
    mounts = Mounts()
    registered = False
    try:
        registered = ensure_binfmt(mounts)
        bootstrap(rootfs, args.mirror or debian_mirror())
        wheel = Path(args.wheel) if args.wheel else build_wheel(out_dir / "dist")
        mount_chroot(mounts, rootfs)
        install_lightnvr(rootfs, wheel)
        arch = chroot(rootfs, "uname", "-m").stdout.strip()
        baseline = emulation_baseline(rootfs)
        password = secrets.token_urlsafe(12)
        cmd, env = chroot_daemon(rootfs, args.port, password)
        result = {"arch": arch, "wheel": wheel.name, "baseline_interpreter": baseline,
                  **run_daemon(args, out_dir, password, cmd, env)}
        result["motion_in_chroot"] = motion_in_chroot(rootfs, "arm264")
        return result
    finally:
        if registered:  # before unmounting binfmt_misc, which holds the entry
            unregister_binfmt()
        mounts.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out_dir = Path(args.out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    if args.native:
        password = secrets.token_urlsafe(12)
        cmd, env = native_daemon(out_dir, args.port, password)
        result = {"arch": os.uname().machine, **run_daemon(args, out_dir, password, cmd, env)}
        name = "result-native.json"
    else:
        if os.geteuid() != 0:
            raise SystemExit("arm-check needs root (debootstrap, chroot, mount, binfmt_misc)")
        result = emulated(args, out_dir)
        name = "result.json"
    (out_dir / name).write_text(json.dumps(result, indent=2) + "\n")
    mem = result["memory"]
    print(f"arm-check OK on {result['arch']}: start-up {result['startup_seconds']} s, "
          f"RSS {mem['last']['rss_kb'] / 1024:.1f} MiB (peak {mem['peak']['rss_kb'] / 1024:.1f}), "
          f"PSS {mem['last']['pss_kb'] / 1024:.1f} MiB (peak {mem['peak']['pss_kb'] / 1024:.1f}), "
          f"memory level {result['system_status'].get('memory_pressure')}, "
          f"exit {result['exit_code']}; details in {out_dir / name}")
    return 0 if result["exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
