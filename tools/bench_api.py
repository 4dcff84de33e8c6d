#!/usr/bin/env python3
"""API benchmark: p50/p99 latency and throughput of GET /api/recordings and live HLS segment
fetches with N concurrent clients, against an idle server and one whose streams record,
printed side by side.

    .venv/bin/python tools/bench_api.py [--clients 50] [--seconds 10] [--streams 4]
                                        [--inprocess]

Design: the main process prepares one data directory (a real migrated database with
`--recordings` rows, the streams (disabled), HLS playlists and segments per stream, an admin
API key). Default mode starts the whole daemon on it (`python -m lightnvr -c <tmp conf>`),
measures it idle, then enables the streams (built-in `demo://testsrc` cameras, so the real
reader -> recorder / live-writer path runs) and measures again while they record.
`--inprocess` (or a tree where the daemon cannot start) instead runs only the WebApp +
cheroot server in a child process, once idle and once with one synthetic recorder thread per
stream (fsync'd segment files, HLS segments, recording rows through RecordingsRepo).
The load generator (this process, one thread per client, keep-alive connections, API-key
auth) never shares a GIL with the server. HLS clients re-read the playlist every few
requests and time only the segment fetch; a segment that rotated away between playlist and
fetch (404) is counted as "rotated", not as an error.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SEGMENT_BYTES = 256 * 1024  # ~2 Mbit/s camera, one HLS segment per second
HLS_SEGMENTS = 6


def _paths(data: str) -> dict[str, str]:
    return {"db": os.path.join(data, "lightnvr.db"), "rec": os.path.join(data, "recordings"),
            "hls": os.path.join(data, "hls"), "www": os.path.join(data, "www"),
            "key": os.path.join(data, "api_key")}


def _write_hls(hls_dir: str, seq: int) -> None:
    os.makedirs(hls_dir, exist_ok=True)
    for i in range(seq, seq + HLS_SEGMENTS):
        with open(os.path.join(hls_dir, f"seg{i % 100}.ts"), "wb") as fh:
            fh.write(os.urandom(1024) * (SEGMENT_BYTES // 1024))
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:1",
             f"#EXT-X-MEDIA-SEQUENCE:{seq}"]
    for i in range(seq, seq + HLS_SEGMENTS):
        lines += ["#EXTINF:1.0,", f"seg{i % 100}.ts"]
    tmp = os.path.join(hls_dir, ".index.m3u8.tmp")
    with open(tmp, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    os.replace(tmp, os.path.join(hls_dir, "index.m3u8"))


def prepare(data: str, streams: int, recordings: int) -> list[str]:
    """Database, streams, recordings rows, HLS files and an admin API key under `data`."""
    from lightnvr.core.config import WebConfig
    from lightnvr.core.recordings_store import SegmentOpened
    from lightnvr.core.stream_config import StreamConfig
    from lightnvr.database.manager import Database
    from lightnvr.database.recordings import RecordingsRepo
    from lightnvr.database.sessions import SessionsRepo
    from lightnvr.database.streams import StreamsRepo
    from lightnvr.database.users import UsersRepo
    from lightnvr.web.auth import Auth

    p = _paths(data)
    for d in (p["rec"], p["hls"], p["www"]):
        os.makedirs(d, exist_ok=True)
    db = Database(p["db"])
    db.open()
    names = [f"cam{i}" for i in range(streams)]
    repo = StreamsRepo(db)
    recs = RecordingsRepo(db)
    now = time.time()
    for name in names:
        repo.create(StreamConfig(name=name, url="demo://testsrc?size=1280x720&fps=15",
                                 enabled=False, segment_duration=10, record_audio=False))
        _write_hls(os.path.join(p["hls"], name), 0)
    for i in range(recordings):
        name = names[i % streams]
        start = now - (recordings - i) * 60
        rid = recs.segment_opened(SegmentOpened(name, os.path.join(p["rec"], name, f"{i}.mp4"),
                                                start, 1920, 1080, 15, "h264"))
        recs.segment_closed(rid, start + 60, 15_000_000)
    auth = Auth(WebConfig(password="bench-password-1"), UsersRepo(db), SessionsRepo(db), data)
    auth.ensure_admin()
    # The first admin must change its password before anything else answers (docs/security.md).
    auth.set_password(1, "bench-password-2")
    key = auth.new_api_key(1)
    with open(p["key"], "w") as fh:
        fh.write(key or "")
    db.close()
    return names


class _Streams:
    """Stream manager stand-in for the benchmark server: HLS directories only."""

    def __init__(self, hls_root: str) -> None:
        self.hls_root = hls_root

    def hls_dir(self, name: str) -> str:
        return os.path.join(self.hls_root, name)

    def statuses(self) -> list[object]:
        return []

    def status(self, name: str) -> None:
        return None

    def manual_recording(self, name: str) -> bool:
        return False


def _recorder(name: str, p: dict[str, str], recs: object, stop: threading.Event) -> None:
    """One synthetic recorder: 1 s of data per tick, a new segment row every 2 s."""
    from lightnvr.core.recordings_store import SegmentOpened

    seq, rid, fh, size = 0, None, None, 0
    os.makedirs(os.path.join(p["rec"], name), exist_ok=True)
    while not stop.wait(1.0):
        if rid is None or seq % 2 == 0:
            if rid is not None and fh is not None:
                fh.flush()
                os.fsync(fh.fileno())
                fh.close()
                recs.segment_closed(rid, time.time(), size)  # type: ignore[attr-defined]
            path = os.path.join(p["rec"], name, f"live-{seq}-{time.time_ns()}.mp4")
            rid = recs.segment_opened(SegmentOpened(  # type: ignore[attr-defined]
                name, path, time.time(), 1920, 1080, 15, "h264"))
            fh, size = open(path, "wb"), 0  # noqa: SIM115 - lives across ticks
        assert fh is not None
        fh.write(os.urandom(SEGMENT_BYTES))
        size += SEGMENT_BYTES
        os.fdatasync(fh.fileno())
        seq += 1
        _write_hls(os.path.join(p["hls"], name), seq)
    if fh is not None:
        fh.close()


def serve(data: str, record: bool, threads: int) -> None:
    """Child process: run the real WebApp/WebServer over `data`; print READY <port>."""
    import dataclasses

    from lightnvr.core.config import Config
    from lightnvr.core.logger import get_log_ring
    from lightnvr.database.manager import Database
    from lightnvr.database.recordings import RecordingsRepo
    from lightnvr.database.streams import StreamsRepo
    from lightnvr.storage.manager import StorageManager
    from lightnvr.web.app import WebApp
    from lightnvr.web.context import WebContext
    from lightnvr.web.server import WebServer

    p = _paths(data)
    db = Database(p["db"])
    db.open()
    d = Config()
    cfg = dataclasses.replace(
        d, web=dataclasses.replace(d.web, bind_ip="127.0.0.1", root=p["www"],
                                   web_thread_pool_size=threads),
        storage=dataclasses.replace(d.storage, path=p["rec"], path_hls=p["hls"]))
    recs = RecordingsRepo(db)
    ctx = WebContext(config=cfg, config_path=None, db=db, streams=StreamsRepo(db),
                     recordings=recs, stream_manager=_Streams(p["hls"]),  # type: ignore[arg-type]
                     storage=StorageManager(cfg.storage, db), governor=None, pool=None,
                     log_ring=get_log_ring(), data_dir=data, started_at=time.time())
    server = WebServer(cfg.web, WebApp(ctx), port=0)
    server.start()
    stop = threading.Event()
    workers = []
    if record:
        for s in ctx.streams.list():
            t = threading.Thread(target=_recorder, args=(s.name, p, recs, stop),
                                 name=f"recorder:{s.name}", daemon=True)
            t.start()
            workers.append(t)
    print(f"READY {server.bound_port}", flush=True)
    sys.stdin.read()  # parent closes stdin to stop us
    stop.set()
    for t in workers:
        t.join(5)
    server.stop(5.0)
    db.close()


@dataclass
class Samples:
    lock: threading.Lock = field(default_factory=threading.Lock)
    lat: dict[str, list[float]] = field(default_factory=lambda: {"rec": [], "hls": []})
    errors: dict[str, int] = field(default_factory=lambda: {"rec": 0, "hls": 0})
    rotated: int = 0
    hls_bytes: int = 0


def _playlist(conn: http.client.HTTPConnection, name: str,
              headers: dict[str, str]) -> list[str]:
    conn.request("GET", f"/hls/{name}/index.m3u8", headers=headers)
    resp = conn.getresponse()
    body = resp.read()
    if resp.status != 200:
        return []
    return [ln for ln in body.decode().splitlines() if ln and not ln.startswith("#")]


def _client(port: int, key: str, names: list[str], stop: threading.Event, out: Samples,
            seed: int) -> None:
    rnd = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"X-API-Key": key}
    local: dict[str, list[float]] = {"rec": [], "hls": []}
    errors = {"rec": 0, "hls": 0}
    rotated = 0
    hls_bytes = 0
    segs: dict[str, list[str]] = {}
    n = 0
    while not stop.is_set():
        n += 1
        name = rnd.choice(names)
        try:
            if n % 5 == 1 or not segs.get(name):
                segs[name] = _playlist(conn, name, headers)
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        seg = segs.get(name) or ["missing.m4s"]
        for kind, path in (("rec", f"/api/recordings?stream={name}&limit=50"
                                   f"&page={rnd.randint(1, 5)}"),
                           ("hls", f"/hls/{name}/{rnd.choice(seg[-3:])}")):
            t0 = time.perf_counter()
            status = 0
            try:
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                size = len(resp.read())
                status = resp.status
                if kind == "hls" and status == 200:
                    hls_bytes += size
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            if status == 200:
                local[kind].append(time.perf_counter() - t0)
            elif kind == "hls" and status == 404:
                rotated += 1
                segs.pop(name, None)
            else:
                errors[kind] += 1
    conn.close()
    with out.lock:
        for k in local:
            out.lat[k].extend(local[k])
            out.errors[k] += errors[k]
        out.rotated += rotated
        out.hls_bytes += hls_bytes


def _load(port: int, key: str, names: list[str], clients: int,
          seconds: float) -> tuple[Samples, float]:
    out, stop = Samples(), threading.Event()
    ts = [threading.Thread(target=_client, args=(port, key, names, stop, out, i),
                           name=f"bench-client-{i}") for i in range(clients)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    stop.wait(seconds)
    stop.set()
    for t in ts:
        t.join(60)
    return out, time.monotonic() - t0


def run_phase(data: str, record: bool, clients: int, seconds: float, threads: int,
              names: list[str]) -> tuple[Samples, float]:
    child = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--serve", data,
                              "--threads", str(threads)] + (["--record"] if record else []),
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdin is not None
        line = child.stdout.readline()
        if not line.startswith("READY"):
            raise SystemExit(f"benchmark server did not start: {line!r}")
        port = int(line.split()[1])
        with open(_paths(data)["key"]) as fh:
            key = fh.read().strip()
        if record:
            time.sleep(2.5)  # recorders running before we measure
        return _load(port, key, names, clients, seconds)
    finally:
        if child.stdin is not None:
            child.stdin.close()
        child.wait(30)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _call(port: int, key: str, method: str, path: str, body: bytes | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers={"X-API-Key": key,
                                                       "Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def daemon_available() -> bool:
    try:
        import lightnvr.app  # noqa: F401  (the daemon's wiring; imports every subsystem)
    except ImportError:
        return False
    return True


def run_daemon(data: str, names: list[str], clients: int, seconds: float,
               threads: int) -> tuple[tuple[Samples, float], tuple[Samples, float]]:
    """The whole daemon on `data`: load idle, then enable the demo streams and load again."""
    p = _paths(data)
    port = _free_port()
    conf = os.path.join(data, "lightnvr.conf")
    with open(conf, "w") as fh:
        fh.write(f"[general]\nlog_file = {data}/lightnvr.log\npid_file = {data}/pid\n"
                 f"log_level = 1\n[storage]\npath = {p['rec']}\npath_hls = {p['hls']}\n"
                 f"[database]\npath = {p['db']}\n[web]\nport = {port}\n"
                 f"bind_ip = 127.0.0.1\nroot = {p['www']}\n"
                 f"web_thread_pool_size = {threads}\n")
    with open(p["key"]) as fh:
        key = fh.read().strip()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    log = open(os.path.join(data, "stderr.log"), "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "lightnvr", "-c", conf], cwd=root,
                            stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _call(port, key, "GET", "/api/health") == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("daemon did not become ready; see its stderr")
            time.sleep(0.2)
        idle = _load(port, key, names, clients, seconds)
        for name in names:
            if _call(port, key, "PUT", f"/api/streams/{name}", b'{"enabled": true}') != 200:
                raise SystemExit(f"could not enable stream {name}")
        time.sleep(12)  # streams connect, live playlists fill, first segments are recorded
        recording = _load(port, key, names, clients, seconds)
        return idle, recording
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _stats(lat: list[float], elapsed: float) -> tuple[str, str, str]:
    if not lat:
        return "-", "-", "0"
    q = statistics.quantiles(lat, n=100, method="inclusive")
    return f"{q[49] * 1000:.1f}", f"{q[98] * 1000:.1f}", f"{len(lat) / elapsed:.0f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--streams", type=int, default=4)
    ap.add_argument("--recordings", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=8, help="web_thread_pool_size (default 8)")
    ap.add_argument("--inprocess", action="store_true",
                    help="benchmark the web server alone with synthetic recorders")
    ap.add_argument("--serve", metavar="DATA", help=argparse.SUPPRESS)
    ap.add_argument("--record", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve, args.record, args.threads)
        return 0
    daemon = not args.inprocess and daemon_available()
    data = tempfile.mkdtemp(prefix="lightnvr-bench-")
    try:
        names = prepare(data, args.streams, args.recordings)
        if daemon:
            (idle, t_idle), (rec, t_rec) = run_daemon(data, names, args.clients,
                                                      args.seconds, args.threads)
        else:
            idle, t_idle = run_phase(data, False, args.clients, args.seconds, args.threads,
                                     names)
            rec, t_rec = run_phase(data, True, args.clients, args.seconds, args.threads, names)
    finally:
        shutil.rmtree(data, ignore_errors=True)
    print(f"\nlightnvr API benchmark: {args.clients} clients, {args.seconds:g} s per phase, "
          f"{args.streams} streams, {args.recordings} recordings, {args.threads} web threads")
    if daemon:
        print("(whole daemon: python -m lightnvr; 'recording' = the streams enabled as "
              "built-in demo cameras 1280x720@15, recording and serving live HLS)\n")
    else:
        print("(WebApp + cheroot server only, in a child process; 'recording' = one synthetic "
              "recorder per stream: 2 Mbit/s fsync'd segment files, HLS segments, DB rows)\n")
    hdr = f"{'':28}{'idle':^26}|{'recording':^26}"
    print(hdr)
    print(f"{'endpoint':28}{'p50 ms':>8}{'p99 ms':>9}{'req/s':>9} |{'p50 ms':>8}{'p99 ms':>9}"
          f"{'req/s':>9}")
    for kind, label in (("rec", "GET /api/recordings"), ("hls", "GET /hls/<s>/segN.ts")):
        a, b = _stats(idle.lat[kind], t_idle), _stats(rec.lat[kind], t_rec)
        print(f"{label:28}{a[0]:>8}{a[1]:>9}{a[2]:>9} |{b[0]:>8}{b[1]:>9}{b[2]:>9}")
    print(f"{'errors (rec/hls)':28}{idle.errors['rec']:>8}/{idle.errors['hls']:<17}|"
          f"{rec.errors['rec']:>8}/{rec.errors['hls']}")
    print(f"{'HLS segments rotated away':28}{idle.rotated:>8}{'':18}|{rec.rotated:>8}")
    kb = [o.hls_bytes / max(1, len(o.lat["hls"])) / 1024 for o in (idle, rec)]
    print(f"{'mean HLS segment size KiB':28}{kb[0]:>8.0f}{'':18}|{kb[1]:>8.0f}")
    return 1 if any(idle.errors.values()) or any(rec.errors.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
