"""build_router: the Router with every API module's routes (lightnvr/web/api/*.py).

Each API module exposes `register(router: Router, ctx: WebContext) -> None`; modules are
loaded in name order. A module that fails to import or register is logged with its traceback
and skipped, so one broken area cannot take the whole web UI down.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil

import lightnvr.web.api as api_pkg
from lightnvr.web import openapi
from lightnvr.web.app import ensure_auth
from lightnvr.web.context import WebContext
from lightnvr.web.router import Router

log = logging.getLogger(__name__)


def api_modules() -> list[str]:
    """Fully qualified names of the API modules, in load order."""
    return sorted(f"{api_pkg.__name__}.{m.name}" for m in pkgutil.iter_modules(api_pkg.__path__)
                  if not m.name.startswith("_"))


def build_router(ctx: WebContext, strict: bool = False) -> Router:
    """A Router with every API module registered (`strict`: re-raise a module's failure)."""
    ensure_auth(ctx)
    router = Router()
    for name in api_modules():
        try:
            module = importlib.import_module(name)
            register = getattr(module, "register", None)
            if register is None:
                continue
            register(router, ctx)
        except Exception:
            if strict:
                raise
            log.error("API module %s failed to register; its routes are missing", name,
                      exc_info=True)
    openapi.register(router, ctx)
    return router
