"""Serving the console's files: in memory, gzip-compressed once, with cache validators.

``/console/`` is ``index.html`` (``Cache-Control: no-cache`` and an ETag: the browser
revalidates it each visit). It names the other files under
``/console/assets/<digest>/``, where ``<digest>`` hashes every file's content, so those are
served ``immutable`` for a year and a new release is a new URL; ES module imports are
relative, so they inherit the digest. Every answer carries a Content-Security-Policy that
allows scripts, styles and API calls from this origin only (no inline script, no eval).
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

STATIC = Path(__file__).with_name("static")
PREFIX = "/console/"
ASSETS = PREFIX + "assets/"
PLACEHOLDER = b"@assets/"

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
)
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    gzipped: bytes
    etag: str
    content_type: str


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


class ConsoleAssets:
    """The files of ``root``, ready to serve."""

    def __init__(self, root: Path = STATIC) -> None:
        raw = {p.name: p.read_bytes() for p in sorted(root.iterdir()) if p.is_file() and p.name != "index.html"}
        whole = hashlib.sha256()
        for name, body in raw.items():
            whole.update(name.encode() + b"\0" + body)
        self.digest = whole.hexdigest()[:16]
        self.files = {name: _asset(name, body) for name, body in raw.items()}
        index = (root / "index.html").read_bytes().replace(PLACEHOLDER, f"{ASSETS}{self.digest}/".encode())
        self.index = _asset("index.html", index)

    def answer(self, path: str, accept_encoding: str = "", if_none_match: str = "") -> Reply:
        """The reply for a GET of ``path`` (a path under ``/console``, or ``/``)."""
        if path in ("/", "/console"):
            return Reply(302, (("Location", PREFIX), *SECURITY_HEADERS), b"")
        if path == PREFIX:
            return _reply(self.index, "no-cache", accept_encoding, if_none_match)
        digest, _, name = path.removeprefix(ASSETS).partition("/")
        asset = self.files.get(name) if path.startswith(ASSETS) and digest == self.digest else None
        if asset is None:
            body = b"Not found\n"
            return Reply(404, (("Content-Type", "text/plain; charset=utf-8"), *SECURITY_HEADERS), body)
        return _reply(asset, "public, max-age=31536000, immutable", accept_encoding, if_none_match)


def _asset(name: str, body: bytes) -> Asset:
    suffix = Path(name).suffix
    ctype = TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    if ctype == "text/html":
        ctype = "text/html; charset=utf-8"
    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    return Asset(body, gzip.compress(body, 9, mtime=0), etag, ctype)


def _reply(asset: Asset, cache: str, accept_encoding: str, if_none_match: str) -> Reply:
    common = (("ETag", asset.etag), ("Cache-Control", cache), ("Vary", "Accept-Encoding"), *SECURITY_HEADERS)
    if asset.etag in (tag.strip() for tag in if_none_match.split(",")):
        return Reply(304, common, b"")
    wants_gzip = any(part.split(";")[0].strip() == "gzip" for part in accept_encoding.split(","))
    if wants_gzip and len(asset.gzipped) < len(asset.body):
        return Reply(200, (("Content-Type", asset.content_type), ("Content-Encoding", "gzip"), *common), asset.gzipped)
    return Reply(200, (("Content-Type", asset.content_type), *common), asset.body)
