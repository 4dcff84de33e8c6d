"""Static files for the browser UI: www/ plus an allowlist of www/node_modules packages.

Path traversal is impossible by construction: the request path is split into segments,
any empty, `.`/`..` or dot-leading segment, NUL or backslash is refused, and the resolved
real path (symlinks followed) must still lie inside the real root. Files are revalidated
with ETag/Last-Modified (304), text-like files are gzipped when the client accepts it.
"""

from __future__ import annotations

import collections
import gzip
import mimetypes
import os
import threading
from collections.abc import Collection, Iterator
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

from lightnvr.web.http import HTTPError, Request, Response

# Packages the UI imports as ES modules from /node_modules/<pkg>/...; extend as the UI grows.
NODE_MODULES_ALLOWLIST: set[str] = {"preact", "htm", "hls.js", "qrcode"}
# Paths that are never static files (the API answers them, even with 404).
NOT_STATIC_PREFIXES = ("/api/", "/hls/", "/go2rtc/")

_TYPES = {
    ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8", ".html": "text/html; charset=utf-8",
    ".json": "application/json", ".map": "application/json", ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json", ".wasm": "application/wasm",
    ".m3u8": "application/vnd.apple.mpegurl", ".ts": "video/mp2t", ".m4s": "video/iso.segment",
    ".mp4": "video/mp4", ".ico": "image/x-icon", ".png": "image/png", ".jpg": "image/jpeg",
    ".woff2": "font/woff2", ".txt": "text/plain; charset=utf-8",
}
_COMPRESSIBLE = ("text/", "application/json", "image/svg+xml", "application/manifest+json",
                 "application/wasm", "application/vnd.apple.mpegurl")
_GZIP_MIN, _GZIP_MAX = 512, 8 * 1024 * 1024
_INLINE_MAX = 256 * 1024  # bigger files are streamed in chunks
_CHUNK = 64 * 1024


def content_type(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    return _TYPES.get(ext) or mimetypes.guess_type(path)[0] or "application/octet-stream"


def _file_chunks(path: str) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            yield chunk


def resolve_static_root(configured: str) -> str:
    """The UI directory: `[web] root` if it holds index.html, else the copy installed inside
    the package (wheel: lightnvr/www), else the checkout's www/ (source or editable install).

    Raises ValueError naming `[web] root` when none of them holds the UI.
    """
    import lightnvr

    package_dir = Path(lightnvr.__file__).resolve().parent
    candidates = [Path(configured), package_dir / "www", package_dir.parent / "www"]
    for candidate in candidates:
        if (candidate / "index.html").is_file():
            return str(candidate)
    raise ValueError(f"[web] root = {configured!r}: no index.html there, nor in "
                     f"{candidates[1]} or {candidates[2]}; set [web] root to the UI directory")


class StaticFiles:
    """Serves `root` (and allowlisted `root/node_modules/<pkg>`) read-only."""

    root: str

    def __init__(self, root: str, node_modules: str | None = None,
                 allow: Collection[str] = NODE_MODULES_ALLOWLIST) -> None:
        self.root = os.path.realpath(root)
        self.node_modules = os.path.realpath(node_modules or os.path.join(root, "node_modules"))
        self.allow = allow
        self._gz_lock = threading.Lock()
        self._gz: collections.OrderedDict[tuple[str, int, int], bytes] = (
            collections.OrderedDict())

    @staticmethod
    def handles(path: str) -> bool:
        """True for paths the UI owns (everything but the API, HLS and go2rtc aliases)."""
        return not path.startswith(NOT_STATIC_PREFIXES) and path != "/api"

    def serve(self, req: Request) -> Response:
        """Answer a GET/HEAD for `req.path`; HTTPError 404/405 otherwise."""
        if req.method not in ("GET", "HEAD"):
            raise HTTPError(405, f"method {req.method} not allowed on {req.path}",
                            {"Allow": "GET, HEAD"})
        path = req.path
        if "\x00" in path or "\\" in path:
            raise HTTPError(404, "not found")
        if path.startswith("/node_modules/"):
            found = self._resolve_module(path[len("/node_modules/"):])
        else:
            rel = path.lstrip("/") or "index.html"
            found = self._resolve(self.root, rel)
            if found is None and "." not in path:
                found = self._resolve(self.root, "index.html")  # client-side routing
        if found is None:
            raise HTTPError(404, "not found")
        return self._file(req, found)

    def _resolve_module(self, rel: str) -> str | None:
        parts = rel.split("/")
        n = 2 if parts[0].startswith("@") else 1
        pkg = "/".join(parts[:n])
        if pkg not in self.allow or len(parts) <= n:
            return None
        return self._resolve(os.path.join(self.node_modules, *parts[:n]), "/".join(parts[n:]))

    @staticmethod
    def _resolve(base: str, rel: str) -> str | None:
        segments = rel.split("/")
        if any(s in ("", ".", "..") or s.startswith(".") for s in segments):
            return None
        base_real = os.path.realpath(base)
        real = os.path.realpath(os.path.join(base_real, *segments))
        if not real.startswith(base_real + os.sep) or not os.path.isfile(real):
            return None
        return real

    def _file(self, req: Request, real: str) -> Response:
        try:
            st = os.stat(real)
        except OSError:
            raise HTTPError(404, "not found") from None
        ctype = content_type(real)
        compressible = ctype.startswith(_COMPRESSIBLE)
        use_gz = (compressible and _GZIP_MIN <= st.st_size <= _GZIP_MAX
                  and "gzip" in req.headers.get("accept-encoding", "").lower())
        etag = f'"{st.st_size:x}-{st.st_mtime_ns:x}{"-gz" if use_gz else ""}"'
        headers = {"Content-Type": ctype, "ETag": etag, "Cache-Control": "no-cache",
                   "Last-Modified": formatdate(st.st_mtime, usegmt=True)}
        if compressible:
            headers["Vary"] = "Accept-Encoding"
        if self._not_modified(req, etag, st.st_mtime):
            return Response(304, b"", headers)
        if use_gz:
            headers["Content-Encoding"] = "gzip"
            return Response(200, self._gzipped(real, st), headers)
        if st.st_size <= _INLINE_MAX:
            with open(real, "rb") as fh:
                return Response(200, fh.read(), headers)
        headers["Content-Length"] = str(st.st_size)
        return Response(200, _file_chunks(real), headers)

    @staticmethod
    def _not_modified(req: Request, etag: str, mtime: float) -> bool:
        inm = req.headers.get("if-none-match")
        if inm is not None:
            tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
            return etag in tags or "*" in tags
        ims = req.headers.get("if-modified-since")
        if ims:
            try:
                return int(mtime) <= int(parsedate_to_datetime(ims).timestamp())
            except (TypeError, ValueError, IndexError, OverflowError):
                return False
        return False

    def _gzipped(self, real: str, st: os.stat_result) -> bytes:
        key = (real, st.st_mtime_ns, st.st_size)
        with self._gz_lock:
            hit = self._gz.get(key)
            if hit is not None:
                self._gz.move_to_end(key)
                return hit
        with open(real, "rb") as fh:
            data = gzip.compress(fh.read(), 6, mtime=0)
        with self._gz_lock:
            self._gz[key] = data
            while len(self._gz) > 64:
                self._gz.popitem(last=False)
        return data
