"""The MQTT connection: one thread, a bounded outbox, reconnection with back-off.

Design: one thread, `mqtt` (MqttClient), owns the paho-mqtt client and is the only thread that
touches it: it connects, runs paho's network loop in 0.1 s steps, moves messages from the
outbox to paho, and backs off between failed attempts (0.5 s doubling to 2 s while the broker
is unreachable, so it is back within a few seconds of the broker's return; doubling to 30 s
when the broker refuses us — a wrong password must not hammer it). Producers call `publish()`,
which appends to the `Outbox` and never blocks: while the broker is away the outbox keeps the
newest messages up to its count and byte limits and drops the oldest, counting them
(`MqttStatus.dropped`). On (re)connect `on_connected()` supplies the messages that describe the
current state (availability, discovery, states) and they go out first. Messages that arrive
on subscribed topics go to `on_message(topic, payload)` on this thread; the callback must be
quick (the MQTT service hands commands to the event hub). `stop()` flushes what it can within
its deadline, publishes availability "offline" (the last will covers an unclean exit),
disconnects and joins. Stopped at PRIORITY_DETECTION (docs/architecture.md).

Only this module imports paho; docs/mqtt.md describes the behaviour.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from lightnvr.core.config import MqttConfig
from lightnvr.core.heartbeat import Heartbeat

log = logging.getLogger(__name__)

OUTBOX_MAX_MESSAGES = 1000
OUTBOX_MAX_BYTES = 4 * 1024 * 1024   # ~80 snapshots: bounded on a 256 MiB device
BACKOFF_INITIAL = 0.5
BACKOFF_MAX_UNREACHABLE = 2.0        # the "reconnect within 5 s of the broker's return"
BACKOFF_MAX_REFUSED = 30.0
MAX_IN_FLIGHT = 50  # handed to paho, not yet acknowledged: keeps paho's queue small
CONNECT_TIMEOUT = 5.0
LOOP_STEP = 0.1


@dataclass(frozen=True, slots=True)
class MqttMessage:
    """One message to publish. `qos`/`retain` None: the configured `[mqtt] qos`/`retain`."""

    topic: str
    payload: bytes
    qos: int | None = None
    retain: bool | None = None


@dataclass(slots=True)
class MqttStatus:
    """The connection as GET /api/mqtt/status shows it."""

    enabled: bool
    state: str                 # disabled, connecting, connected, disconnected, refused
    broker: str
    last_error: str = ""
    connects: int = 0          # successful CONNACKs since start
    attempts: int = 0
    published: int = 0         # acknowledged by the broker (QoS 0: written to the socket)
    dropped: int = 0           # dropped from a full outbox
    queued: int = 0
    connected_since: float | None = None   # wall clock

    def to_dict(self) -> dict[str, object]:
        return {"enabled": self.enabled, "state": self.state, "broker": self.broker,
                "connected": self.state == "connected", "last_error": self.last_error,
                "connects": self.connects, "attempts": self.attempts,
                "published": self.published, "dropped": self.dropped, "queued": self.queued,
                "connected_since": self.connected_since}


class Outbox:
    """Bounded FIFO of messages; full means the oldest goes (and is counted). Thread-safe."""

    dropped: int

    def __init__(self, max_messages: int = OUTBOX_MAX_MESSAGES,
                 max_bytes: int = OUTBOX_MAX_BYTES) -> None:
        self._lock = threading.Lock()
        self._items: deque[MqttMessage] = deque()
        self._bytes = 0
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self.dropped = 0

    def put(self, msg: MqttMessage) -> None:
        with self._lock:
            self._items.append(msg)
            self._bytes += len(msg.payload)
            while len(self._items) > 1 and (len(self._items) > self.max_messages
                                            or self._bytes > self.max_bytes):
                old = self._items.popleft()
                self._bytes -= len(old.payload)
                self.dropped += 1
                if self.dropped in (1, 10, 100) or self.dropped % 1000 == 0:
                    log.warning("MQTT outbox full: %d messages dropped so far (oldest first)",
                                self.dropped)

    def put_front(self, msgs: Sequence[MqttMessage]) -> None:
        """Queue `msgs` ahead of everything (state to restore after a reconnect)."""
        with self._lock:
            for m in reversed(msgs):
                self._items.appendleft(m)
                self._bytes += len(m.payload)

    def get(self) -> MqttMessage | None:
        with self._lock:
            if not self._items:
                return None
            msg = self._items.popleft()
            self._bytes -= len(msg.payload)
            return msg

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


def describe_connack(rc: ReasonCode) -> str:
    """A user-facing sentence for a refused CONNACK: what was wrong and what to do."""
    text = str(rc)
    low = text.lower()
    if "not authori" in low or "bad user name" in low or "password" in low:
        return (f"the broker refused the login ({text}): check [mqtt] username and password")
    if "identifier" in low:
        return f"the broker refused the client id ({text}): check [mqtt] client_id"
    return f"the broker refused the connection ({text})"


class MqttClient:
    """See the module doc."""

    def __init__(self, config: MqttConfig, will_topic: str,
                 on_connected: Callable[[], list[MqttMessage]] | None = None,
                 on_message: Callable[[str, bytes], None] | None = None,
                 subscriptions: Sequence[str] = (),
                 heartbeat: Heartbeat | None = None) -> None:
        self.config = config
        self.will_topic = will_topic
        self.outbox = Outbox()
        self._on_connected = on_connected
        self._on_message = on_message
        self._subscriptions = list(subscriptions)
        self._heartbeat = heartbeat
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # guards _status only
        self._status = MqttStatus(True, "connecting",
                                  f"{config.broker_host}:{config.broker_port}")
        self._in_flight: set[int] = set()
        self._socket_open = False
        self._connected = False
        self._refused = False
        self._backoff_due = False
        self._client = self._make_client()

    def _make_client(self) -> paho.Client:
        c = self.config
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=c.client_id,
                             protocol=paho.MQTTv311, reconnect_on_failure=False)
        client.connect_timeout = CONNECT_TIMEOUT
        if c.username:
            client.username_pw_set(c.username, c.password or None)
        if c.tls_enabled:
            # No CA file: the system's trust store (LightNVR's behaviour).
            client.tls_set(ca_certs=c.tls_ca_file or None, cert_reqs=ssl.CERT_REQUIRED)
        client.will_set(self.will_topic, b"offline", qos=c.qos, retain=True)
        client.on_connect = self._handle_connect
        client.on_disconnect = self._handle_disconnect
        client.on_publish = self._handle_publish
        client.on_message = self._handle_message
        return client

    # -- public ----------------------------------------------------------------------------
    def publish(self, msg: MqttMessage) -> None:
        """Queue `msg` for the broker; never blocks (see Outbox for what a full box does)."""
        self.outbox.put(msg)

    @property
    def connected(self) -> bool:
        return self._connected

    def status(self) -> MqttStatus:
        with self._lock:
            s = self._status
            return MqttStatus(s.enabled, s.state, s.broker, s.last_error, s.connects,
                              s.attempts, s.published, self.outbox.dropped, len(self.outbox),
                              s.connected_since)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="mqtt", daemon=True)
        self._thread.start()

    def stop(self, timeout: float) -> None:
        """Flush (within half of `timeout`), publish "offline", disconnect, join."""
        deadline = time.monotonic() + timeout
        self._stop.set()
        t = self._thread
        if t is not None:
            t.join(max(0.0, deadline - time.monotonic()))
            if t.is_alive():
                log.warning("MQTT thread did not stop within %.1f s", timeout)

    # -- thread ----------------------------------------------------------------------------
    def _run(self) -> None:
        log.info("MQTT client started (broker %s:%d, client id %r, TLS %s)",
                 self.config.broker_host, self.config.broker_port, self.config.client_id,
                 "on" if self.config.tls_enabled else "off")
        backoff = BACKOFF_INITIAL
        while not self._stop.is_set():
            if self._heartbeat is not None:
                self._heartbeat.beat()
            if not self._socket_open:
                # A refused CONNACK leaves the socket closed too: it backs off like a failed
                # connect, never retries at once (a wrong password must not hammer the broker).
                if not self._backoff_due and self._connect():
                    continue
                self._backoff_due = False
                cap = BACKOFF_MAX_REFUSED if self._refused else BACKOFF_MAX_UNREACHABLE
                self._stop.wait(backoff)
                backoff = min(cap, backoff * 2)
                continue
            if self._connected:
                backoff = BACKOFF_INITIAL
                self._flush()
            self._step()
        self._shutdown()
        log.info("MQTT client exited (%d published, %d dropped)", self.status().published,
                 self.outbox.dropped)

    def _connect(self) -> bool:
        """One attempt to open the connection; True when the socket is open (CONNACK pending)."""
        c = self.config
        with self._lock:
            self._status.attempts += 1
            if self._status.state not in ("refused",):
                self._status.state = "connecting"
        try:
            self._client.connect(c.broker_host, c.broker_port, keepalive=c.keepalive)
        except ssl.SSLError as e:  # before OSError: SSLError is one
            self._note_error(f"TLS with {c.broker_host}:{c.broker_port} failed: {e}; check "
                             "[mqtt] tls_ca_file (the CA that signed the broker's certificate) "
                             "and that broker_host matches the certificate", "disconnected")
            self._refused = False
            return False
        except (OSError, ValueError) as e:
            self._note_error(f"cannot reach {c.broker_host}:{c.broker_port}: {e}", "disconnected")
            self._refused = False
            return False
        self._socket_open = True
        return True

    def _step(self) -> None:
        rc = self._client.loop(timeout=LOOP_STEP)
        if rc != paho.MQTT_ERR_SUCCESS and self._socket_open:
            self._lost(f"connection lost ({paho.error_string(rc)})")

    def _flush(self) -> None:
        while len(self._in_flight) < MAX_IN_FLIGHT:
            msg = self.outbox.get()
            if msg is None:
                return
            qos = self.config.qos if msg.qos is None else msg.qos
            retain = self.config.retain if msg.retain is None else msg.retain
            info = self._client.publish(msg.topic, msg.payload, qos=qos, retain=retain)
            if info.rc != paho.MQTT_ERR_SUCCESS:
                # Not sent: keep it for the next connection rather than lose it.
                self.outbox.put_front([msg])
                self._lost(f"publish failed ({paho.error_string(info.rc)})")
                return
            if qos > 0:
                self._in_flight.add(info.mid)

    def _lost(self, why: str) -> None:
        was = self._connected
        self._socket_open = self._connected = False
        self._in_flight.clear()  # paho re-sends unacknowledged QoS>0 messages on reconnect
        try:
            self._client.disconnect()
        except Exception:
            pass
        if not self._refused:
            self._note_error(why, "disconnected")
        if was:
            log.warning("MQTT: %s; reconnecting", why)

    def _note_error(self, why: str, state: str) -> None:
        with self._lock:
            changed = why != self._status.last_error
            self._status.last_error = why
            self._status.state = state
            self._status.connected_since = None
        if changed:
            log.error("MQTT: %s", why)

    def _shutdown(self) -> None:
        if self._connected:
            deadline = time.monotonic() + 1.0
            while (len(self.outbox) or self._in_flight) and time.monotonic() < deadline:
                self._flush()
                self._client.loop(timeout=LOOP_STEP)
            # A clean disconnect does not fire the last will: say "offline" ourselves, and
            # run the loop (we are the loop thread) until the broker has it or 0.5 s passed.
            info = self._client.publish(self.will_topic, b"offline", qos=self.config.qos,
                                        retain=True)
            deadline = time.monotonic() + 0.5
            while not info.is_published() and time.monotonic() < deadline:
                if self._client.loop(timeout=LOOP_STEP) != paho.MQTT_ERR_SUCCESS:
                    break
        try:
            self._client.disconnect()
            self._client.loop(timeout=LOOP_STEP)
        except Exception:
            pass
        self._socket_open = self._connected = False
        with self._lock:
            self._status.state = "disconnected"
            self._status.connected_since = None

    # -- paho callbacks (all on this thread, inside loop()) ---------------------------------
    def _handle_connect(self, client: paho.Client, userdata: object, flags: object,
                        rc: ReasonCode, properties: object = None) -> None:
        if rc.is_failure:
            self._refused = self._backoff_due = True
            self._note_error(describe_connack(rc), "refused")
            self._socket_open = False
            return
        self._refused = False
        self._connected = True
        with self._lock:
            self._status.connects += 1
            self._status.state = "connected"
            self._status.last_error = ""
            self._status.connected_since = time.time()
        log.info("MQTT: connected to %s:%d", self.config.broker_host, self.config.broker_port)
        for topic in self._subscriptions:
            client.subscribe(topic, qos=1)
        first = [MqttMessage(self.will_topic, b"online", retain=True)]
        if self._on_connected is not None:
            try:
                first += self._on_connected()
            except Exception:
                log.error("MQTT: building the state to publish on connect failed",
                          exc_info=True)
        self.outbox.put_front(first)

    def _handle_disconnect(self, client: paho.Client, userdata: object, flags: object,
                           rc: ReasonCode, properties: object = None) -> None:
        if self._connected and not self._stop.is_set():
            self._lost(f"disconnected by the broker or the network ({rc})")
        self._socket_open = self._connected = False

    def _handle_publish(self, client: paho.Client, userdata: object, mid: int,
                        rc: ReasonCode, properties: object = None) -> None:
        if mid in self._in_flight:
            self._in_flight.discard(mid)
        with self._lock:
            self._status.published += 1

    def _handle_message(self, client: paho.Client, userdata: object,
                        message: paho.MQTTMessage) -> None:
        if self._on_message is None:
            return
        try:
            self._on_message(message.topic, bytes(message.payload))
        except Exception:
            log.error("MQTT: handling a message on %s failed", message.topic, exc_info=True)
