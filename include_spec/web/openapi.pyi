# OpenAPI generation (lightnvr/web/openapi.py). Convention: after router.add(...), an API
# module may call describe(method, template, ...) with the same method and template.
from collections.abc import Mapping, Sequence
from typing import Any

from lightnvr.web.context import WebContext
from lightnvr.web.router import Router

Schema = dict[str, Any]
STRING: Schema
INTEGER: Schema
NUMBER: Schema
BOOLEAN: Schema
ANY: Schema
ERROR: Schema
SUCCESS: Schema
INTEGER_PARAM: Schema

def obj(properties: Mapping[str, Schema] | None = None, required: Sequence[str] = (),
        additional: bool = True) -> Schema: ...
def array(items: Schema) -> Schema: ...
def nullable(schema: Schema) -> Schema: ...
def media(content_type: str, schema: Schema | None = None) -> Schema: ...
def describe(method: str, template: str, *, summary: str = "",
             request: Schema | None = None, request_required: bool = True,
             responses: Mapping[int, Schema] | None = None,
             query: Mapping[str, Schema] | None = None, required_query: Sequence[str] = (),
             params: Mapping[str, Schema] | None = None) -> None: ...
def build_document(router: Router) -> dict[str, Any]: ...
def register(router: Router, ctx: WebContext) -> None: ...   # GET /api/openapi.json
