"""Authentication: password hashing, users' first start, sessions, API keys, HTTP Basic, TOTP.

Every way in ends in a `Principal` (lightnvr/web/http.py); the WSGI app enforces the route's
access rule against it. Secrets are stored only as hashes: passwords with scrypt and a per-user
salt, API keys and session tokens as SHA-256 digests. HTTP Basic would cost a full scrypt per
request, so a verified (username, password) pair is remembered for `BASIC_CACHE_SECONDS`,
keyed by a SHA-256 of both, and forgotten at once when that user's password changes.

An account with TOTP enabled never gets in by its password alone: Basic is refused for it
(scripts use API keys). A TOTP code is accepted once: the last accepted time-step of each
user is kept in memory (the users table has no column for it), so a code seen on the wire
cannot be replayed within its window; a restart forgets the steps, which costs at most one
replay of a code captured in the 90 s before it. Password hashing (scrypt, 16 MiB each)
runs at most `HASH_CONCURRENCY` at a time: callers beyond wait `HASH_WAIT_SECONDS`, then get
503 with Retry-After, so a flood of logins cannot pile up threads and memory.

LightNVR's per-user rules apply to every way in (login form, JSON login, its TOTP step,
Basic, API key): an account with `allowed_login_cidrs` is refused from any other address,
exactly like a wrong password. `[web] force_mfa_on_login` makes a TOTP account send its code
with the password (one step, as LightNVR does); a browser it trusted earlier (the
`trusted_device` cookie, `trusted_device_days`) skips the code.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pyotp

from lightnvr.core.config import WebConfig
from lightnvr.database.lightnvr_import_formats import is_lightnvr_hash, verify_lightnvr_password
from lightnvr.database.sessions import SessionsRepo
from lightnvr.database.trusted_devices import TrustedDevicesRepo
from lightnvr.database.users import User, UsersRepo, ip_allowed
from lightnvr.web.client import client_address, from_trusted_proxy
from lightnvr.web.http import HTTPError, Principal, Request, Role
from lightnvr.web.login_limiter import LoginRateLimiter

log = logging.getLogger(__name__)

SESSION_COOKIE = "session"
DEVICE_COOKIE = "trusted_device"  # LightNVR's name: a browser trusted to skip TOTP
BASIC_CACHE_SECONDS = 60.0
BASIC_CACHE_MAX = 512
TOTP_PENDING_SECONDS = 300.0
SESSION_TOUCH_SECONDS = 60  # refresh idle expiry at most this often (saves a write per request)
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
HASH_CONCURRENCY = 2  # scrypt runs at once: 2 x 16 MiB even on a 256 MB board
HASH_WAIT_SECONDS = 2.0  # then 503: long enough for a queue of ordinary logins to drain
TOTP_BASIC_REFUSED = ("this account uses two-factor sign-in: sign in through the login "
                      "page (POST /api/auth/login) or use an API key")
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 1 << 14, 8, 1
_ROLE_NAMES = {Role.ADMIN: "admin", Role.USER: "user", Role.VIEWER: "viewer", Role.API: "api"}


def role_name(role: int) -> str:
    """LightNVR's name for a role number ("admin", "user", "viewer", "api")."""
    try:
        return _ROLE_NAMES[Role(role)]
    except ValueError:
        return "unknown"


def hash_password(password: str, salt: str | None = None) -> tuple[str, str]:
    """(encoded hash, salt hex) for `password`; the encoding records the scrypt parameters."""
    salt = salt or secrets.token_hex(16)
    dk = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=_SCRYPT_N,
                        r=_SCRYPT_R, p=_SCRYPT_P, maxmem=64 * 1024 * 1024, dklen=32)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${dk.hex()}", salt


def verify_password(password: str, encoded: str, salt: str) -> bool:
    """Constant-time check of `password` against an encoded hash from `hash_password` (or
    one imported from LightNVR, which `Auth.check_password` then upgrades)."""
    if is_lightnvr_hash(encoded):
        return verify_lightnvr_password(password, encoded, salt)
    try:
        scheme, n, r, p, want = encoded.split("$")
        if scheme != "scrypt":
            return False
        dk = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n),
                            r=int(r), p=int(p), maxmem=64 * 1024 * 1024, dklen=len(want) // 2)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(dk.hex(), want)


