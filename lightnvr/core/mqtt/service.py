"""The MQTT service: NVR events in, LightNVR's topics and Home Assistant entities out.

Design: no thread of its own. `handle(event)` is an EventHub sink and `tick()` an EventHub
periodic task, so both run on the `events` thread: that is where a detection's JPEG is
taken (`snapshot`, the stream manager's decoder), saved and queued, never on a reader,
recorder or web thread. What it queues goes to the MqttClient (`mqtt` thread) outbox.
Commands arrive on the `mqtt` thread (`_on_message`), are validated there and handed to the
hub with `run_soon`, because starting or stopping a recorder may take seconds.
State this class keeps (streams, labels seen, motion) is guarded by `_lock`, since
`connect_state` runs on the `mqtt` thread. docs/mqtt.md documents the topics.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson

from lightnvr.core.clock import SYSTEM_CLOCK, Clock
from lightnvr.core.config import MqttConfig
from lightnvr.core.heartbeat import Heartbeat
from lightnvr.core.mqtt.client import MqttClient, MqttMessage, MqttStatus
from lightnvr.core.mqtt.discovery import Discovery
from lightnvr.core.mqtt.topics import (
    Topics,
    detection_payload,
    label_level,
    recording_payload,
    storage_payload,
    stream_status_payload,
    topic_safe,
)
from lightnvr.core.nvr_events import DetectedObject, EventHub, EventKind, NvrEvent

log = logging.getLogger(__name__)

MOTION_OFF_SECONDS = 30.0        # LightNVR's MOTION_OFF_DELAY_SEC
SNAPSHOTS_KEPT_PER_STREAM = 100  # LightNVR keeps the newest 100 event snapshots per stream
MAX_LABELS_PER_STREAM = 32       # LightNVR's per-stream label table size


@dataclass
class _Stream:
    name: str
    labels: set[str] = field(default_factory=set)
    online: bool = False
    error: str = ""
    motion_since: float | None = None   # monotonic time of the last detection while ON


class MqttService:
    """See the module doc."""

    client: MqttClient

    def __init__(self, config: MqttConfig, hub: EventHub,
                 snapshot: Callable[[str], bytes | None],
                 set_manual_recording: Callable[[str, bool], bool],
                 manual_recording: Callable[[str], bool],
                 snapshot_dir: str = "", heartbeat: Heartbeat | None = None,
                 clock: Clock | None = None) -> None:
        self.config = config
        self.topics = Topics(config.topic_prefix)
        self.discovery = (Discovery(config.ha_discovery_prefix, config.client_id, self.topics)
                          if config.ha_discovery else None)
        self._hub = hub
        self._snapshot = snapshot
        self._set_manual = set_manual_recording
        self._manual = manual_recording
        self._snapshot_dir = snapshot_dir
        self._clock = clock or SYSTEM_CLOCK
        self._lock = threading.Lock()
        self._streams: dict[str, _Stream] = {}
        self._storage_level = ""
        self._next_camera_snapshot = 0.0
        # Label sensors published before a restart: learnt back from the broker's retained
        # configs (topic-safe stream -> config topics), so deleting a stream clears them too.
        self._label_configs: dict[str, set[str]] = {}
        subs = [self.topics.recording_command_filter]
        if self.discovery is not None:
            subs += [self.discovery.status_topic, self.discovery.sensor_configs_filter]
        self.client = MqttClient(config, self.topics.availability,
                                 on_connected=self.connect_state, on_message=self._on_message,
                                 subscriptions=subs, heartbeat=heartbeat)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self.client.start()

    def stop(self, timeout: float) -> None:
        self.client.stop(timeout)

    def status(self) -> MqttStatus:
        return self.client.status()

    def _send(self, topic: str, payload: bytes | str, retain: bool | None = None,
              qos: int | None = None) -> None:
        data = payload.encode() if isinstance(payload, str) else payload
        self.client.publish(MqttMessage(topic, data, qos, retain))

    # -- events (hub thread) ---------------------------------------------------------------
    def handle(self, event: NvrEvent) -> None:
        """EventHub sink: publish what `event` means on its topics."""
        k = event.kind
        if k is EventKind.DETECTION:
            self._detection(event)
        elif k is EventKind.DETECTION_END:
            self._motion_off(event.stream)
        elif k in (EventKind.RECORDING_STARTED, EventKind.RECORDING_STOPPED):
            self._send(self.topics.recordings(event.stream), recording_payload(event))
        elif k in (EventKind.STREAM_ONLINE, EventKind.STREAM_OFFLINE):
            online = k is EventKind.STREAM_ONLINE
            with self._lock:
                s = self._streams.setdefault(event.stream, _Stream(event.stream))
                s.online, s.error = online, event.detail
            self._send(self.topics.stream_status(event.stream),
                       stream_status_payload(event.stream, online, event.timestamp,
                                             event.detail), retain=True)
        elif k is EventKind.STREAM_ADDED:
            self._stream_added(event.stream)
        elif k is EventKind.STREAM_REMOVED:
            self._stream_removed(event.stream)
        elif k is EventKind.STORAGE_PRESSURE:
            with self._lock:
                self._storage_level = event.detail
            self._send(self.topics.storage_pressure, storage_payload(event.detail,
                                                                     event.timestamp),
                       retain=True)

    def _detection(self, event: NvrEvent) -> None:
        objects = event.objects or (DetectedObject("motion", 1.0),)
        event = NvrEvent(event.kind, event.stream, event.timestamp, objects, event.detail)
        t = self.topics
        snap_topic = snap_path = snap_url = ""
        jpeg = self._take_snapshot(event.stream)
        if jpeg:
            snap_path, snap_url = self._save_snapshot(event.stream, event.timestamp, jpeg)
            snap_topic = t.detection_snapshot(event.stream)
            self._send(snap_topic, jpeg)  # before the JSON: it is there when the event is
        self._send(t.detection(event.stream),
                   detection_payload(event, snap_topic, snap_path, snap_url))
        counts: dict[str, int] = {}
        for o in objects:
            counts[o.label] = counts.get(o.label, 0) + 1
        new_labels: list[str] = []
        with self._lock:
            s = self._streams.setdefault(event.stream, _Stream(event.stream))
            s.motion_since = self._clock.monotonic()
            for label in counts:
                if label not in s.labels and len(s.labels) < MAX_LABELS_PER_STREAM:
                    s.labels.add(label)
                    new_labels.append(label)
        if self.discovery is not None:
            for label in new_labels:
                self.client.publish(self.discovery.label_config(event.stream, label))
        self._send(t.camera(event.stream, "motion"), "ON")
        self._send(t.camera(event.stream, "detection_count"), str(len(objects)))
        for label, n in counts.items():
            self._send(t.camera(event.stream, label_level(label)), str(n))

    def _take_snapshot(self, stream: str) -> bytes | None:
        try:
            return self._snapshot(stream)
        except Exception:
            log.warning("MQTT: no snapshot of %s for its event", stream, exc_info=True)
            return None

    def _save_snapshot(self, stream: str, timestamp: float, jpeg: bytes) -> tuple[str, str]:
        """Keep the event's JPEG on disk (newest 100 per stream): (path, url) or ("", "")."""
        if not self._snapshot_dir:
            return "", ""
        safe = topic_safe(stream)
        folder = os.path.join(self._snapshot_dir, safe)
        name = time.strftime("%Y%m%d_%H%M%S", time.localtime(timestamp)) + \
            f"_{int(timestamp * 1000) % 1000:03d}.jpg"
        path = os.path.join(folder, name)
        try:
            os.makedirs(folder, exist_ok=True)
            tmp = os.path.join(folder, f".{name}.tmp")
            with open(tmp, "wb") as fh:
                fh.write(jpeg)
            os.replace(tmp, path)
            old = sorted(f for f in os.listdir(folder) if f.endswith(".jpg"))
            for f in old[:-SNAPSHOTS_KEPT_PER_STREAM]:
                os.unlink(os.path.join(folder, f))
        except OSError:
            log.warning("MQTT: cannot save the event snapshot %s", path, exc_info=True)
            return "", ""
        return os.path.abspath(path), f"/api/snapshots/{safe}/{name}"

    def _motion_off(self, stream: str) -> None:
        with self._lock:
            s = self._streams.get(stream)
            if s is None or s.motion_since is None:
                return
            s.motion_since = None
        self._send(self.topics.camera(stream, "motion"), "OFF")
        self._send(self.topics.camera(stream, "detection_count"), "0")

    def _stream_added(self, stream: str) -> None:
        with self._lock:
            s = self._streams.setdefault(stream, _Stream(stream))
            labels = set(s.labels)
        if self.discovery is not None:
            for m in self.discovery.stream_configs(stream, labels):
                self.client.publish(m)
        self._send(self.topics.recording_state(stream), self._switch_state(stream),
                   retain=True)

    def _stream_removed(self, stream: str) -> None:
        with self._lock:
            s = self._streams.pop(stream, None)
            learnt = self._label_configs.pop(topic_safe(stream), set())
        labels = s.labels if s is not None else set()
        if self.discovery is not None:
            removals = self.discovery.stream_removals(stream, labels)
            done = {m.topic for m in removals}
            removals += [MqttMessage(t, b"", qos=1, retain=True) for t in sorted(learnt - done)]
            for m in removals:
                self.client.publish(m)
        # Retained state of a stream that is gone would mislead a late subscriber.
        for topic in (self.topics.stream_status(stream), self.topics.recording_state(stream)):
            self._send(topic, b"", retain=True)

    def _switch_state(self, stream: str) -> str:
        try:
            return "ON" if self._manual(stream) else "OFF"
        except Exception:
            log.warning("MQTT: cannot read the manual recording flag of %s", stream,
                        exc_info=True)
            return "OFF"

    def tick(self) -> None:
        """EventHub periodic task: motion OFF after 30 s quiet; camera-entity snapshots."""
        now = self._clock.monotonic()
        with self._lock:
            quiet = [s.name for s in self._streams.values()
                     if s.motion_since is not None and now - s.motion_since >= MOTION_OFF_SECONDS]
            names = sorted(self._streams)
        for name in quiet:
            self._motion_off(name)
        interval = self.config.ha_snapshot_interval
        if self.discovery is None or interval <= 0 or not self.client.connected \
                or now < self._next_camera_snapshot:
            return
        self._next_camera_snapshot = now + interval
        for name in names:
            jpeg = self._take_snapshot(name)
            if jpeg:
                self._send(self.topics.camera(name, "snapshot"), jpeg, retain=False, qos=0)

    # -- connection and commands (mqtt thread) ---------------------------------------------
    def connect_state(self) -> list[MqttMessage]:
        """What a fresh connection publishes first: discovery and the retained states."""
        with self._lock:
            streams = [(s.name, set(s.labels), s.online, s.error)
                       for s in self._streams.values()]
            level = self._storage_level
        now = self._clock.wall()
        out: list[MqttMessage] = []
        for name, labels, online, error in sorted(streams):
            if self.discovery is not None:
                out += self.discovery.stream_configs(name, labels)
            out.append(MqttMessage(self.topics.stream_status(name),
                                   stream_status_payload(name, online, now, error), retain=True))
            out.append(MqttMessage(self.topics.recording_state(name),
                                   self._switch_state(name).encode(), retain=True))
        if level:
            out.append(MqttMessage(self.topics.storage_pressure, storage_payload(level, now),
                                   retain=True))
        return out

    def _on_message(self, topic: str, payload: bytes) -> None:
        if self.discovery is not None and topic == self.discovery.status_topic:
            if payload.strip() == b"online":  # Home Assistant restarted: announce again
                log.info("MQTT: Home Assistant is online; re-publishing discovery")
                self._hub.run_soon(self._republish_discovery)
            return
        if self.discovery is not None and self.discovery.is_sensor_config(topic):
            self._learn_sensor_config(topic, payload)
            return
        level = self.topics.stream_of_command(topic)
        with self._lock:
            stream = next((s for s in self._streams if topic_safe(s) == level), None)
        command = payload.strip().upper()
        if stream is None or command not in (b"ON", b"OFF"):
            log.warning("MQTT: ignored command %r on %s (expected ON or OFF on "
                        "%s/cameras/<stream>/recording/set for an existing stream)",
                        payload[:64], topic, self.topics.prefix)
            return
        on = command == b"ON"
        self._hub.run_soon(lambda: self._apply_recording(stream, on))

    def _learn_sensor_config(self, topic: str, payload: bytes) -> None:
        """Remember which stream a (retained) sensor config of this node belongs to."""
        if not payload:
            with self._lock:
                for topics in self._label_configs.values():
                    topics.discard(topic)
            return
        try:
            state = orjson.loads(payload).get("state_topic", "")
        except (orjson.JSONDecodeError, AttributeError):
            return
        head = f"{self.topics.prefix}/cameras/"
        if isinstance(state, str) and state.startswith(head):
            safe = state[len(head):].split("/", 1)[0]
            with self._lock:
                self._label_configs.setdefault(safe, set()).add(topic)

    def _apply_recording(self, stream: str, on: bool) -> None:
        if not self._set_manual(stream, on):
            log.warning("MQTT: recording command for %s ignored: the stream is gone", stream)
            return
        log.info("MQTT: manual recording of %s turned %s", stream, "on" if on else "off")
        self._send(self.topics.recording_state(stream), self._switch_state(stream),
                   retain=True)

    def _republish_discovery(self) -> None:
        with self._lock:
            streams = [(s.name, set(s.labels)) for s in self._streams.values()]
        if self.discovery is not None:
            for name, labels in streams:
                for m in self.discovery.stream_configs(name, labels):
                    self.client.publish(m)
