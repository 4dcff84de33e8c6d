"""lightnvr: a lightweight network video recorder (LightNVR's architecture in Python)."""

__version__ = "0.1.0"
