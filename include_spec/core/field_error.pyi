class FieldError(ValueError):
    field: str
    message: str
    def __init__(self, field: str, message: str) -> None: ...
