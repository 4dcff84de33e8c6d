"""The optional swap file of `[memory] use_swap`: create it, enable it at start, disable it at stop.

LightNVR lists a swap file among its memory measures for small boards (`use_swap`,
`swap_file`, `swap_size` in bytes) but never acts on the keys; here they do what they say.
No thread: `SwapFile.enable()` runs once in the memory phase of start-up (app.py) and
`disable()` is a ShutdownCoordinator component at PRIORITY_SWAP, after the streams, storage,
governor and database have stopped, so nothing is paged in while it is being turned off.

Tools: the `mkswap`, `swapon` and `swapoff` commands (util-linux, or BusyBox on the Buildroot
image) when they are on PATH; without them the swap header is written here (the kernel's
version-1 layout, what mkswap writes) and swapon(2)/swapoff(2) are called through ctypes.
When the swap file cannot be enabled (no CAP_SYS_ADMIN, a filesystem that cannot hold swap,
no space, a file in the way that is not a swap file, the kernel says no) one warning says why
and the daemon runs on without it. docs/deploy.md describes the set-up.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import shutil
import stat
import subprocess
import sys
import uuid

from lightnvr.core.shutdown import PRIORITY_DATABASE

log = logging.getLogger(__name__)

PRIORITY_SWAP = PRIORITY_DATABASE - 1   # stopped last: everything that pages has stopped
_CAP_SYS_ADMIN = 21
_MAGIC = b"SWAPSPACE2"
# Filesystems the kernel cannot page to (tmpfs/ramfs would also spend RAM to "save" RAM).
_NO_SWAP_FS = frozenset({"tmpfs", "ramfs", "devtmpfs", "overlay", "squashfs", "nfs", "nfs4",
                         "cifs", "smb3", "fuse", "fuseblk", "zfs", "proc", "sysfs", "9p"})


class SwapFile:
    """One swap file; `enable()` and `disable()` log what they did or why they could not."""

    path: str           # absolute
    page: int           # the kernel's page size
    size: int           # swap_size rounded down to whole pages
    use_commands: bool  # False: our own header writer and the system calls (tests use both)
    enabled: bool       # turned on by this object; only then does disable() turn it off

    def __init__(self, path: str, size_bytes: int, use_commands: bool = True) -> None:
        self.path = os.path.abspath(path)
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.size = size_bytes // self.page * self.page
        self.use_commands = use_commands
        self.enabled = False

    def enable(self) -> bool:
        """Create the file if needed and enable it; False (with one warning) if it cannot."""
        why = self._why_not()
        if why:
            log.warning("swap: %s not enabled: %s", self.path, why)
            return False
        if is_active(self.path):
            # ours by configuration (e.g. left on by a run that was killed): stop turns it off
            log.info("swap: %s is already enabled; it is disabled again at stop", self.path)
            self.enabled = True
            return True
        created = False
        try:
            created = self._prepare()
            self._swapon()
        except (_Refused, OSError) as e:   # never fatal: the daemon runs on without swap
            if created:
                _unlink(self.path)
            reason = str(e) if isinstance(e, _Refused) else (
                f"{e.strerror or e}" + (f": {e.filename}" if e.filename else ""))
            log.warning("swap: %s not enabled: %s", self.path, reason)
            return False
        self.enabled = True
        log.info("swap: enabled %s (%d MiB)", self.path, self.size // (1024 * 1024))
        return True

    def disable(self, seconds_allowed: float = 60.0) -> None:
        """Turn the swap file off again if `enable()` turned it on (it stays on disk)."""
        if not self.enabled:
            return
        try:
            if self._command("swapoff"):
                _run(["swapoff", self.path], max(1.0, seconds_allowed))
            else:
                _syscall("swapoff", self.path)
        except _Refused as e:
            log.warning("swap: %s could not be disabled: %s", self.path, e)
            return
        self.enabled = False
        log.info("swap: disabled %s", self.path)

    # -- steps ---------------------------------------------------------------------------

    def _why_not(self) -> str:
        """Why this process cannot use the file at all ("" when it can try)."""
        if self.size < 10 * self.page:
            return f"[memory] swap_size must be at least {10 * self.page} bytes"
        if not has_cap_sys_admin():
            return (f"enabling swap needs root (CAP_SYS_ADMIN) and the daemon runs as uid "
                    f"{os.geteuid()} without it; enable it outside the daemon or run as root")
        fs = filesystem_type(os.path.dirname(self.path))
        if fs in _NO_SWAP_FS:
            return (f"its filesystem ({fs}) cannot hold a swap file; choose a [memory] "
                    "swap_file on a disk filesystem such as ext4")
        return ""

    def _prepare(self) -> bool:
        """A swap file of the configured size at path; True if it was created now."""
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            st = None
        if st is not None:
            if not stat.S_ISREG(st.st_mode):
                raise _Refused("it exists and is not a regular file; not touching it")
            if not self._has_signature():
                raise _Refused("it exists and is not a swap file; not overwriting it (remove "
                               "it or choose another [memory] swap_file)")
            if st.st_size == self.size and stat.S_IMODE(st.st_mode) & 0o077 == 0:
                return False
            _unlink(self.path)   # a swap file of another size (or mode): made again
        self._create()
        return True

    def _create(self) -> None:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except OSError as e:
            raise _Refused(f"cannot create it: {e.strerror}") from None
        try:
            os.fchmod(fd, 0o600)   # swap holds process memory: nobody else may read it
            # allocated, not sparse: the kernel refuses swap files with holes
            os.posix_fallocate(fd, 0, self.size)
            if not self._command("mkswap"):
                self._write_header(fd)
            os.fsync(fd)
        except OSError as e:
            os.close(fd)
            _unlink(self.path)
            raise _Refused(f"cannot allocate {self.size} bytes: {e.strerror}") from None
        os.close(fd)
        if self._command("mkswap"):
            try:
                _run(["mkswap", self.path], 120.0)
            except _Refused:
                _unlink(self.path)
                raise

    def _write_header(self, fd: int) -> None:
        """The version-1 swap header mkswap writes (linux/swap.h `union swap_header`)."""
        pages, order = self.size // self.page, sys.byteorder   # the kernel's own byte order
        info = (1).to_bytes(4, order) + (pages - 1).to_bytes(4, order)   # version, last_page
        info += bytes(4) + uuid.uuid4().bytes + bytes(16)   # nr_badpages, uuid, label
        os.pwrite(fd, info, 1024)
        os.pwrite(fd, _MAGIC, self.page - len(_MAGIC))

    def _has_signature(self) -> bool:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.page - len(_MAGIC))
                return fh.read(len(_MAGIC)) == _MAGIC
        except OSError:
            return False

    def _swapon(self) -> None:
        if self._command("swapon"):
            _run(["swapon", self.path], 120.0)
        else:
            _syscall("swapon", self.path)

    def _command(self, name: str) -> bool:
        return self.use_commands and shutil.which(name) is not None


class _Refused(Exception):
    """A step failed; str() is the reason for the log line."""


def has_cap_sys_admin() -> bool:
    """Whether this process may call swapon(2) (effective CAP_SYS_ADMIN)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> _CAP_SYS_ADMIN & 1)
    except OSError:
        pass
    return os.geteuid() == 0