def api_key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def check_password_policy(password: object) -> str | None:
    """None when acceptable, else the reason (for a 400)."""
    if not isinstance(password, str):
        return "password must be a string"
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"password must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"password must be at most {MAX_PASSWORD_LENGTH} characters"
    return None


@dataclass(frozen=True, slots=True)
class LoginResult:
    """Outcome of a login step. `status`: ok | totp_required | invalid | rate_limited."""

    status: str
    user: User | None = None
    token: str | None = None  # session token (status ok)
    totp_token: str | None = None  # pending second step (status totp_required)
    device_token: str | None = None  # a newly trusted device's cookie value (status ok)


class Auth:
    """Users, sessions and credentials; one instance per daemon, safe from any thread."""

    web: WebConfig
    users: UsersRepo
    sessions: SessionsRepo
    limiter: LoginRateLimiter
    devices: TrustedDevicesRepo

    def __init__(self, web: WebConfig, users: UsersRepo, sessions: SessionsRepo,
                 data_dir: str, wall: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic,
                 devices: TrustedDevicesRepo | None = None) -> None:
        self.web = web
        self.users = users
        self.sessions = sessions
        self.devices = devices or TrustedDevicesRepo(users.database)
        self.data_dir = data_dir
        self._wall = wall
        self._mono = monotonic
        self.limiter = LoginRateLimiter(web.login_rate_limit_enabled,
                                        web.login_rate_limit_max_attempts,
                                        web.login_rate_limit_window_seconds, monotonic)
        self._lock = threading.Lock()
        self._basic: dict[str, tuple[int, float]] = {}  # sha256(user\0pw) -> (user_id, until)
        self._pending_totp: dict[str, tuple[int, float]] = {}  # token -> (user_id, until)
        self._totp_last_step: dict[int, int] = {}  # user_id -> last accepted TOTP time-step
        self._hashing = threading.BoundedSemaphore(HASH_CONCURRENCY)

    # ---- configuration that may change live -------------------------------------------
    def reconfigure(self, web: WebConfig) -> None:
        """Apply new [web] auth settings (timeouts, rate limits) without a restart."""
        self.web = web
        self.limiter.enabled = web.login_rate_limit_enabled
        self.limiter.max_attempts = web.login_rate_limit_max_attempts
        self.limiter.window = web.login_rate_limit_window_seconds

    # ---- first start ------------------------------------------------------------------
    def ensure_admin(self) -> str | None:
        """Create the first admin when there are no users; returns the username created.

        The password is `[web] password` when set, otherwise random; either way it is written
        to `<data_dir>/initial_admin_password` (mode 0600, created afresh with O_EXCL and
        O_NOFOLLOW) and the account is flagged `password_change_required`. Only the file's
        location is logged, never the password (the log ring is readable by every role).
        A random password that cannot be written anywhere would lock everyone out, so then
        no user is created (the next start tries again). With users present, a leftover file
        whose admin has changed the password since is deleted.
        """
        path = os.path.join(self.data_dir, INITIAL_PASSWORD_FILE)
        if self.users.count() > 0:
            admin = self.users.get_by_username(self.web.username or "admin")
            if admin is None or not admin.password_change_required:
                forget_initial_password(self.data_dir)
            return None
        username = self.web.username or "admin"
        password = self.web.password or secrets.token_urlsafe(12)
        try:
            write_initial_password(path, password)
        except OSError as e:
            if not self.web.password:
                log.error("cannot write %s (%s): no admin created; fix the directory or set "
                          "[web] password, then restart", path, e.strerror or e)
                return None
            log.error("cannot write %s: %s", path, e.strerror or e)
        encoded, salt = hash_password(password)
        self.users.create(username, encoded, salt, int(Role.ADMIN),
                          password_change_required=True)
        source = "[web] password" if self.web.password else "a random password"
        log.warning("created user '%s' with %s; it is in %s (readable by this service's user "
                    "only) until you change it in the web UI", username, source, path)
        return username

    def forget_initial_password(self, user_id: int) -> None:
        """Delete the initial password file once the first admin (`user_id`) has a new one."""
        user = self.users.get(user_id)
        if user is not None and user.username == (self.web.username or "admin"):
            forget_initial_password(self.data_dir)

    # ---- passwords ----------------------------------------------------------------------
    def set_password(self, user_id: int, password: str, change_required: bool = False,
                     keep_session: int | None = None) -> bool:
        """Store a new password; forgets cached Basic credentials and other sessions."""
        with self.hashing_slot():
            encoded, salt = hash_password(password)
        ok = self.users.set_password(user_id, encoded, salt, change_required)
        self.forget_user(user_id)
        if ok:
            self.sessions.delete_for_user(user_id, except_id=keep_session)
            self.forget_initial_password(user_id)
        return ok

    def forget_user(self, user_id: int) -> None:
        """Drop every cached Basic credential of `user_id` (password change, delete, disable)."""
        with self._lock:
            for k in [k for k, (uid, _) in self._basic.items() if uid == user_id]:
                del self._basic[k]

    def check_password(self, user: User, password: str) -> bool:
        """`password` is the user's (waits for a hashing slot; 503 when none frees up)."""
        with self.hashing_slot():
            ok = verify_password(password, user.password_hash, user.salt)
            if ok and is_lightnvr_hash(user.password_hash):
                # An imported LightNVR hash (docs/migrate.md) becomes ours at its first use.
                encoded, salt = hash_password(password)
                self.users.set_password(user.id, encoded, salt, user.password_change_required)
                log.info("user %s: password hash imported from LightNVR upgraded to scrypt",
                         user.username)
        return ok

    def dummy_hash(self, password: str) -> None:
        """Spend what checking a real password costs (unknown users fail as slowly)."""
        with self.hashing_slot():
            hash_password(password or "x")

    @contextlib.contextmanager
    def hashing_slot(self) -> Iterator[None]:
        """Hold one of the `HASH_CONCURRENCY` password-hashing slots for the block.

        Raises HTTPError 503 (Retry-After: 1) when no slot frees up within
        `HASH_WAIT_SECONDS`: refusing is cheaper than queueing threads that each hold 16 MiB.
        """
        if not self._hashing.acquire(timeout=HASH_WAIT_SECONDS):
            raise HTTPError(503, "the server is busy checking passwords; retry in a moment",
                            {"Retry-After": "1"})
        try:
            yield
        finally:
            self._hashing.release()

    # ---- login --------------------------------------------------------------------------
    def login(self, username: str, password: str, ip: str = "", user_agent: str = "",
              totp_code: str | None = None, device_token: str | None = None,
              remember_device: bool = False) -> LoginResult:
        """Verify a password login (and inline TOTP code if given); on success a session.

        `device_token` is the caller's trusted-device cookie; with `remember_device` a login
        that passed a TOTP code returns a new one (when `trusted_device_days` > 0).
        """
        if self.limiter.blocked(username, ip):
            return LoginResult("rate_limited")
        user = self.users.get_by_username(username)
        if user is None:
            self.dummy_hash(password)  # same cost either way: no username probing
        if user is None or not self.check_password(user, password) or not user.is_active:
            self.limiter.failure(username, ip, known=user is not None, via="password")
            return LoginResult("invalid")
        if not self.address_allowed(user, ip):
            self.limiter.failure(username, ip, via="address")
            return LoginResult("invalid")
        if user.totp_enabled and user.totp_secret:
            trusted = not totp_code and self.device_trusted(user.id, device_token)
            if totp_code:
                if not self.accept_totp(user, totp_code):
                    self.limiter.failure(username, ip, via="totp")
                    return LoginResult("invalid")
                return self._start_session(user, ip, user_agent, remember_device)
            if trusted:
                pass
            elif self.web.force_mfa_on_login:
                # The code belongs in this request; saying "password right, code missing"
                # would tell a guesser the password, so it is a plain failure.
                self.limiter.failure(username, ip, via="totp")
                return LoginResult("invalid")
            else:
                token = secrets.token_urlsafe(32)
                with self._lock:
                    self._prune_pending()
                    self._pending_totp[token] = (user.id, self._mono() + TOTP_PENDING_SECONDS)
                return LoginResult("totp_required", user, totp_token=token)
        return self._start_session(user, ip, user_agent)

    def login_totp(self, totp_token: str, code: str, ip: str = "",
                   user_agent: str = "", remember_device: bool = False) -> LoginResult:
        """Second login step: the pending token from `login` plus a current TOTP code."""
        with self._lock:
            self._prune_pending()
            pending = self._pending_totp.get(totp_token)
        if pending is None:
            return LoginResult("invalid")
        user = self.users.get(pending[0])
        if user is None or not user.is_active or not user.totp_secret:
            return LoginResult("invalid")
        if self.limiter.blocked(user.username, ip):
            return LoginResult("rate_limited")
        if not self.address_allowed(user, ip):
            self.limiter.failure(user.username, ip, via="address")
            return LoginResult("invalid")
        if not self.accept_totp(user, code):
            self.limiter.failure(user.username, ip, via="totp")
            return LoginResult("invalid")
        with self._lock:
            self._pending_totp.pop(totp_token, None)
        return self._start_session(user, ip, user_agent, remember_device)

    def _prune_pending(self) -> None:
        now = self._mono()
        for k in [k for k, (_, until) in self._pending_totp.items() if until <= now]:
            del self._pending_totp[k]

    def _start_session(self, user: User, ip: str, user_agent: str,
                       remember_device: bool = False) -> LoginResult:
        """A session for `user`; with `remember_device` (after a TOTP code) a device token."""
        self.limiter.success(user.username, ip)
        now = int(self._wall())
        self.sessions.purge_expired(now)  # logins are rare; keeps the table from growing
        token = secrets.token_urlsafe(32)
        self.sessions.create(user.id, token, now, now + self.web.auth_absolute_timeout_hours * 3600,
                             now + self.web.auth_timeout_hours * 3600, ip, user_agent)
        self.users.record_login(user.id, now)
        device = None
        if remember_device and self.web.trusted_device_days > 0:
            device = secrets.token_urlsafe(32)
            self.devices.create(user.id, device, now,
                                now + self.web.trusted_device_days * 86400, ip, user_agent)
        return LoginResult("ok", user, token=token, device_token=device)

    # ---- LightNVR's per-user rules ---------------------------------------------------------
    @staticmethod
    def address_allowed(user: User, ip: str) -> bool:
        """`user` may sign in from `ip` (their allowed_login_cidrs; None: from anywhere)."""
        allowed = ip_allowed(user.allowed_login_cidrs, ip)
        if not allowed:
            log.warning("sign-in of '%s' from %s refused by its allowed_login_cidrs",
                        user.username, ip or "(unknown address)")
        return allowed

    def device_trusted(self, user_id: int, token: str | None) -> bool:
        """`token` is an unexpired trusted device of `user_id` (then its use is stamped)."""
        if not token or len(token) > 256 or self.web.trusted_device_days <= 0:
            return False
        now = int(self._wall())
        device = self.devices.find(user_id, token, now)
        if device is None:
            return False
        self.devices.touch(device.id, now)
        return True

    @staticmethod
    def verify_totp(secret: str, code: object) -> bool:
        """RFC 6238 check with one step of clock skew either way."""
        if not isinstance(code, str) or not code.isdigit() or len(code) != 6:
            return False
        try:
            return bool(pyotp.TOTP(secret).verify(code, valid_window=1))
        except (ValueError, binascii.Error):
            return False

    def accept_totp(self, user: User, code: object) -> bool:
        """`code` is current for `user` (one step of skew either way) and not used before.

        Each time-step is accepted once per user: the step of an accepted code, and every
        earlier one, is refused from then on, so a code read off the wire or a shoulder
        cannot be replayed within its window.
        """
        secret = user.totp_secret
        if not secret or not isinstance(code, str) or not code.isdigit() or len(code) != 6:
            return False
        try:
            totp = pyotp.TOTP(secret)
            now_step = int(self._wall()) // totp.interval
            matched = [step for step in (now_step - 1, now_step, now_step + 1)
                       if hmac.compare_digest(totp.at(step * totp.interval), code)]
        except (ValueError, binascii.Error):
            return False
        with self._lock:
            fresh = [step for step in matched if step > self._totp_last_step.get(user.id, -1)]
            if not fresh:
                return False
            self._totp_last_step[user.id] = max(fresh)
        return True

    # ---- API keys -------------------------------------------------------------------------
    def new_api_key(self, user_id: int) -> str | None:
        """Generate and store a new API key (the old one stops working); None: no such user."""
        key = secrets.token_hex(24)
        return key if self.users.set_api_key_hash(user_id, api_key_digest(key)) else None

    # ---- per-request ----------------------------------------------------------------------
    def authenticate(self, req: Request) -> Principal | None:
        """The caller behind `req`, or None when no valid credentials were presented.

        The Principal carries the account's `password_change_required`; a refusal that the
        caller should understand (Basic for a TOTP account) is left in `req.auth_error`.
        """
        if not self.web.auth_enabled:
            return Principal(0, "admin", Role.ADMIN, "anonymous")
        p = self._credentials(req)
        if p is None:
            return None
        user = self.users.get(p.user_id)
        if user is None or not user.is_active:
            return None
        if p.via == "basic" and user.totp_enabled:
            req.auth_error = TOTP_BASIC_REFUSED
            return None
        if p.via in ("basic", "api_key") and not self.address_allowed(
                user, client_address(req, self.web.trusted_proxy_cidrs)):
            return None  # sessions were checked when they were made, at login
        return dataclasses.replace(p, must_change_password=user.password_change_required)

    def _credentials(self, req: Request) -> Principal | None:
        h = req.headers
        key = h.get("x-api-key")
        authz = h.get("authorization", "")
        if not key and authz[:7].lower() == "bearer ":
            key = authz[7:].strip()
        if key:
            return self._by_api_key(key)
        if authz[:6].lower() == "basic ":
            return self._by_basic(authz[6:].strip(),
                                  client_address(req, self.web.trusted_proxy_cidrs))
        token = session_token(req)
        if token:
            return self._by_session(token)
        return None

    def _by_api_key(self, key: str) -> Principal | None:
        if len(key) > 256:
            return None
        user = self.users.get_by_api_key_hash(api_key_digest(key))
        if user is None or not user.is_active:
            return None
        return Principal(user.id, user.username, Role(user.role), "api_key")

    def _by_basic(self, encoded: str, address: str = "") -> Principal | None:
        try:
            raw = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        username, sep, password = raw.partition(":")
        if not sep:
            return None
        # Locked before the cache: a cached hit must not tell a locked-out guesser "right".
        if self.limiter.blocked(username, address):
            return None
        ck = hashlib.sha256(f"{username}\0{password}".encode()).hexdigest()
        now = self._mono()
        with self._lock:
            hit = self._basic.get(ck)
        if hit is not None and hit[1] > now:
            user = self.users.get(hit[0])
            if user is not None and user.is_active and user.username == username:
                return Principal(user.id, user.username, Role(user.role), "basic")
        user = self.users.get_by_username(username)
        if user is None:
            self.dummy_hash(password)  # same cost either way: no username probing
        if user is None or not self.check_password(user, password) or not user.is_active:
            self.limiter.failure(username, address, known=user is not None, via="basic")
            return None
        with self._lock:
            if len(self._basic) >= BASIC_CACHE_MAX:
                self._basic.clear()
            self._basic[ck] = (user.id, now + BASIC_CACHE_SECONDS)
        return Principal(user.id, user.username, Role(user.role), "basic")

    def _by_session(self, token: str) -> Principal | None:
        if len(token) > 256:
            return None
        s = self.sessions.get_by_token(token)
        if s is None:
            return None
        now = int(self._wall())
        if s.expires_at <= now or s.idle_expires_at <= now:
            self.sessions.delete(s.id)
            return None
        user = self.users.get(s.user_id)
        if user is None or not user.is_active:
            return None
        if now - s.last_activity_at >= SESSION_TOUCH_SECONDS:
            self.sessions.touch(s.id, now, min(s.expires_at,
                                               now + self.web.auth_timeout_hours * 3600))
        return Principal(user.id, user.username, Role(user.role), "session", s.id)

    def logout(self, req: Request) -> None:
        token = session_token(req)
        if token:
            self.sessions.delete_by_token(token)

    def _cookie(self, req: Request, name: str, value: str, age: int, same_site: str) -> str:
        """One Set-Cookie value: HttpOnly, whole site, Secure when served over TLS or a
        trusted TLS proxy; an empty `value` with age 0 ends the cookie."""
        secure = "; Secure" if is_https(req, self.web.trusted_proxy_cidrs) else ""
        return f"{name}={value}; Path=/; Max-Age={age}; HttpOnly; SameSite={same_site}{secure}"

    def session_cookie(self, req: Request, token: str) -> str:
        """Set-Cookie value for a new session (lives as long as its absolute timeout)."""
        return self._cookie(req, SESSION_COOKIE, token,
                            self.web.auth_absolute_timeout_hours * 3600, "Strict")

    def clear_cookie(self, req: Request) -> str:
        """Set-Cookie value that ends the session cookie."""
        return self._cookie(req, SESSION_COOKIE, "", 0, "Strict")

    def device_cookie(self, req: Request, token: str) -> str:
        """Set-Cookie value for a trusted device (LightNVR's name, lifetime and SameSite)."""
        return self._cookie(req, DEVICE_COOKIE, token, self.web.trusted_device_days * 86400,
                            "Lax")

    def clear_device_cookie(self, req: Request) -> str:
        """Set-Cookie value that ends the trusted-device cookie."""
        return self._cookie(req, DEVICE_COOKIE, "", 0, "Lax")


