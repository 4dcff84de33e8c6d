"""MQTT: LightNVR's topics and Home Assistant discovery over one paho-mqtt connection.

client.py (the `mqtt` thread and its outbox), topics.py (topic layout and payloads),
discovery.py (Home Assistant config messages), service.py (events in, messages out).
This package imports only `core` and paho; lightnvr/app.py wires it (docs/mqtt.md).
"""
