"""GET/POST /api/settings: LightNVR's flat setting names over our INI configuration.

POST validates through `lightnvr.core.config.set_values` (400 naming the field and what is
allowed), writes the file atomically (`write_config_atomic`, temp file + rename) to
`ctx.config_path`, applies what can change live (log level, auth timeouts and rate limits,
retention values through StorageManager.reconfigure) and says which keys need a
restart.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from lightnvr.core.config import Config, ConfigError, set_values, write_config_atomic
from lightnvr.core.logger import level_from_c
from lightnvr.core.redact import redact_url
from lightnvr.web import openapi as oa
from lightnvr.web.audit import audit
from lightnvr.web.context import WebContext
from lightnvr.web.http import Access, HTTPError, Request, Response, Role
from lightnvr.web.router import Router

log = logging.getLogger(__name__)

MASK = "********"
# LightNVR flat name -> (INI section, key)
SETTINGS: dict[str, tuple[str, str]] = {
    "web_thread_pool_size": ("web", "web_thread_pool_size"), "web_port": ("web", "port"),
    "web_bind_ip": ("web", "bind_ip"), "web_root": ("web", "root"),
    "web_auth_enabled": ("web", "auth_enabled"), "demo_mode": ("general", "demo_mode"),
    "storage_path": ("storage", "path"), "storage_path_hls": ("storage", "path_hls"),
    "max_storage_size": ("storage", "max_size"),
    "retention_days": ("storage", "retention_days"),
    "auto_delete_oldest": ("storage", "auto_delete_oldest"),
    "storage_min_free_pct": ("storage", "min_free_pct"),
    "storage_pressure_warning_pct": ("storage", "pressure_warning_pct"),
    "storage_pressure_critical_pct": ("storage", "pressure_critical_pct"),
    "storage_pressure_emergency_pct": ("storage", "pressure_emergency_pct"),
    "generate_thumbnails": ("storage", "generate_thumbnails"),
    "thumbnails_per_recording": ("storage", "thumbnails_per_recording"),
    "mp4_segment_duration": ("storage", "mp4_segment_duration"),
    "mp4_directory_format": ("storage", "mp4_directory_format"),
    "max_streams": ("streams", "max_streams"), "log_file": ("general", "log_file"),
    "log_level": ("general", "log_level"), "pid_file": ("general", "pid_file"),
    "syslog_enabled": ("general", "syslog_enabled"), "syslog_ident": ("general", "syslog_ident"),
    "syslog_facility": ("general", "syslog_facility"),
    "db_path": ("database", "path"),
    "db_backup_interval_minutes": ("database", "backup_interval_minutes"),
    "db_backup_retention_count": ("database", "backup_retention_count"),
    "buffer_size": ("memory", "buffer_size"),
    "api_detection_url": ("api_detection", "url"),
    "default_detection_threshold": ("api_detection", "detection_threshold"),
    "pre_detection_buffer": ("api_detection", "pre_detection_buffer"),
    "post_detection_buffer": ("api_detection", "post_detection_buffer"),
    "detection_grace_period": ("detection", "grace_period"),
    "auth_timeout_hours": ("web", "auth_timeout_hours"),
    "auth_absolute_timeout_hours": ("web", "auth_absolute_timeout_hours"),
    "login_rate_limit_enabled": ("web", "login_rate_limit_enabled"),
    "login_rate_limit_max_attempts": ("web", "login_rate_limit_max_attempts"),
    "login_rate_limit_window_seconds": ("web", "login_rate_limit_window_seconds"),
    "mqtt_enabled": ("mqtt", "enabled"), "mqtt_broker_host": ("mqtt", "broker_host"),
    "mqtt_broker_port": ("mqtt", "broker_port"), "mqtt_username": ("mqtt", "username"),
    "mqtt_password": ("mqtt", "password"), "mqtt_client_id": ("mqtt", "client_id"),
    "mqtt_topic_prefix": ("mqtt", "topic_prefix"), "mqtt_tls_enabled": ("mqtt", "tls_enabled"),
    "mqtt_keepalive": ("mqtt", "keepalive"), "mqtt_qos": ("mqtt", "qos"),
    "mqtt_retain": ("mqtt", "retain"), "mqtt_ha_discovery": ("mqtt", "ha_discovery"),
    "mqtt_ha_discovery_prefix": ("mqtt", "ha_discovery_prefix"),
    "mqtt_ha_snapshot_interval": ("mqtt", "ha_snapshot_interval"),
    "mqtt_tls_ca_file": ("mqtt", "tls_ca_file"),  # (ours) docs/mqtt.md
    "onvif_discovery_enabled": ("onvif", "discovery_enabled"),
    "onvif_discovery_interval": ("onvif", "discovery_interval"),
    "onvif_discovery_network": ("onvif", "discovery_network"),
}
SECRETS = {"mqtt_password"}  # nobody reads these back: MASK when set, "" when unset
# Filesystem layout is for admins: it tells an attacker where the database and keys are.
# Derived from the INI key, so a path setting added later is covered without a second list.
PATHS = {flat for flat, (_, key) in SETTINGS.items()
         if key in ("path", "root") or key.startswith("path_")
         or key.endswith(("_file", "_path", "_dir"))}
URLS = {"api_detection_url"}  # may carry credentials: masked for everyone but admins
LIVE_ALWAYS = {"log_level", "auth_timeout_hours", "auth_absolute_timeout_hours",
               "login_rate_limit_enabled", "login_rate_limit_max_attempts",
               "login_rate_limit_window_seconds", "web_auth_enabled"}
LIVE_WITH_STORAGE = {"retention_days", "auto_delete_oldest", "max_storage_size",
                     "storage_min_free_pct", "storage_pressure_warning_pct",
                     "storage_pressure_critical_pct", "storage_pressure_emergency_pct"}
_FLAT_BY_INI = {v: k for k, v in SETTINGS.items()}


def _field_type(section: str, key: str) -> str:
    cls = type(getattr(Config(), section))
    f = {f.name: f for f in dataclasses.fields(cls)}[key]
    return f.type if isinstance(f.type, str) else f.type.__name__


def settings_json(cfg: Config, admin: bool = True) -> dict[str, Any]:
    """The flat settings; secrets as set/unset for all, paths and URL credentials admin-only.

    Non-admins get no key at all for a path (not even its name being set), so the settings
    page simply has nothing to show there.
    """
    out: dict[str, Any] = {}
    for flat, (section, key) in SETTINGS.items():
        value = getattr(getattr(cfg, section), key)
        if flat in SECRETS:
            value = MASK if value else ""
        elif not admin and flat in PATHS:
            continue
        elif not admin and flat in URLS and isinstance(value, str):
            value = redact_url(value, keep_user=False)
        out[flat] = value
    return out


def _raw(flat: str, value: Any) -> str:
    """The INI text for a JSON value, type-checked against the setting (400 otherwise)."""
    kind = _field_type(*SETTINGS[flat])
    if kind == "bool":
        if not isinstance(value, bool):
            raise HTTPError(400, f"{flat}: must be true or false")
        return "true" if value else "false"
    if kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise HTTPError(400, f"{flat}: must be a number")
        if kind == "int" and value != int(value):
            raise HTTPError(400, f"{flat}: must be an integer")
        return str(int(value)) if kind == "int" else repr(float(value))
    if not isinstance(value, str):
        raise HTTPError(400, f"{flat}: must be a string")
    if any(c in value for c in "\r\n\x00") or len(value) > 4096:
        raise HTTPError(400, f"{flat}: must be a single line of at most 4096 characters")
    return value


class SettingsApi:
    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx

    def get(self, req: Request) -> Response:
        admin = req.principal is not None and req.principal.role == Role.ADMIN
        return Response.json(settings_json(self.ctx.config, admin))

    def meta(self, req: Request) -> Response:
        """Which settings apply at once when saved (`applied_live`); every other one needs a
        restart. The settings page marks the latter before anyone saves."""
        return Response.json({"applied_live": sorted(LIVE_ALWAYS | LIVE_WITH_STORAGE),
                              "settings": sorted(SETTINGS)})

    def post(self, req: Request) -> Response:
        body = req.json_object()
        old = self.ctx.config
        changes: dict[str, dict[str, str]] = {}
        changed: list[str] = []
        ignored = sorted(k for k in body if k not in SETTINGS)
        for flat, value in body.items():
            if flat not in SETTINGS or (flat in SECRETS and value == MASK):
                continue
            section, key = SETTINGS[flat]
            raw = _raw(flat, value)
            if getattr(getattr(old, section), key) == value:
                continue
            changes.setdefault(section, {})[key] = raw
            changed.append(flat)
        if not changes:
            return Response.json({"success": True, "changed": [], "applied_live": [],
                                  "restart_required": False, "restart_required_for": [],
                                  "ignored": ignored, "persisted": False})
        try:
            new = set_values(old, changes)
        except ConfigError as e:
            flat = _FLAT_BY_INI.get((e.section, e.key), e.key)
            raise HTTPError(400, f"{flat}: {e.value!r} is not allowed; allowed: {e.allowed}") \
                from None
        persisted = False
        if self.ctx.config_path:
            try:
                write_config_atomic(new, self.ctx.config_path)
                persisted = True
            except OSError as e:
                raise HTTPError(500, f"cannot write {self.ctx.config_path}: "
                                     f"{e.strerror or e}") from None
        self.ctx.config = new
        live = self._apply_live(new, changed)
        restart = [k for k in changed if k not in live]
        audit(self.ctx, "settings_changed", req, "settings", settings=changed)  # names only
        log.info("settings changed: %s (live: %s; restart needed: %s)", ", ".join(changed),
                 ", ".join(live) or "none", ", ".join(restart) or "none")
        return Response.json({"success": True, "changed": changed, "applied_live": live,
                              "restart_required": bool(restart),
                              "restart_required_for": restart, "ignored": ignored,
                              "persisted": persisted})

    def _apply_live(self, new: Config, changed: list[str]) -> list[str]:
        live: list[str] = []
        if "log_level" in changed:
            logging.getLogger().setLevel(level_from_c(new.general.log_level))
        if self.ctx.auth is not None:
            self.ctx.auth.reconfigure(new.web)
        live += [k for k in changed if k in LIVE_ALWAYS]
        storage_keys = [k for k in changed if k in LIVE_WITH_STORAGE]
        if storage_keys:
            try:
                self.ctx.storage.reconfigure(new.storage)
                live += storage_keys
                self.ctx.storage.request_retention()
            except Exception:
                log.error("storage manager refused the new retention settings", exc_info=True)
        return live


def register(router: Router, ctx: WebContext) -> None:
    api = SettingsApi(ctx)
    props: dict[str, oa.Schema] = {}
    for flat, (section, key) in SETTINGS.items():
        kind = _field_type(section, key)
        props[flat] = {"bool": oa.BOOLEAN, "int": oa.INTEGER, "float": oa.NUMBER}.get(
            kind, oa.STRING)
    router.add("GET", "/api/settings", api.get, Access.READ, "Current settings")
    router.add("GET", "/api/settings/meta", api.meta, Access.READ,
               "Which settings apply without a restart")
    oa.describe("GET", "/api/settings/meta", responses={200: oa.obj({
        "applied_live": oa.array(oa.STRING), "settings": oa.array(oa.STRING)})})
    oa.describe("GET", "/api/settings", responses={200: oa.obj(props)})
    router.add("POST", "/api/settings", api.post, Access.ADMIN,
               "Change settings (validated, written atomically, applied live where possible)")
    oa.describe("POST", "/api/settings", request=oa.obj(props), responses={200: oa.obj({
        "success": oa.BOOLEAN, "changed": oa.array(oa.STRING),
        "applied_live": oa.array(oa.STRING), "restart_required": oa.BOOLEAN,
        "restart_required_for": oa.array(oa.STRING), "persisted": oa.BOOLEAN},
        required=["success", "restart_required"])})
