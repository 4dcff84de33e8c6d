"""LightNVR's REST routes and how each one stands here: same, different (and why), not yet.

`LIGHTNVR_ROUTES` is every `http_server_register_handler` of LightNVR's
`src/web/libuv_api_handlers.c` (its `#` path segments written `{}` and its `*` tail
`{*}`), in its order. It is refreshed from a LightNVR checkout with
`python -m tools.compat_routes --refresh GIT_DIR`, and a test compares it with the checkout
when one is at hand. `route_statuses(ours)` sets it against our router's routes; the OpenAPI
document (`x-lightnvr-routes`) and docs/compatibility.md (tools/compat_routes.py) are both
made from that one answer, so neither can drift from the code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

# BEGIN LIGHTNVR_ROUTES (tools/compat_routes.py --refresh writes this block)
LIGHTNVR_ROUTES: tuple[tuple[str, str], ...] = (
    ("GET", "/api/setup/status"),
    ("POST", "/api/setup/status"),
    ("GET", "/api/health"),
    ("GET", "/api/health/hls"),
    ("GET", "/api/metrics"),
    ("POST", "/api/telemetry/player"),
    ("POST", "/api/motion/trigger"),
    ("GET", "/api/streams"),
    ("POST", "/api/streams"),
    ("POST", "/api/streams/test"),
    ("GET", "/api/streams/{}/recording"),
    ("POST", "/api/streams/{}/recording"),
    ("GET", "/api/streams/{}/zones"),
    ("POST", "/api/streams/{}/zones"),
    ("DELETE", "/api/streams/{}/zones"),
    ("GET", "/api/streams/{}/retention"),
    ("PUT", "/api/streams/{}/retention"),
    ("POST", "/api/streams/{}/refresh"),
    ("GET", "/api/streams/{}/ptz/capabilities"),
    ("GET", "/api/streams/{}/ptz/presets"),
    ("POST", "/api/streams/{}/ptz/move"),
    ("POST", "/api/streams/{}/ptz/stop"),
    ("POST", "/api/streams/{}/ptz/absolute"),
    ("POST", "/api/streams/{}/ptz/relative"),
    ("POST", "/api/streams/{}/ptz/home"),
    ("POST", "/api/streams/{}/ptz/set-home"),
    ("POST", "/api/streams/{}/ptz/goto-preset"),
    ("PUT", "/api/streams/{}/ptz/preset"),
    ("GET", "/api/streams/{}/imaging/settings"),
    ("PUT", "/api/streams/{}/imaging/settings"),
    ("GET", "/api/streams/{}/imaging/options"),
    ("GET", "/api/streams/{}/daynight"),
    ("PUT", "/api/streams/{}/daynight"),
    ("GET", "/api/streams/{}/full"),
    ("GET", "/api/streams/{}"),
    ("PUT", "/api/streams/{}"),
    ("DELETE", "/api/streams/{}"),
    ("GET", "/api/settings"),
    ("POST", "/api/settings"),
    ("POST", "/api/settings/go2rtc/validate"),
    ("GET", "/api/ice-servers"),
    ("GET", "/api/system"),
    ("GET", "/api/system/info"),
    ("GET", "/api/system/logs"),
    ("POST", "/api/system/restart"),
    ("POST", "/api/system/shutdown"),
    ("POST", "/api/system/logs/clear"),
    ("POST", "/api/system/backup"),
    ("GET", "/api/system/status"),
    ("GET", "/api/system/go2rtc/effective-config"),
    ("GET", "/api/system/go2rtc/override-status"),
    ("GET", "/api/detection/results/{}"),
    ("GET", "/api/detection/models"),
    ("GET", "/api/snapshots/{}/{}"),
    ("GET", "/api/storage/health"),
    ("POST", "/api/storage/cleanup"),
    ("GET", "/api/auth/login/config"),
    ("POST", "/api/auth/login"),
    ("POST", "/api/auth/logout"),
    ("GET", "/api/auth/verify"),
    ("GET", "/api/auth/sessions"),
    ("DELETE", "/api/auth/sessions/{}"),
    ("GET", "/api/auth/trusted-devices"),
    ("DELETE", "/api/auth/trusted-devices/{}"),
    ("GET", "/logout"),
    ("GET", "/api/auth/users"),
    ("POST", "/api/auth/users"),
    ("GET", "/api/auth/users/{}"),
    ("PUT", "/api/auth/users/{}"),
    ("DELETE", "/api/auth/users/{}"),
    ("POST", "/api/auth/users/{}/api-key"),
    ("PUT", "/api/auth/users/{}/password"),
    ("PUT", "/api/auth/users/{}/password-lock"),
    ("POST", "/api/auth/users/{}/login-lockout/clear"),
    ("POST", "/api/auth/users/{}/totp/setup"),
    ("POST", "/api/auth/users/{}/totp/verify"),
    ("POST", "/api/auth/users/{}/totp/disable"),
    ("GET", "/api/auth/users/{}/totp/status"),
    ("POST", "/api/auth/login/totp"),
    ("GET", "/api/onvif/discovery/status"),
    ("GET", "/api/onvif/devices"),
    ("POST", "/api/onvif/discovery/discover"),
    ("GET", "/api/onvif/device/profiles"),
    ("POST", "/api/onvif/device/add"),
    ("POST", "/api/onvif/device/test"),
    ("GET", "/api/recordings/thumbnail/{}/{}"),
    ("GET", "/api/recordings/play/{}"),
    ("GET", "/api/recordings/download/{}"),
    ("GET", "/api/recordings/files/check"),
    ("DELETE", "/api/recordings/files"),
    ("GET", "/api/recordings/batch-delete/progress/{}"),
    ("POST", "/api/recordings/batch-delete"),
    ("GET", "/api/recordings/batch-download/status/{}"),
    ("GET", "/api/recordings/batch-download/result/{}"),
    ("POST", "/api/recordings/batch-download"),
    ("GET", "/api/recordings/protected"),
    ("POST", "/api/recordings/batch-protect"),
    ("POST", "/api/recordings/sync"),
    ("GET", "/api/recordings/tags"),
    ("GET", "/api/recordings/detection-labels"),
    ("POST", "/api/recordings/batch-tags"),
    ("GET", "/api/recordings/{}/tags"),
    ("PUT", "/api/recordings/{}/tags"),
    ("PUT", "/api/recordings/{}/protect"),
    ("PUT", "/api/recordings/{}/retention"),
    ("GET", "/api/recordings/{}"),
    ("DELETE", "/api/recordings/{}"),
    ("GET", "/api/recordings"),
    ("GET", "/api/timeline/segments-by-ids"),
    ("GET", "/api/timeline/segments"),
    ("GET", "/api/timeline/manifest"),
    ("GET", "/api/timeline/play"),
    ("GET", "/hls/{}/{}"),
    ("GET", "/go2rtc/api/streams"),
    ("POST", "/go2rtc/api/reload"),
    ("GET", "/go2rtc/api/stream.m3u8"),
    ("GET", "/go2rtc/api/hls/{*}"),
    ("GET", "/go2rtc/api/frame.jpeg"),
)
# END LIGHTNVR_ROUTES

# Routes we have whose answers differ from LightNVR's on purpose, and why.
DIFFERENT: dict[tuple[str, str], str] = {
    ("GET", "/api/health"): "LightNVR's fields plus `database` and `version`; per-stream "
    "`streams_detail` only for a signed-in caller (no stream names for anonymous callers); "
    "503 while the database does not answer",
    ("GET", "/api/health/hls"): "`watchdogRestartCount` counts stream reconnects: live HLS "
    "writers restart with their stream, there is no separate HLS watchdog",
    ("POST", "/api/system/backup"): "also makes our consistent SQLite backup (`path`, "
    "`size`); the JSON export is fetched from GET /api/system/backup/{file} by admins, never "
    "put under the web root, and holds no camera passwords",
    ("GET", "/api/metrics"): "LightNVR's metric names beside ours; frames are packets read "
    "(no decoding to count frames), no per-type error counters, CPU is the process's "
    "average since start",
    ("GET", "/api/recordings/files/check"): "the path must lie under [storage] path "
    "(LightNVR checks any path); a recording's file also answers its recording_id",
    ("DELETE", "/api/recordings/files"): "the path must lie under [storage] path (LightNVR "
    "unlinks any path); a recording's file is deleted as that recording (row and file; 409 "
    "while protected)",
    ("POST", "/api/telemetry/player"): "a body that is not JSON is a 400 (LightNVR: 204); "
    "totals are exported as lightnvr_player_* metrics",
    ("GET", "/api/snapshots/{}/{}"): "LightNVR's detection snapshots "
    "(<storage>/snapshots/<stream>/<file>.jpg) and, first, our MQTT events' "
    "(<data dir>/snapshots/<stream>/<time>.jpg, the newest 100 per stream); a name that "
    "breaks LightNVR's rule is a 404 (LightNVR: 400)",
    ("GET", "/api/system/info"): "LightNVR's fields; no go2rtcMemory/detectorMemory "
    "(no separate processes to measure)",
}

# Routes we do not have yet, by path prefix, and why.
NOT_YET: tuple[tuple[str, str], ...] = (
    ("/api/streams/{}/ptz/", "PTZ control belongs to another issue"),
    ("/api/streams/{}/imaging/", "ONVIF imaging belongs to another issue"),
    ("/api/streams/{}/daynight", "ONVIF day/night belongs to another issue"),
    ("/api/onvif/", "ONVIF discovery belongs to another issue"),
    ("/api/settings/go2rtc/", "go2rtc belongs to another issue"),
    ("/api/system/go2rtc/", "go2rtc belongs to another issue"),
    ("/go2rtc/", "go2rtc belongs to another issue"),
    ("/api/ice-servers", "WebRTC belongs to another issue"),
)

_PARAM = re.compile(r"\{[^}]*\}")


def normalise(path: str) -> str:
    """A route template with its parameters anonymous: `{name}` -> `{}`, `{x:path}` -> `{*}`."""
    return _PARAM.sub(lambda m: "{*}" if m.group(0).endswith(":path}") else "{}", path)


@dataclass(frozen=True, slots=True)
class RouteStatus:
    """One LightNVR route: `status` is "same", "different" or "not yet"; `note` says why."""

    method: str
    path: str
    status: str
    note: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def route_statuses(ours: Iterable[tuple[str, str]]) -> list[RouteStatus]:
    """Every LightNVR route, in LightNVR's order, against `ours` ((method, template) pairs)."""
    have = {(m.upper(), normalise(p)) for m, p in ours}
    rows: list[RouteStatus] = []
    for method, path in LIGHTNVR_ROUTES:
        key = (method, path)
        if key in have or (path.endswith("{*}") and (method, path[:-3] + "{}") in have):
            note = DIFFERENT.get(key, "")
            rows.append(RouteStatus(method, path, "different" if note else "same", note))
            continue
        why = next((w for prefix, w in NOT_YET if path.startswith(prefix)),
                   "not implemented yet (issue #15)")
        rows.append(RouteStatus(method, path, "not yet", why))
    return rows


def extra_routes(ours: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Our (method, template) routes that LightNVR does not have, in `ours`' order."""
    theirs = set(LIGHTNVR_ROUTES)
    return [(m, p) for m, p in ours if (m.upper(), normalise(p)) not in theirs]
