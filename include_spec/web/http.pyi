# HTTP vocabulary of the web layer (lightnvr/web/http.py).
from collections.abc import Iterable, Mapping
from enum import IntEnum
from typing import Any

JSON_TYPE: str
DEFAULT_MAX_BODY: int
JSON_MAX_DEPTH: int                 # deeper JSON bodies answer 400

def json_depth_exceeds(data: bytes, limit: int) -> bool: ...

class Role(IntEnum):
    ADMIN = 0
    USER = 1
    VIEWER = 2
    API = 3

class Access(IntEnum):
    PUBLIC = 0
    READ = 1
    WRITE = 2
    ADMIN = 3

class Principal:
    user_id: int
    username: str
    role: Role
    via: str
    session_id: int | None
    must_change_password: bool      # the account must change its password before anything else

class HTTPError(Exception):
    status: int
    message: str
    headers: dict[str, str]
    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None: ...

class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    environ: dict[str, Any]
    params: dict[str, str]
    principal: Principal | None
    max_body: int
    auth_error: str | None          # why presented credentials were refused (401 text)
    @classmethod
    def from_environ(cls, environ: dict[str, Any], max_body: int = ...) -> Request: ...
    @property
    def remote_addr(self) -> str: ...
    def arg(self, name: str, default: str | None = None) -> str | None: ...
    def int_arg(self, name: str, default: int, lo: int | None = None, hi: int | None = None) -> int: ...
    def body(self) -> bytes: ...
    def json(self) -> Any: ...     # 400 empty/invalid/too deep, 415 not application/json
    def json_object(self) -> dict[str, Any]: ...

class Response:
    status: int
    body: bytes | Iterable[bytes]
    headers: dict[str, str]
    close: Any
    @classmethod
    def json(cls, data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response: ...
    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str = ...,
             headers: Mapping[str, str] | None = None) -> Response: ...
    @classmethod
    def error(cls, status: int, message: str, headers: Mapping[str, str] | None = None) -> Response: ...
    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Response: ...
