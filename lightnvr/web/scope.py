"""Camera-tag scoping (LightNVR's `allowed_tags`): which streams a caller may see and control.

A user with `allowed_tags` set sees and controls only streams carrying at least one of those
tags; a stream without tags is hidden from them (LightNVR's `db_auth_stream_allowed_for_user`).
Every stream-bearing route asks here: lists drop what `visible_streams` leaves out, routes
naming one stream call `require_stream` (403 "Stream access denied", LightNVR's answer).
Admins are bound by their tags too, as in LightNVR; with auth disabled nobody is restricted.
"""

from __future__ import annotations

from lightnvr.web.context import WebContext
from lightnvr.web.http import HTTPError, Request

STREAM_DENIED = "Stream access denied"


def stream_tags(tags: str) -> frozenset[str]:
    """A stream's comma-separated `tags` as a set (spaces around each trimmed)."""
    return frozenset(t.strip() for t in tags.split(",") if t.strip())


def caller_tags(ctx: WebContext, req: Request) -> frozenset[str] | None:
    """The caller's allowed tags, or None when the caller is not restricted."""
    p = req.principal
    if p is None or p.via == "anonymous" or ctx.auth is None:
        return None
    user = ctx.auth.users.get(p.user_id)
    return user.tag_set() if user is not None else None


def visible_streams(ctx: WebContext, req: Request) -> frozenset[str] | None:
    """Names of the streams the caller may see, or None for "every stream"."""
    allowed = caller_tags(ctx, req)
    if allowed is None:
        return None
    return frozenset(s.name for s in ctx.streams.list() if stream_tags(s.tags) & allowed)


def may_see(ctx: WebContext, req: Request, stream: str) -> bool:
    """The caller may see and control stream `stream` (unknown names count as visible:
    the route then answers its own 404)."""
    allowed = caller_tags(ctx, req)
    if allowed is None:
        return True
    cfg = ctx.streams.get(stream)
    return cfg is None or bool(stream_tags(cfg.tags) & allowed)


def require_stream(ctx: WebContext, req: Request, stream: str) -> None:
    """HTTPError 403 when the caller's tags do not reach stream `stream`."""
    if not may_see(ctx, req, stream):
        raise HTTPError(403, STREAM_DENIED)


def reachable_recordings(ctx: WebContext, req: Request, ids: list[int]) -> list[int]:
    """`ids` without the recordings of streams the caller's tags do not reach (unknown ids
    stay: the caller's own handling of a missing recording applies to them)."""
    seen = visible_streams(ctx, req)
    if seen is None:
        return ids
    out: list[int] = []
    for rid in ids:
        rec = ctx.recordings.get(rid)
        if rec is None or rec.stream_name in seen:
            out.append(rid)
    return out
