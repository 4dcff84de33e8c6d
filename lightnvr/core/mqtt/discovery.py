"""Home Assistant MQTT discovery: the config messages for one node's streams.

Per stream, under `{ha_discovery_prefix}/{component}/{node_id}/{object_id}/config`
(HA's discovery topic format; `node_id` is the `[mqtt] client_id`, topic-safe, so several
lightnvr devices on one broker never collide — docs/fleet.md):
  camera         {stream}                     image from cameras/{stream}/snapshot
  binary_sensor  {stream}_motion              device_class motion, cameras/{stream}/motion
  sensor         {stream}_detection_count     cameras/{stream}/detection_count
  sensor         {stream}_{label}_count       cameras/{stream}/{label}, once the label is seen
  switch         {stream}_recording           manual recording, cameras/{stream}/recording[/set]
Every entity has a `unique_id` made only of node id, stream and role (stable across
restarts), the node's availability topic, and one `device` per NVR node. Removing an entity
is an empty retained message on its config topic (HA's rule).
"""

from __future__ import annotations

import orjson

from lightnvr import __version__
from lightnvr.core.mqtt.client import MqttMessage
from lightnvr.core.mqtt.topics import Topics, label_level, topic_safe

ORIGIN_URL = "https://github.com/opensensor/lightNVR"


class Discovery:
    """Config messages for one node; all retained (HA reads them when it starts)."""

    def __init__(self, prefix: str, node_id: str, topics: Topics, node_name: str = "") -> None:
        self.prefix = prefix.strip().rstrip("/") or "homeassistant"
        self.node = topic_safe(node_id)
        self.topics = topics
        self.node_name = node_name or f"LightNVR {node_id}"

    @property
    def status_topic(self) -> str:
        """HA's birth/last-will topic: discovery is re-sent when HA says "online"."""
        return f"{self.prefix}/status"

    @property
    def sensor_configs_filter(self) -> str:
        """This node's sensor configs (label sensors of earlier runs are learnt from it)."""
        return f"{self.prefix}/sensor/{self.node}/+/config"

    def is_sensor_config(self, topic: str) -> bool:
        parts = topic.split("/")
        head = f"{self.prefix}/sensor/{self.node}".split("/")
        return (len(parts) == len(head) + 2 and parts[:len(head)] == head
                and parts[-1] == "config")

    def device(self) -> dict[str, object]:
        return {"identifiers": [f"lightnvr_{self.node}"], "name": self.node_name,
                "manufacturer": "lightnvr", "model": "lightnvr", "sw_version": __version__}

    def _base(self, stream: str, role: str, name: str) -> dict[str, object]:
        return {
            "unique_id": f"lightnvr_{self.node}_{topic_safe(stream)}_{role}",
            "name": name,
            "availability": [{"topic": self.topics.availability,
                              "payload_available": "online",
                              "payload_not_available": "offline"}],
            "device": self.device(),
            "origin": {"name": "lightnvr", "sw": __version__, "url": ORIGIN_URL},
        }

    def config_topic(self, component: str, stream: str, role: str) -> str:
        obj = topic_safe(stream) if role == "camera" else f"{topic_safe(stream)}_{role}"
        return f"{self.prefix}/{component}/{self.node}/{obj}/config"

    def _msg(self, component: str, stream: str, role: str, body: dict[str, object]
             ) -> MqttMessage:
        return MqttMessage(self.config_topic(component, stream, role), orjson.dumps(body),
                           qos=1, retain=True)

    def stream_configs(self, stream: str, labels: set[str]) -> list[MqttMessage]:
        """Every entity of `stream` (`labels`: the object labels seen so far)."""
        t = self.topics
        out = [
            self._msg("camera", stream, "camera", {
                **self._base(stream, "camera", stream),
                "topic": t.camera(stream, "snapshot")}),  # raw JPEG bytes: no image_encoding
            self._msg("binary_sensor", stream, "motion", {
                **self._base(stream, "motion", f"{stream} motion"),
                "state_topic": t.camera(stream, "motion"), "device_class": "motion",
                "payload_on": "ON", "payload_off": "OFF"}),
            self._msg("sensor", stream, "detection_count", {
                **self._base(stream, "detection_count", f"{stream} detections"),
                "state_topic": t.camera(stream, "detection_count"), "icon": "mdi:motion-sensor",
                "state_class": "measurement"}),
            self._msg("switch", stream, "recording", {
                **self._base(stream, "recording", f"{stream} recording"),
                "command_topic": t.recording_command(stream),
                "state_topic": t.recording_state(stream), "payload_on": "ON",
                "payload_off": "OFF", "state_on": "ON", "state_off": "OFF",
                "icon": "mdi:record-rec"}),
        ]
        out += [self.label_config(stream, label) for label in sorted(labels)]
        return out

    def label_config(self, stream: str, label: str) -> MqttMessage:
        role = f"{label_level(label)}_count"
        return self._msg("sensor", stream, role, {
            **self._base(stream, role, f"{stream} {label} count"),
            "state_topic": self.topics.camera(stream, label_level(label)),
            "icon": "mdi:counter", "state_class": "measurement"})

    def stream_removals(self, stream: str, labels: set[str]) -> list[MqttMessage]:
        """Empty retained configs: HA deletes the entities (and the broker forgets them)."""
        return [MqttMessage(m.topic, b"", qos=1, retain=True)
                for m in self.stream_configs(stream, labels)]

