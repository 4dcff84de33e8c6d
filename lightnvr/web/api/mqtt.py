"""MQTT status and event snapshots: GET /api/mqtt/status, GET /api/snapshots/{stream}/{file}.

The MQTT service is the daemon's (`ctx.extra["mqtt"]`, contract
include_spec/core/mqtt/service.pyi); without it MQTT is off and the status says so. Event
snapshots are the JPEGs the service saved for each detection (the `snapshot_url` of the
detection JSON, docs/mqtt.md), under `<data dir>/snapshots/<stream>/`. The same route also
serves LightNVR's detection snapshots, `<[storage] path>/snapshots/<stream>/<file>.jpg` (an
adopted LightNVR install's, or a detector that saves them there), with LightNVR's file-name rule.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from lightnvr.web import media, scope
from lightnvr.web import openapi as oa
from lightnvr.web.context import WebContext
from lightnvr.web.http import Access, HTTPError, Request, Response
from lightnvr.web.router import Router

if TYPE_CHECKING:
    from lightnvr.core.mqtt.service import MqttService

# What the service writes: topic-safe stream level, then YYYYmmdd_HHMMSS_mmm.jpg.
_STREAM_LEVEL = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_FILE = re.compile(r"^\d{8}_\d{6}_\d{3}\.jpg$")
# LightNVR's rule for its detection snapshots: letters, digits, _ - . and a .jpg suffix.
_DETECTION_FILE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,200}\.jpg$")


def status_json(ctx: WebContext) -> dict[str, object]:
    service: MqttService | None = ctx.extra.get("mqtt")  # type: ignore[assignment]
    cfg = ctx.config.mqtt
    if service is None:
        why = ("[mqtt] enabled = true but broker_host is empty" if cfg.enabled
               else "MQTT is disabled ([mqtt] enabled = false)")
        return {"enabled": cfg.enabled, "state": "disabled", "connected": False,
                "broker": f"{cfg.broker_host}:{cfg.broker_port}", "last_error": why}
    return service.status().to_dict()


def register(router: Router, ctx: WebContext) -> None:
    def status(req: Request) -> Response:
        return Response.json(status_json(ctx))

    def snapshot(req: Request) -> Response:
        stream, name = req.params["stream"], req.params["file"]
        if not _STREAM_LEVEL.match(stream) or stream.startswith(".") or ".." in name \
                or not _DETECTION_FILE.match(name):
            raise HTTPError(404, "no such event snapshot")
        scope.require_stream(ctx, req, stream)  # the caller's camera tags (web/scope.py)
        roots = [os.path.join(ctx.config.storage.path, "snapshots")]
        if _FILE.match(name):
            roots.insert(0, os.path.join(ctx.data_dir, "snapshots"))
        for root in roots:
            path = os.path.join(root, stream, name)
            if not media.is_within(root, path):
                continue  # a symlink out of the snapshot folder
            try:
                with open(path, "rb") as fh:
                    data = fh.read()
            except OSError:
                continue
            return Response(200, data, {"Content-Type": "image/jpeg",
                                        "Cache-Control": "private, max-age=86400"})
        raise HTTPError(404, "no such event snapshot (only the newest 100 per stream are kept)")

    router.add("GET", "/api/mqtt/status", status, Access.READ,
               "MQTT connection state and counters")
    oa.describe("GET", "/api/mqtt/status", responses={200: oa.obj({
        "enabled": oa.BOOLEAN, "state": oa.STRING, "connected": oa.BOOLEAN,
        "broker": oa.STRING, "last_error": oa.STRING}, required=["state", "connected"])})
    router.add("GET", "/api/snapshots/{stream}/{file}", snapshot, Access.READ,
               "A detection event's JPEG (the snapshot_url of an MQTT detection event)")