def is_https(req: Request, trusted_proxy_cidrs: str) -> bool:
    """The client reached us over TLS: our own TLS, or X-Forwarded-Proto "https" from a peer
    inside `[web] trusted_proxy_cidrs` (anyone else could send the header, and a Secure cookie
    over plain HTTP is a cookie the browser never sends back)."""
    if req.environ.get("wsgi.url_scheme") == "https":
        return True
    proto = req.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return proto == "https" and from_trusted_proxy(req, trusted_proxy_cidrs)


def session_token(req: Request) -> str | None:
    """The `session` cookie's value, if any (tolerant of malformed Cookie headers)."""
    return cookie_value(req, SESSION_COOKIE)


def cookie_value(req: Request, cookie: str) -> str | None:
    """Cookie `cookie`'s value, if any (tolerant of malformed Cookie headers)."""
    for part in req.headers.get("cookie", "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name == cookie and value:
            return value.strip().strip('"')
    return None


INITIAL_PASSWORD_FILE = "initial_admin_password"


def write_initial_password(path: str, password: str) -> None:
    """Write `password` to a new file at `path`, mode 0600; raises OSError.

    A stale file (an earlier run) is unlinked first; unlink removes a symlink itself, never
    its target, and O_EXCL|O_NOFOLLOW then refuses anything planted at `path` meanwhile.
    """
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, mode=0o700, exist_ok=True)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        os.fchmod(fh.fileno(), 0o600)  # the umask may only narrow 0600; this makes it exact
        fh.write(password + "\n")


def forget_initial_password(data_dir: str) -> bool:
    """Delete `<data_dir>/initial_admin_password`; True if there was one."""
    path = os.path.join(data_dir, INITIAL_PASSWORD_FILE)
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    except OSError as e:
        log.error("cannot delete %s: %s; delete it by hand", path, e.strerror or e)
        return False
    log.info("deleted %s: the initial admin password has been changed", path)
    return True
