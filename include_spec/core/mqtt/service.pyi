# The MQTT service (lightnvr/core/mqtt/service.py): NVR events -> LightNVR topics + HA discovery.
from collections.abc import Callable

from lightnvr.core.clock import Clock
from lightnvr.core.config import MqttConfig
from lightnvr.core.heartbeat import Heartbeat
from lightnvr.core.mqtt.client import MqttClient, MqttMessage, MqttStatus
from lightnvr.core.nvr_events import EventHub, NvrEvent

MOTION_OFF_SECONDS: float

class MqttService:
    client: MqttClient
    def __init__(self, config: MqttConfig, hub: EventHub,
                 snapshot: Callable[[str], bytes | None],
                 set_manual_recording: Callable[[str, bool], bool],
                 manual_recording: Callable[[str], bool],
                 snapshot_dir: str = "", heartbeat: Heartbeat | None = None,
                 clock: Clock | None = None) -> None: ...
    def start(self) -> None: ...
    def stop(self, timeout: float) -> None: ...
    def status(self) -> MqttStatus: ...
    def handle(self, event: NvrEvent) -> None: ...   # EventHub sink
    def tick(self) -> None: ...                      # EventHub periodic task
    def connect_state(self) -> list[MqttMessage]: ...   # what a fresh connection publishes first (mqtt thread)
