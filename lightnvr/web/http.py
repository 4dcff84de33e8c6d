"""Request, Response and HTTPError: the small HTTP vocabulary every API handler speaks."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import orjson

JSON_TYPE = "application/json"
DEFAULT_MAX_BODY = 1 << 20  # 1 MiB unless the server is configured otherwise
# Deeper JSON is refused before it is parsed: no request shape of ours nests beyond a few
# levels, and handlers that walk a body must not meet orjson's 1024 levels of recursion.
JSON_MAX_DEPTH = 32
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_INNERMOST_PAIR = re.compile(rb"[\[{][\]}]")
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")


class Role(IntEnum):
    """LightNVR's roles; lower is more powerful."""

    ADMIN = 0
    USER = 1
    VIEWER = 2
    API = 3


class Access(IntEnum):
    """What a route needs from the caller; the WSGI app enforces it centrally."""

    PUBLIC = 0  # no authentication (login, login config, health, static)
    READ = 1  # any authenticated role
    WRITE = 2  # admin, user, api — never viewer
    ADMIN = 3  # admin only


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller."""

    user_id: int
    username: str
    role: Role
    via: str  # "session" | "api_key" | "basic" | "anonymous"
    session_id: int | None = None
    must_change_password: bool = False  # every route but the way to change it answers 403


class HTTPError(Exception):
    """Raised by handlers (and the framework) to answer `status` with `{"error": message}`."""

    status: int
    message: str
    headers: dict[str, str]

    def __init__(self, status: int, message: str,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


@dataclass(slots=True)
class Request:
    """One HTTP request as handlers see it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    environ: dict[str, Any]
    params: dict[str, str] = field(default_factory=dict)  # from the route template
    principal: Principal | None = None
    max_body: int = DEFAULT_MAX_BODY
    auth_error: str | None = None  # why presented credentials were refused (the 401's text)
    _body: bytes | None = None

    @classmethod
    def from_environ(cls, environ: dict[str, Any], max_body: int = DEFAULT_MAX_BODY) -> Request:
        raw_path = environ.get("PATH_INFO", "/") or "/"
        # PEP 3333 hands PATH_INFO as latin-1-decoded bytes; recover the UTF-8 the client sent.
        try:
            path = raw_path.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            raise HTTPError(400, "request path is not valid UTF-8") from None
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        headers = {
            k[5:].replace("_", "-").lower(): str(v)
            for k, v in environ.items() if k.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = str(environ["CONTENT_TYPE"])
        if environ.get("CONTENT_LENGTH"):
            headers["content-length"] = str(environ["CONTENT_LENGTH"])
        return cls(method=str(environ.get("REQUEST_METHOD", "GET")).upper(), path=path,
                   query=query, headers=headers, environ=environ, max_body=max_body)

    @property
    def remote_addr(self) -> str:
        return str(self.environ.get("REMOTE_ADDR", ""))

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The first value of query parameter `name`."""
        values = self.query.get(name)
        return values[0] if values else default

    def int_arg(self, name: str, default: int, lo: int | None = None, hi: int | None = None) -> int:
        """Query parameter `name` as an int within [lo, hi]; 400 naming the parameter otherwise."""
        raw = self.arg(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise HTTPError(400, f"query parameter '{name}' must be an integer") from None
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise HTTPError(400, f"query parameter '{name}' must be between {lo} and {hi}")
        return value

    def body(self) -> bytes:
        """The request body, at most `max_body` bytes (413 beyond)."""
        if self._body is None:
            try:
                length = int(self.headers.get("content-length") or 0)
            except ValueError:
                raise HTTPError(400, "invalid Content-Length") from None
            if length < 0:
                raise HTTPError(400, "invalid Content-Length")
            if length > self.max_body:
                raise HTTPError(413, f"request body larger than {self.max_body} bytes")
            stream = self.environ.get("wsgi.input")
            self._body = stream.read(length) if (stream is not None and length) else b""
        return self._body

    def json(self) -> Any:
        """The body parsed as JSON: 400 when absent or not JSON, 415 when not labelled
        `application/json`, 400 when nested deeper than `JSON_MAX_DEPTH`.

        The label is what keeps cross-site pages out: a browser sends `text/plain` or a
        form type from any site without asking, but `application/json` only after a CORS
        preflight, which this server never grants.
        """
        data = self.body()
        if not data:
            raise HTTPError(400, "request body must be JSON")
        ctype = self.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if ctype != JSON_TYPE:
            raise HTTPError(415, "request body must be sent with Content-Type: application/json")
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise HTTPError(400, f"invalid JSON: {exc}") from None
        if json_depth_exceeds(data, JSON_MAX_DEPTH):
            raise HTTPError(400, f"JSON nested deeper than {JSON_MAX_DEPTH} levels")
        return value

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object; 400 for any other JSON value."""
        value = self.json()
        if not isinstance(value, dict):
            raise HTTPError(400, "request body must be a JSON object")
        return value


def json_depth_exceeds(data: bytes, limit: int) -> bool:
    """True when the valid JSON text `data` nests arrays/objects deeper than `limit`.

    Works on the bytes: strings are blanked, everything but brackets dropped, then innermost
    pairs removed up to `limit` times, each pass one C-speed regex over what is left (wide
    bodies such as `[{},{},...]` vanish in two passes; a run of `limit + 1` openers is caught
    at once). Whatever survives `limit` passes was nested deeper. Call it on text the parser
    accepted: orjson has already refused anything deeper than 1024 levels.
    """
    if data.count(b"[") + data.count(b"{") <= limit:
        return False  # the common case: too few brackets to nest that deep
    rest = _JSON_STRING.sub(b"", data).translate(None, _NOT_BRACKET)
    too_deep = re.compile(rb"[\[{]{%d}" % (limit + 1))
    for _ in range(limit):
        if not rest:
            return False
        if too_deep.search(rest):
            return True
        rest = _INNERMOST_PAIR.sub(b"", rest)
    return bool(rest)


@dataclass(slots=True)
class Response:
    """What a handler returns. `body` may be bytes or an iterable of bytes (streamed)."""

    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    close: Any = None  # optional callable run when the WSGI server closes the response

    @classmethod
    def json(cls, data: Any, status: int = 200,
             headers: Mapping[str, str] | None = None) -> Response:
        h = {"Content-Type": JSON_TYPE}
        h.update(headers or {})
        return cls(status, orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS), h)

    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str = "text/plain; charset=utf-8",
             headers: Mapping[str, str] | None = None) -> Response:
        h = {"Content-Type": content_type}
        h.update(headers or {})
        return cls(status, text.encode("utf-8"), h)

    @classmethod
    def error(cls, status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
        return cls.json({"error": message}, status, headers)

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Response:
        return cls(status, b"", {"Location": location})
