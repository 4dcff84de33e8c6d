"""Issue #15: LightNVR's per-user rules against the real daemon over HTTP.

`allowed_login_cidrs` (stored normalised, enforced for every way in), `allowed_tags` (a user
sees and controls only streams carrying one of their tags), `password_change_locked`,
`[web] force_mfa_on_login` and trusted devices (`trusted_device_days`).
Forced MFA is on for the whole module: it only changes how TOTP accounts sign in.

One daemon for the module. It trusts 127.0.0.1 as a proxy, so a request's
`X-Forwarded-For` is the client address the daemon judges: that is how these tests come from
addresses other than loopback. Streams point at a closed port: scoping needs streams, not video.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from lightnvr.core.recordings_store import SegmentOpened
from lightnvr.database.detections import DetectionsRepo, NewDetection
from lightnvr.database.manager import Database
from lightnvr.database.recordings import RecordingsRepo
from tests.fixtures.accounts import totp_codes
from tests.fixtures.daemon import DaemonProcess, start_daemon
from tests.fixtures.web import ApiClient, ApiResult

PW = "scoped-user-pw-1"


@pytest.fixture(scope="module")
def nvr(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    d = start_daemon(tmp_path_factory.mktemp("scoping"),
                     {"web": {"trusted_proxy_cidrs": "127.0.0.1/32", "trusted_device_days": 7,
                              "force_mfa_on_login": True,
                              "login_rate_limit_max_attempts": 1000}})
    try:
        admin = _admin(d)
        for name, tags in (("front", "outdoor, yard"), ("garage", "indoor"), ("attic", "")):
            r = admin.post("/api/streams", json={"name": name, "tags": tags, "record": False,
                                                 "url": "rtsp://127.0.0.1:9/none"})
            assert r.status == 201, r.text
        yield d
    finally:
        d.stop()


def _admin(d: DaemonProcess) -> ApiClient:
    return ApiClient("127.0.0.1", d.port, basic=("admin", d.password))


def _from(c: ApiClient, ip: str) -> ApiClient:
    """`c`, its requests seen as coming from `ip` (the daemon trusts loopback as a proxy)."""
    plain = c.request

    def request(method: str, path: str, **kw: object) -> ApiResult:
        headers = dict(kw.pop("headers", None) or {})  # type: ignore[call-overload]
        headers["X-Forwarded-For"] = ip
        return plain(method, path, headers=headers, **kw)  # type: ignore[arg-type]

    c.request = request  # type: ignore[method-assign,assignment]
    return c


def _user(d: DaemonProcess, name: str, **rules: object) -> dict[str, object]:
    r = _admin(d).post("/api/auth/users", json={"username": name, "password": PW, "role": 1,
                                                 **rules})
    assert r.status == 200, r.text
    return dict(r.json)


def test_login_cidrs_are_normalised_and_enforced_for_every_way_in(nvr: DaemonProcess) -> None:
    u = _user(nvr, "carol", allowed_login_cidrs="10.1.2.3, 192.168.7.99/24\n2001:db8::1")
    assert u["allowed_login_cidrs"] == "10.1.2.3/32\n192.168.7.0/24\n2001:db8::1/128"
    got = _admin(nvr).get(f"/api/auth/users/{u['id']}").json
    assert got["allowed_login_cidrs"] == u["allowed_login_cidrs"]  # stored that way
    bad = _admin(nvr).put(f"/api/auth/users/{u['id']}",
                          json={"allowed_login_cidrs": "10.0.0.0/33"})
    assert bad.status == 400 and "allowed_login_cidrs" in bad.json["error"]

    port = nvr.port
    inside, outside = "192.168.7.20", "192.168.8.20"
    assert _from(ApiClient("127.0.0.1", port), inside).login("carol", PW).status == 200
    refused = _from(ApiClient("127.0.0.1", port), outside).login("carol", PW)
    assert refused.status == 401 and refused.json == {"error": "Invalid credentials"}
    assert _from(ApiClient("127.0.0.1", port), "10.1.2.3").login("carol", PW).status == 200
    assert _from(ApiClient("127.0.0.1", port), "10.1.2.4").login("carol", PW).status == 401

    # HTTP Basic and API keys are logins too.
    assert _from(ApiClient("127.0.0.1", port, basic=("carol", PW)), inside) \
        .get("/api/streams").status == 200
    assert _from(ApiClient("127.0.0.1", port, basic=("carol", PW)), outside) \
        .get("/api/streams").status == 401
    key = _admin(nvr).post(f"/api/auth/users/{u['id']}/api-key", json={}).json["api_key"]
    assert _from(ApiClient("127.0.0.1", port, api_key=key), inside) \
        .get("/api/streams").status == 200
    assert _from(ApiClient("127.0.0.1", port, api_key=key), outside) \
        .get("/api/streams").status == 401

    # Lifting the rule (null) lets the user in from anywhere again.
    r = _admin(nvr).put(f"/api/auth/users/{u['id']}", json={"allowed_login_cidrs": None})
    assert r.json["allowed_login_cidrs"] is None
    assert _from(ApiClient("127.0.0.1", port), outside).login("carol", PW).status == 200


def test_allowed_tags_scope_every_stream_route(nvr: DaemonProcess) -> None:
    u = _user(nvr, "dave", allowed_tags=" yard ,garden")
    assert u["allowed_tags"] == "yard,garden"
    dave = ApiClient("127.0.0.1", nvr.port, basic=("dave", PW))
    assert [s["name"] for s in dave.get("/api/streams").json] == ["front"]
    assert dave.get("/api/streams/front").status == 200
    for path in ("/api/streams/garage", "/api/streams/attic", "/api/streams/garage/full",
                 "/api/streams/garage/recording", "/api/streams/garage/snapshot",
                 "/hls/garage/index.m3u8", "/api/detection/results/garage",
                 "/api/timeline/segments?stream=garage",
                 "/api/snapshots/garage/20260101_120000_000.jpg"):
        r = dave.get(path)
        assert r.status == 403 and r.json == {"error": "Stream access denied"}, (path, r.text)
    r = dave.put("/api/streams/garage", json={"enabled": False})
    assert r.status == 403
    assert dave.delete("/api/streams/garage").status == 403
    assert _admin(nvr).get("/api/streams/garage").json["enabled"] is True
    assert dave.get("/api/recordings?stream=garage").json["recordings"] == []
    metrics = dave.get("/api/metrics").text
    assert 'stream="front"' in metrics and 'stream="garage"' not in metrics
    detail = dave.get("/api/health").json["streams_detail"]
    assert [s["name"] for s in detail] == ["front"]

    # The admin (no tags) sees everything; an unrestricted user too.
    assert len(_admin(nvr).get("/api/streams").json) == 3
    r = _admin(nvr).put(f"/api/auth/users/{u['id']}", json={"allowed_tags": None})
    assert r.json["allowed_tags"] is None
    assert len(dave.get("/api/streams").json) == 3
    # Only an admin sets the rules, even on their own account.
    assert dave.put(f"/api/auth/users/{u['id']}", json={"allowed_tags": "indoor"}).status == 403


def test_password_lock_blocks_every_password_change_until_unlocked(nvr: DaemonProcess) -> None:
    u = _user(nvr, "erin")
    admin = _admin(nvr)
    erin = ApiClient("127.0.0.1", nvr.port, basic=("erin", PW))
    assert erin.put(f"/api/auth/users/{u['id']}/password-lock",
                    json={"locked": True}).status == 403  # admins only
    r = admin.put(f"/api/auth/users/{u['id']}/password-lock", json={"locked": True})
    assert r.status == 200 and r.json["password_change_locked"] is True
    assert r.json["username"] == "erin"
    assert admin.put(f"/api/auth/users/{u['id']}/password-lock",
                     json={"locked": "yes"}).status == 400
    assert admin.put("/api/auth/users/99999/password-lock", json={"locked": True}).status == 404

    own = erin.put(f"/api/auth/users/{u['id']}/password",
                   json={"old_password": PW, "new_password": "another-pw-123"})
    assert own.status == 403 and own.json["error"] == "Password changes are locked for this user"
    by_admin = admin.put(f"/api/auth/users/{u['id']}", json={"password": "another-pw-123"})
    assert by_admin.status == 403
    assert ApiClient("127.0.0.1", nvr.port).login("erin", PW).status == 200  # unchanged

    assert admin.put(f"/api/auth/users/{u['id']}/password-lock",
                     json={"locked": False}).json["password_change_locked"] is False
    ok = erin.put(f"/api/auth/users/{u['id']}/password",
                  json={"old_password": PW, "new_password": "another-pw-123"})
    assert ok.status == 200, ok.text


def _device_cookie(r: ApiResult) -> str | None:
    for name, value in r.header_list:
        if name == "set-cookie" and value.startswith("trusted_device="):
            return value.split(";", 1)[0].split("=", 1)[1] or None
    return None


def test_forced_mfa_and_trusted_devices(nvr: DaemonProcess) -> None:
    u = _user(nvr, "frank")
    frank = ApiClient("127.0.0.1", nvr.port)
    assert frank.login("frank", PW).status == 200
    secret = frank.post(f"/api/auth/users/{u['id']}/totp/setup", json={}).json["secret"]
    codes = iter(totp_codes(secret))
    assert frank.post(f"/api/auth/users/{u['id']}/totp/verify",
                      json={"code": next(codes)}).status == 200

    admin = _admin(nvr)
    cfg = ApiClient("127.0.0.1", nvr.port).get("/api/auth/login/config").json
    assert cfg["remember_device_enabled"] is True and cfg["trusted_device_days"] == 7
    assert cfg["force_mfa_on_login"] is True
    c = ApiClient("127.0.0.1", nvr.port)
    # Forced: the code must come with the password; no second step is offered.
    r = c.post("/api/auth/login", json={"username": "frank", "password": PW})
    assert r.status == 401 and "totp_token" not in r.json
    r = c.post("/api/auth/login", json={"username": "frank", "password": PW,
                                        "totp_code": next(codes), "remember_device": True})
    assert r.status == 200, r.text
    device = _device_cookie(r)
    assert device, r.header_list
    # The trusted browser skips the code from now on.
    me = ApiClient("127.0.0.1", nvr.port)
    r = me.request("POST", "/api/auth/login", json={"username": "frank", "password": PW},
                   headers={"Cookie": f"trusted_device={device}"})
    assert r.status == 200 and r.json["success"] is True, r.text
    me.cookie = r.headers["set-cookie"].split(";", 1)[0].split("=", 1)[1]
    assert c.request("POST", "/api/auth/login", json={"username": "frank", "password": PW},
                     headers={"Cookie": "trusted_device=forged"}).status == 401
    # The wrong password is still wrong on a trusted device.
    assert c.request("POST", "/api/auth/login",
                     json={"username": "frank", "password": "wrong-password"},
                     headers={"Cookie": f"trusted_device={device}"}).status == 401

    listed = me.request("GET", "/api/auth/trusted-devices",
                        headers={"Cookie": f"session={me.cookie}; trusted_device={device}"})
    items = listed.json["trusted_devices"]
    assert len(items) == 1 and items[0]["current"] is True and items[0]["expires_at"] > 0
    assert admin.get("/api/auth/trusted-devices").json["trusted_devices"] == []  # per user
    assert admin.delete(f"/api/auth/trusted-devices/{items[0]['id']}").status == 404
    gone = me.request("DELETE", f"/api/auth/trusted-devices/{items[0]['id']}",
                      headers={"Cookie": f"session={me.cookie}; trusted_device={device}",
                               "X-Requested-With": "test"})
    assert gone.status == 200 and gone.json == {"success": True}
    assert "trusted_device=;" in gone.headers.get("set-cookie", "")
    after = ApiClient("127.0.0.1", nvr.port).request(
        "POST", "/api/auth/login", json={"username": "frank", "password": PW},
        headers={"Cookie": f"trusted_device={device}"})
    assert after.status == 401  # forgotten: forced MFA wants the code again


def _seed_footage(d: DaemonProcess) -> dict[str, int]:
    """A finished recording and a detection for streams front and garage, written into the
    daemon's own SQLite file (WAL: the running daemon sees them); recording id per stream."""
    db = Database(str(d.base / "db" / "lightnvr.db"))
    db.open()
    try:
        recs, now = RecordingsRepo(db), time.time()
        ids = {}
        for name, label in (("front", "person"), ("garage", "cat")):
            rid = recs.segment_opened(SegmentOpened(
                stream_name=name, file_path=f"{name}/seg.mp4", start_time=now - 120, width=320,
                height=240, fps=10, codec="h264", trigger_type="scheduled"))
            recs.segment_closed(rid, now - 60, 1000)
            DetectionsRepo(db).add_many([NewDetection(name, now - 90, label, recording_id=rid)])
            ids[name] = rid
        return ids
    finally:
        db.close()