def filesystem_type(path: str) -> str:
    """The type of the filesystem `path` (or its nearest existing parent) is on; "" unknown."""
    path = os.path.realpath(path)
    best, kind = "", ""
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                left, _, right = line.partition(" - ")
                point = left.split()[4].replace("\\040", " ")
                inside = path == point or path.startswith(point.rstrip("/") + "/")
                if inside and len(point) >= len(best):
                    best, kind = point, right.split()[0]
    except (OSError, IndexError):
        return ""
    return kind


def is_active(path: str) -> bool:
    """Whether `path` is in use as swap (listed in /proc/swaps)."""
    real = os.path.realpath(path)
    try:
        with open("/proc/swaps", encoding="utf-8", errors="replace") as fh:
            next(fh, None)
            return any(line.split()[0].replace("\\040", " ") in (path, real)
                       for line in fh if line.strip())
    except OSError:
        return False


def _run(argv: list[str], timeout: float) -> None:
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise _Refused(f"{argv[0]} failed: {e}") from None
    if r.returncode != 0:
        said = (r.stderr or r.stdout).strip().splitlines()
        raise _Refused(f"{argv[0]} said: {said[-1] if said else f'exit {r.returncode}'}")


def _syscall(name: str, path: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fn = getattr(libc, name)
    args = (os.fsencode(path), 0) if name == "swapon" else (os.fsencode(path),)
    if fn(*args) != 0:
        err = ctypes.get_errno()
        raise _Refused(f"{name}(2) failed: {os.strerror(err)} ({errno.errorcode.get(err, err)})")


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:   # gone already, or not ours to remove: nothing more to do
        pass

