# The MQTT connection (lightnvr/core/mqtt/client.py): thread "mqtt", bounded outbox, back-off.
from collections.abc import Callable, Sequence

from paho.mqtt.reasoncodes import ReasonCode

from lightnvr.core.config import MqttConfig
from lightnvr.core.heartbeat import Heartbeat

OUTBOX_MAX_MESSAGES: int
OUTBOX_MAX_BYTES: int
BACKOFF_MAX_UNREACHABLE: float
BACKOFF_MAX_REFUSED: float

class MqttMessage:
    topic: str
    payload: bytes
    qos: int | None         # None: [mqtt] qos
    retain: bool | None     # None: [mqtt] retain

class MqttStatus:
    enabled: bool
    state: str              # disabled, connecting, connected, disconnected, refused
    broker: str
    last_error: str         # what was wrong and what to do
    connects: int
    attempts: int
    published: int
    dropped: int            # dropped from a full outbox, oldest first
    queued: int
    connected_since: float | None
    def to_dict(self) -> dict[str, object]: ...   # GET /api/mqtt/status

class Outbox:
    dropped: int
    def __init__(self, max_messages: int = ..., max_bytes: int = ...) -> None: ...
    def put(self, msg: MqttMessage) -> None: ...
    def put_front(self, msgs: Sequence[MqttMessage]) -> None: ...
    def get(self) -> MqttMessage | None: ...
    def __len__(self) -> int: ...

class MqttClient:
    def __init__(self, config: MqttConfig, will_topic: str,
                 on_connected: Callable[[], list[MqttMessage]] | None = None,
                 on_message: Callable[[str, bytes], None] | None = None,
                 subscriptions: Sequence[str] = (),
                 heartbeat: Heartbeat | None = None) -> None: ...
    def publish(self, msg: MqttMessage) -> None: ...   # never blocks
    @property
    def connected(self) -> bool: ...
    def status(self) -> MqttStatus: ...
    def start(self) -> None: ...
    def stop(self, timeout: float) -> None: ...        # flush, "offline", disconnect, join

# a refused CONNACK as a sentence: what was wrong, what to do
def describe_connack(rc: ReasonCode) -> str: ...