def test_allowed_tags_scope_recording_tags_and_detection_labels(nvr: DaemonProcess) -> None:
    ids = _seed_footage(nvr)
    admin = _admin(nvr)
    for name, tag in (("front", "yard-visit"), ("garage", "garage-secret")):
        assert admin.put(f"/api/recordings/{ids[name]}/tags",
                         json={"tags": [tag]}).status == 200
    _user(nvr, "gina", allowed_tags="yard")
    gina = ApiClient("127.0.0.1", nvr.port, basic=("gina", PW))

    # Lists: only what the streams of her tags carry (the admin, unrestricted, sees both).
    assert {"yard-visit", "garage-secret"} <= set(admin.get("/api/recordings/tags").json["tags"])
    assert gina.get("/api/recordings/tags").json["tags"] == ["yard-visit"]
    assert {"person", "cat"} <= set(admin.get("/api/recordings/detection-labels").json["labels"])
    labels = gina.get("/api/recordings/detection-labels").json
    assert labels == {"labels": ["person"], "count": 1}
    _user(nvr, "hal", allowed_tags="nowhere")  # tags that reach no stream: nothing at all
    hal = ApiClient("127.0.0.1", nvr.port, basic=("hal", PW))
    assert hal.get("/api/recordings/tags").json == {"tags": []}
    assert hal.get("/api/recordings/detection-labels").json == {"labels": [], "count": 0}

    # One recording of a stream out of her tags: neither read nor tagged.
    garage, front = ids["garage"], ids["front"]
    denied = {"error": "Stream access denied"}
    for r in (gina.get(f"/api/recordings/{garage}/tags"),
              gina.put(f"/api/recordings/{garage}/tags", json={"tags": ["mine"]}),
              gina.post("/api/recordings/batch-tags", json={"ids": [front, garage],
                                                             "add": ["mine"]})):
        assert r.status == 403 and r.json == denied, r.text
    assert admin.get(f"/api/recordings/{garage}/tags").json["tags"] == ["garage-secret"]
    assert admin.get(f"/api/recordings/{front}/tags").json["tags"] == ["yard-visit"]
    # Her own stream's recording she tags as before.
    r = gina.post("/api/recordings/batch-tags", json={"ids": [front], "add": ["mine"]})
    assert r.status == 200 and r.json["tags_added"] == 1
    assert gina.get(f"/api/recordings/{front}/tags").json["tags"] == ["mine", "yard-visit"]
