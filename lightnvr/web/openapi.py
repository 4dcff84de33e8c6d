"""OpenAPI 3.1 document of the REST API, generated from the router plus per-route schemas.

Convention for API modules: register the route with `router.add(method, template, handler,
access, summary="...")`, then (optionally) declare its shapes next to the handler:

    openapi.describe("GET", "/api/system/logs",
                     query={"level": {"type": "string"}, "count": {"type": "integer"}},
                     params={"id": INTEGER_PARAM},            # path parameters, default string
                     request=obj({"action": STRING}, required=["action"]),   # JSON body
                     responses={200: obj({"logs": array(ANY)})})

A response value is a JSON schema (application/json) or `media("text/plain", schema)` for
other content types. Every operation also documents `default` (the `{"error": ...}` shape),
so any other status is described; routes with no `describe` get a free-form 200.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import lightnvr
from lightnvr.web.http import Access, Request, Response
from lightnvr.web.lightnvr_routes import route_statuses
from lightnvr.web.router import _PARAM, Router

if TYPE_CHECKING:
    from lightnvr.web.context import WebContext

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
NUMBER: Schema = {"type": "number"}
BOOLEAN: Schema = {"type": "boolean"}
ANY: Schema = {}
ERROR: Schema = {"type": "object", "properties": {"error": {"type": "string"}},
                 "required": ["error"]}
SUCCESS: Schema = {"type": "object", "properties": {"success": {"type": "boolean"}},
                   "required": ["success"]}
INTEGER_PARAM: Schema = {"type": "integer", "minimum": 1, "maximum": 2**62}


def obj(properties: Mapping[str, Schema] | None = None, required: Sequence[str] = (),
        additional: bool = True) -> Schema:
    """A JSON object schema."""
    s: Schema = {"type": "object", "properties": dict(properties or {})}
    if required:
        s["required"] = list(required)
    if not additional:
        s["additionalProperties"] = False
    return s


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def media(content_type: str, schema: Schema | None = None) -> Schema:
    """A non-JSON response body (e.g. `media("text/plain")`, `media("video/mp4")`)."""
    return {"x-media": content_type, "schema": schema if schema is not None else {}}


@dataclass(slots=True)
class _Op:
    summary: str = ""
    request: Schema | None = None
    request_required: bool = True
    responses: dict[int, Schema] = field(default_factory=dict)
    query: dict[str, Schema] = field(default_factory=dict)
    required_query: list[str] = field(default_factory=list)
    params: dict[str, Schema] = field(default_factory=dict)


_REGISTRY: dict[tuple[str, str], _Op] = {}


def describe(method: str, template: str, *, summary: str = "",
             request: Schema | None = None, request_required: bool = True,
             responses: Mapping[int, Schema] | None = None,
             query: Mapping[str, Schema] | None = None, required_query: Sequence[str] = (),
             params: Mapping[str, Schema] | None = None) -> None:
    """Declare the shapes of one route (same method/template as given to `router.add`)."""
    _REGISTRY[(method.upper(), template)] = _Op(
        summary, request, request_required, dict(responses or {}), dict(query or {}),
        list(required_query), dict(params or {}))


def _content(schema: Schema) -> dict[str, Any]:
    if "x-media" in schema:
        return {schema["x-media"]: {"schema": schema["schema"]}}
    return {"application/json": {"schema": schema}}


def _operation(method: str, template: str, access: Access, summary: str) -> dict[str, Any]:
    op = _REGISTRY.get((method, template), _Op())
    parts = template.strip("/").split("/")
    out: dict[str, Any] = {
        "summary": op.summary or summary or f"{method} {template}",
        "operationId": f"{method.lower()}_{template}".replace("/", "_").replace("{", "")
        .replace("}", "").replace(":path", "").replace("-", "_").replace(".", "_"),
        "tags": [parts[1] if parts[0] == "api" and len(parts) > 1 else parts[0]],
        "x-access": access.name.lower(),
    }
    params: list[dict[str, Any]] = []
    for m in _PARAM.finditer(template):
        name = m.group(1)
        params.append({"name": name, "in": "path", "required": True,
                       "schema": op.params.get(name, {"type": "string", "minLength": 1})})
    for name, schema in op.query.items():
        params.append({"name": name, "in": "query", "required": name in op.required_query,
                       "schema": schema})
    if params:
        out["parameters"] = params
    if op.request is not None:
        out["requestBody"] = {"required": op.request_required, "content": _content(op.request)}
    responses: dict[str, Any] = {}
    for status, schema in sorted(op.responses.items()):
        responses[str(status)] = ({"description": "no content"} if status == 204 else
                                  {"description": f"HTTP {status}", "content": _content(schema)})
    if not any(200 <= s < 400 for s in op.responses):
        responses["200"] = {"description": "success (not described further)",
                            "content": {"*/*": {"schema": {}}}}
    responses["default"] = {"description": "error", "content": _content(ERROR)}
    out["responses"] = responses
    if access == Access.PUBLIC:
        out["security"] = [{}]
    return out


def build_document(router: Router) -> dict[str, Any]:
    """The OpenAPI document for every route registered on `router`."""
    paths: dict[str, dict[str, Any]] = {}
    for r in router.routes():
        path = _PARAM.sub(lambda m: "{" + m.group(1) + "}", r.template)
        paths.setdefault(path, {})[r.method.lower()] = _operation(
            r.method, r.template, r.access, r.summary)
    return {
        "openapi": "3.1.0",
        "info": {"title": "lightnvr REST API (LightNVR-compatible)",
                 "version": lightnvr.__version__},
        "paths": paths,
        "components": {"securitySchemes": {
            "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            "bearer": {"type": "http", "scheme": "bearer"},
            "basic": {"type": "http", "scheme": "basic"},
        }},
        "security": [{"session": []}, {"apiKey": []}, {"bearer": []}, {"basic": []}],
        # Every LightNVR route and its status here (docs/compatibility.md has the same table).
        "x-lightnvr-routes": [s.to_dict() for s in route_statuses(
            (r.method, r.template) for r in router.routes())],
    }


def register(router: Router, ctx: WebContext) -> None:
    """GET /api/openapi.json (authenticated, like every API route)."""
    cache: dict[str, bytes] = {}

    def handler(req: Request) -> Response:
        if "doc" not in cache:  # routes are fixed once the server runs
            cache["doc"] = Response.json(build_document(router)).body  # type: ignore[assignment]
        return Response(200, cache["doc"], {"Content-Type": "application/json"})

    router.add("GET", "/api/openapi.json", handler, Access.READ,
               summary="This OpenAPI document")
    describe("GET", "/api/openapi.json", responses={200: obj({"openapi": STRING,
                                                             "paths": obj()})})
