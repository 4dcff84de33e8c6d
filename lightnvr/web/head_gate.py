"""HeadGate: new HTTP connections wait here until their request head (and a small body) is
complete, so a client that trickles header or body bytes (slowloris) never holds a cheroot worker.

Design: cheroot hands every new connection, and every kept-alive one that turns readable, to
`Server.process_conn`, which queues it for a worker; the worker then blocks reading the head,
and cheroot's socket timeout is per read, so a byte every few seconds holds a worker for as
long as the client likes — eight such clients held the whole pool (issue #10 item 9).
`GatedServer` (server.py) sends those connections to `HeadGate.admit` instead. The thread
`web:heads` waits on one edge-triggered epoll and only *peeks* at the bytes (the worker reads
them as before; edge-triggered because peeked data stays readable and a level-triggered poll
would spin). A connection goes on to the worker queue once its head's blank line is there and,
when the head announces a `Content-Length` of at most `max_body_bytes` (every JSON request this
API takes), that body too; or `max_head_bytes` have arrived (cheroot answers the oversize head);
or the peer closed. Larger, chunked or `Expect: 100-continue` bodies go on after the head: the
app refuses them (413, 401) before reading unless the caller is authenticated. A request not
complete `deadline` seconds after the connection reached the gate, or silent for `idle`
seconds (cheroot's per-read timeout, kept), is answered 408 and closed. At most `max_pending`
connections wait; a newcomer beyond that evicts the oldest.
The thread sleeps until a byte arrives or the first waiting connection's deadline is due
(with nothing waiting, until woken): `admit` wakes it through a socket pair when a newcomer is
due before that, and `stop()` sets the stop event and wakes it; it closes what still waits and
exits, and `stop` joins it. Linux only (epoll); elsewhere `HeadGate.available()` is False
and cheroot runs as is.
"""

from __future__ import annotations

import logging
import math
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lightnvr.web.waker import Waker

log = logging.getLogger(__name__)

_HANGUP = getattr(select, "EPOLLRDHUP", 0) | getattr(select, "EPOLLHUP", 0) \
    | getattr(select, "EPOLLERR", 0)
_EVENTS = getattr(select, "EPOLLIN", 0) | getattr(select, "EPOLLRDHUP", 0) \
    | getattr(select, "EPOLLET", 0)
_TIMEOUT_BODY = b'{"error": "request not complete in time; send it in one go"}\n'
_TIMEOUT_ANSWER = (b"HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\n"
                   b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(_TIMEOUT_BODY)
                   + _TIMEOUT_BODY)


@dataclass(slots=True)
class _Waiting:
    conn: Any  # cheroot.server.HTTPConnection
    sock: socket.socket
    deadline: float  # the whole head by then
    quiet_until: float  # and some bytes every `idle` seconds, as cheroot's per-read timeout
    seen: int  # head bytes seen so far
    timeout: float | None  # the socket timeout to restore before a worker gets it


