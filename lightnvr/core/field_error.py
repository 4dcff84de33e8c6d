"""One error for "this field is invalid": the field's name and why, for a 4xx answer or a log.

Stream settings (`InvalidStreamConfig`) and detection zones (`InvalidZone`) derive from it."""

from __future__ import annotations


class FieldError(ValueError):
    """`field` names the offending setting (e.g. `zones[1].polygon`); `message` says why."""

    field: str
    message: str

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
