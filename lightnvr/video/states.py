"""The per-stream state machine's states (ARCHITECTURE.md, "Per-stream state machine")."""

from __future__ import annotations

from enum import StrEnum


class StreamState(StrEnum):
    INACTIVE = "inactive"
    STARTING = "starting"
    ACTIVE = "active"
    RECONNECTING = "reconnecting"
    STOPPING = "stopping"
    ERROR = "error"