class HeadGate:
    """Holds connections until a complete request head can be read without waiting."""

    def __init__(self, dispatch: Callable[[Any], None], deadline: float = 10.0,
                 max_head_bytes: int = 16 * 1024, max_pending: int = 256,
                 idle: float | None = None, max_body_bytes: int = 64 * 1024) -> None:
        self._dispatch = dispatch
        self.deadline = deadline
        self.idle = deadline if idle is None else min(idle, deadline)
        self.max_head_bytes = max_head_bytes
        self.max_body_bytes = max_body_bytes
        self.max_pending = max_pending
        self._lock = threading.Lock()
        self._waiting: dict[int, _Waiting] = {}
        self._stop = threading.Event()
        self._epoll = select.epoll()
        self._waker = Waker()
        self._epoll.register(self._waker.fileno(), select.EPOLLIN)
        self._due = math.inf  # when the thread will next look at deadlines (under _lock)
        self._thread = threading.Thread(target=self._run, name="web:heads", daemon=True)

    @staticmethod
    def available() -> bool:
        return hasattr(select, "epoll")

    @property
    def pending(self) -> int:
        """Connections waiting for the rest of their request head."""
        with self._lock:
            return len(self._waiting)

    def start(self) -> None:
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._stop.is_set()

    def admit(self, conn: Any) -> None:
        """Take a connection cheroot would queue for a worker (called on cheroot's threads).

        When the gate is full the connection that has waited longest is closed to make room:
        a flood of trickling clients then evicts its own oldest members, not newcomers.
        """
        if not self.running:
            self._dispatch(conn)  # no gate (stopping, or the thread failed): cheroot as is
            return
        sock = conn.socket
        now = time.monotonic()
        waiting = _Waiting(conn, sock, now + self.deadline, now + self.idle, 0,
                           sock.gettimeout())
        with self._lock:
            oldest = min(self._waiting.items(), key=lambda kv: kv[1].deadline) \
                if len(self._waiting) >= self.max_pending else None
            sock.setblocking(False)  # a peek must never wait on the gate's thread
            self._waiting[sock.fileno()] = waiting
            # Edge-triggered ADD still reports bytes that are already there.
            self._epoll.register(sock.fileno(), _EVENTS)
            wake = min(waiting.deadline, waiting.quiet_until) < self._due
        if wake:  # the thread sleeps past this newcomer's deadline (or without any)
            self._waker.wake()
        if oldest is not None and self._take(*oldest):
            log.warning("%d connections wait for their request head; closing the oldest, "
                        "from %s", self.max_pending, getattr(oldest[1].conn, "remote_addr", "?"))
            oldest[1].conn.close()

    def _run(self) -> None:
        log.info("thread web:heads started")
        try:
            wake_fd = self._waker.fileno()
            while not self._stop.is_set():
                for fd, ev in self._epoll.poll(self._timeout()):
                    if fd == wake_fd:
                        self._waker.drain()
                    else:
                        self._check(fd, bool(ev & _HANGUP))
                self._expire(time.monotonic())
        except Exception:
            log.error("web:heads failed; new connections go straight to workers",
                      exc_info=True)
            self._stop.set()
        finally:
            self._release_all()
            log.info("thread web:heads exited")

    def _timeout(self) -> float:
        """Seconds until the first waiting connection is due; -1 (no timeout) when none waits."""
        with self._lock:
            self._due = min((min(w.deadline, w.quiet_until) for w in self._waiting.values()),
                            default=math.inf)
            due = self._due
        return -1.0 if due == math.inf else max(0.0, due - time.monotonic())

    def _check(self, fd: int, hangup: bool) -> None:
        with self._lock:
            w = self._waiting.get(fd)
        if w is None:
            return
        try:
            head = w.sock.recv(self.max_head_bytes + self.max_body_bytes, socket.MSG_PEEK)
        except BlockingIOError:
            return  # woken without bytes; wait for the next edge
        except OSError:
            head = b""
        complete = self._complete(head)
        if head and not complete and not hangup:
            if len(head) > w.seen:
                w.seen, w.quiet_until = len(head), time.monotonic() + self.idle
            return  # incomplete: the next byte that arrives wakes us again
        if not self._take(fd, w):
            return
        if complete:
            w.sock.settimeout(w.timeout)
            self._dispatch(w.conn)
        else:
            w.conn.close()  # the peer went away before its head was complete

    def _complete(self, data: bytes) -> bool:
        """`data` (peeked) holds a whole request head and the small body it announces."""
        ends = [i + n for i, n in ((data.find(b"\r\n\r\n"), 4), (data.find(b"\n\n"), 2))
                if i >= 0]
        if not ends:
            return len(data) >= self.max_head_bytes  # oversize: cheroot answers it
        end = min(ends)
        return len(data) >= end + self._small_body_length(data[:end])

    def _small_body_length(self, head: bytes) -> int:
        """The body bytes to wait for: the Content-Length when small and sent unasked, else 0."""
        length = 0
        for line in head.split(b"\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"expect" or name == b"transfer-encoding":
                return 0  # the client waits for "100 Continue", or the length is not known
            if name == b"content-length":
                try:
                    length = int(value.strip())
                except ValueError:
                    return 0  # cheroot answers the malformed head
        return length if 0 < length <= self.max_body_bytes else 0

    def _take(self, fd: int, w: _Waiting) -> bool:
        """Remove `w` from the gate; False if someone else already did."""
        with self._lock:
            if self._waiting.get(fd) is not w:
                return False
            del self._waiting[fd]
            try:
                self._epoll.unregister(fd)
            except OSError:
                pass
            return True

    def _expire(self, now: float) -> None:
        with self._lock:
            late = [(fd, w) for fd, w in self._waiting.items()
                    if min(w.deadline, w.quiet_until) <= now]
        for fd, w in late:
            if self._take(fd, w):
                log.info("request from %s not complete in time (%d bytes); closing",
                         getattr(w.conn, "remote_addr", "?"), w.seen)
                try:
                    w.sock.send(_TIMEOUT_ANSWER)  # non-blocking: a best effort
                except OSError:
                    pass
                w.conn.close()

    def _release_all(self) -> None:
        with self._lock:
            items = list(self._waiting.items())
        for fd, w in items:
            if self._take(fd, w):
                w.conn.close()

    def stop(self, timeout: float) -> None:
        """Stop the thread within `timeout`; connections still waiting are closed."""
        self._stop.set()
        self._waker.wake()
        if self._thread.is_alive():
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("web:heads did not stop within %.1fs", timeout)
        else:
            self._release_all()
        self._epoll.close()
        self._waker.close()
