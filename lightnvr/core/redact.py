"""The one place that takes secrets out of URLs and free text before anyone sees or logs them.

Callers never format a raw camera URL into a message or an API answer: they pass it through
`redact_url()` (logs, error texts, admins' views) or `redact_url(url, keep_user=False)`
(what viewers see). `redact_text()` is the safety net for text that may *contain* URLs or
`password=...`-style pairs without the caller knowing (FFmpeg's error strings, tracebacks);
the logging handlers run every record through it (`core/logger.py`).

What counts as a secret: the password part of URL userinfo, and the value of any query or text
pair whose name ends in one of `SECRET_WORDS` (`password`, `pwd`, `token`, `key`, `auth`, ...:
Reolink's `?user=admin&password=x`, Foscam's `pwd=`, `api_key=`, `access_token=`). Redaction
replaces the value with `MASK` and keeps the rest of the text as it was, so a log line still
says which camera and which parameter was involved.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

MASK = "***"
# A pair whose name ends in one of these carries a secret ("mqtt_password", "api_key", "pwd").
SECRET_WORDS = ("password", "passwd", "pass", "pwd", "psw", "token", "secret", "apikey",
                "key", "auth", "authorization", "credential", "credentials", "signature",
                "sig", "session", "sessionid", "otp", "totp")
# Names that identify the account: harmless in logs, but viewers get no half of a credential.
USER_WORDS = ("user", "username", "usr", "login", "account", "uid")

_URL = re.compile(r"(?i)\b[a-z][a-z0-9+.-]{1,15}://[^\s'\"<>`]+")
# name=value (query strings, "password=x" in messages): any name, kept or masked by
# `_is_secret_name` ("mqtt_password", "x-api-key" end in a secret word). A name starts only
# where a run of name characters starts and is matched greedily: linear time on any line.
_PAIR_EQ = re.compile(r"(?i)(?<![a-z0-9_.-])([a-z0-9_.-]+)(\s*=\s*)([^\s&;,'\"<>)\]}]+)")
# "password": "x" / 'token': 'x' (JSON, Python reprs).
_PAIR_QUOTED = re.compile(r"(?i)([\"'])([a-z0-9_.-]+)\1(\s*:\s*)([\"'])(?:\\.|(?!\4).)*\4")
# password: x (config-style text); only the unambiguous names ("key: not found" stays).
_PAIR_COLON = re.compile(r"(?i)(?<![a-z0-9_.-])([a-z0-9_.-]+)(\s*:\s+)([^\s,;'\"<>]+)")
_COLON_WORDS = ("password", "passwd", "pwd", "secret", "token", "apikey", "api_key", "api-key")
_BEARER = re.compile(r"(?i)\b(bearer|basic)(\s+)([a-z0-9._~+/=-]{8,})")


def _is_secret_name(name: str) -> bool:
    low = unquote(name).strip().lower()
    return any(low.endswith(w) for w in SECRET_WORDS)


def _is_user_name(name: str) -> bool:
    low = unquote(name).strip().lower()
    return any(low == w or low.endswith("_" + w) for w in USER_WORDS)


def _redact_pairs(text: str, hide_users: bool) -> str:
    """`text` split on & and ; with the values of secret-named pairs masked, else verbatim."""
    out: list[str] = []
    for part in re.split(r"([&;])", text):
        name, sep, _ = part.partition("=")
        if sep and (_is_secret_name(name) or (hide_users and _is_user_name(name))):
            out.append(f"{name}={MASK}")
        else:
            out.append(part)
    return "".join(out)


def redact_url(url: str, keep_user: bool = True) -> str:
    """`url` with every credential masked: userinfo password, secret query pairs.

    `keep_user` True (logs, admins' error texts): `rtsp://admin:***@cam/s?user=admin&password=***`.
    False (viewers): no userinfo at all and user-naming pairs masked too:
    `rtsp://cam/s?user=***&password=***`. Text that does not parse as a URL is run through
    `redact_text` instead, never returned raw.
    """
    scheme, sep, rest = url.partition("://")
    userinfo = ""
    if sep:
        # The authority ends at the first "/" (not "?" or "#": those may be inside a
        # password, and must not let the password fall into what we keep).
        end = len(rest) if "/" not in rest else rest.index("/")
        at = rest.rfind("@", 0, end)  # the last "@": a password may contain "@" itself
        if at >= 0:
            userinfo, rest = rest[:at], rest[at + 1:]
            url = f"{scheme}://{rest}"
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced "[" in the host: mask what we can
        return redact_text_pairs(url)
    netloc = parts.netloc
    if userinfo:
        user, colon, _ = userinfo.partition(":")
        if keep_user:
            netloc = f"{user}:{MASK}@{netloc}" if colon else f"{user}@{netloc}"
    path = _PAIR_EQ.sub(_mask_pair, parts.path)
    query = _redact_pairs(parts.query, not keep_user)
    fragment = _redact_pairs(parts.fragment, not keep_user)
    return urlunsplit((parts.scheme, netloc, path, query, fragment))


def _mask_pair(m: re.Match[str]) -> str:
    if not _is_secret_name(m.group(1)):
        return m.group(0)
    return f"{m.group(1)}{m.group(2)}{MASK}"


def _mask_quoted(m: re.Match[str]) -> str:
    if not _is_secret_name(m.group(2)):
        return m.group(0)
    return f"{m.group(1)}{m.group(2)}{m.group(1)}{m.group(3)}{m.group(4)}{MASK}{m.group(4)}"


def _mask_colon(m: re.Match[str]) -> str:
    if not m.group(1).lower().endswith(_COLON_WORDS):
        return m.group(0)
    return f"{m.group(1)}{m.group(2)}{MASK}"


def redact_text_pairs(text: str) -> str:
    """Only the `name=value` / `"name": "value"` / `Bearer x` rules of `redact_text`."""
    text = _PAIR_QUOTED.sub(_mask_quoted, text)
    text = _PAIR_EQ.sub(_mask_pair, text)
    text = _PAIR_COLON.sub(_mask_colon, text)
    return _BEARER.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)


def redact_text(text: str, keep_user: bool = True) -> str:
    """`text` with every URL in it passed through `redact_url` and secret pairs masked.

    `keep_user` as for `redact_url` (False: texts shown to viewers). Idempotent (masking a
    masked text changes nothing), so several handlers may run it on the same record.
    """
    if not text:
        return text
    text = _URL.sub(lambda m: redact_url(m.group(0), keep_user), text)
    return redact_text_pairs(text)
