"""Path-template router: maps (method, path) to a handler, its parameters and its access rule."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from lightnvr.web.http import Access, HTTPError, Request, Response

Handler = Callable[[Request], Response]
_PARAM = re.compile(r"\{(\w+)(?::(path))?\}")


@dataclass(frozen=True, slots=True)
class Route:
    """One registered route. `template` uses `{name}` (one segment) or `{name:path}` (the rest)."""

    method: str
    template: str
    handler: Handler
    access: Access
    summary: str
    pattern: re.Pattern[str]


def _compile(template: str) -> re.Pattern[str]:
    out, pos = [], 0
    for m in _PARAM.finditer(template):
        out.append(re.escape(template[pos:m.start()]))
        out.append(f"(?P<{m.group(1)}>.+)" if m.group(2) else f"(?P<{m.group(1)}>[^/]+)")
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("^" + "".join(out) + "$")


class Router:
    """Routes in registration order; the first template that matches the path wins."""

    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(self, method: str, template: str, handler: Handler,
            access: Access = Access.READ, summary: str = "") -> None:
        """Register `handler`; `access` is enforced by the WSGI app before the handler runs."""
        method = method.upper()
        for r in self._routes:
            if r.method == method and r.template == template:
                raise ValueError(f"route {method} {template} registered twice")
        self._routes.append(Route(method, template, handler, access, summary, _compile(template)))

    def routes(self) -> list[Route]:
        return list(self._routes)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route for (method, path) and its parameters; HTTPError 404, or 405 with Allow."""
        allowed: list[str] = []
        for r in self._routes:
            m = r.pattern.match(path)
            if m is None:
                continue
            if r.method == method or (method == "HEAD" and r.method == "GET"):
                return r, m.groupdict()
            allowed.append(r.method)
        if allowed:
            allow = sorted(set(allowed) | ({"HEAD"} if "GET" in allowed else set()))
            raise HTTPError(405, f"method {method} not allowed on {path}",
                            {"Allow": ", ".join(allow)})
        raise HTTPError(404, f"no such resource: {path}")
