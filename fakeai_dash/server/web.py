"""HTTP set-up of the dashboard's server: compression and cache headers.

- Responses are compressed with brotli, or gzip for a client without it (HTML, JS, CSS and
  JSON, which is what Dash callbacks answer).
- A fingerprinted file is cached for a year and never revalidated: its URL changes whenever
  its content does. Dash fingerprints its component bundles (``name.v<version>m<mtime>.js``)
  and adds ``?m=<mtime>`` to the files of our assets folder (``?v=<version>`` to its own
  favicon); the vendored Bootstrap, linked by hand, gets the same ``?m=`` here.
- Other static files (Dash's on-demand chunks, such as AG Grid's or plotly.js) are revalidated
  with their ETag each time; pages and data are never stored.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from dash import Dash
from dash.fingerprint import check_fingerprint
from flask import Flask, Request, Response, request
from flask_compress import Compress

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
NEVER_STORE = "no-store"

COMPRESSED_TYPES = ["text/html", "text/css", "text/plain", "text/javascript", "application/javascript",
                    "application/json", "image/svg+xml", "image/x-icon"]
# Level 5 is brotli's knee for our bundles: plotly.js 4.8 MB -> 1.29 MB in ~0.3 s, and a small
# JSON answer costs well under a millisecond. Static bodies are compressed once per worker.
BROTLI_LEVEL = 5
COMPRESSED_CACHE_BYTES = 64 * 1024 * 1024
_NOT_CACHED = "-"


class CompressedStatic:
    """Compressed bodies of static files, per worker, bounded in bytes (least recently used out).

    flask-compress asks for a key for every response it compresses; only static files that
    cannot change while the process runs get a real one (``static_key``), the rest get
    ``_NOT_CACHED`` and are never stored.
    """

    def __init__(self, max_bytes: int = COMPRESSED_CACHE_BYTES):
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _cacheable(key: str) -> bool:
        return not key.endswith(";" + _NOT_CACHED)

    def get(self, key: str) -> bytes | None:
        if not self._cacheable(key):
            return None
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def set(self, key: str, value: bytes) -> None:
        if not self._cacheable(key) or len(value) > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            self.size += len(value) - (len(old) if old is not None else 0)
            self._entries[key] = value
            while self.size > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self.size -= len(evicted)


class StaticPaths:
    """Where Dash serves our assets and its component bundles, under the app's prefix."""

    def __init__(self, app: Dash):
        prefix = app.config.routes_pathname_prefix
        self.assets = f"{prefix}{app.config.assets_url_path.strip('/')}/"
        self.suites = f"{prefix}_dash-component-suites/"
        self.favicon = f"{prefix}_favicon.ico"

    def kind(self, path: str) -> str | None:
        """'asset', 'suite', 'favicon' or None (not a static file)."""
        if path.startswith(self.assets):
            return "asset"
        if path.startswith(self.suites):
            return "suite"
        if path == self.favicon:
            return "favicon"
        return None

    def fingerprinted(self, req: Request) -> bool:
        kind = self.kind(req.path)
        if kind == "asset":
            return bool(req.args.get("m"))
        if kind == "suite":
            return check_fingerprint(req.path)[1]
        if kind == "favicon":  # Dash's own icon, ?v=<Dash version> (ours would be an asset with ?m=)
            return bool(req.args.get("v"))
        return False


def cache_control(paths: StaticPaths, req: Request, response: Response) -> str:
    """The Cache-Control a response gets (see the module docstring)."""
    if response.mimetype == "text/html" or paths.kind(req.path) is None:
        return NEVER_STORE
    if paths.fingerprinted(req) and response.status_code in (200, 304):
        return IMMUTABLE
    return REVALIDATE


def compressed_cache_key(paths: StaticPaths, req: Request) -> str:
    """Which stored compressed body a response may reuse; ``_NOT_CACHED`` for one that may change."""
    if req.method != "GET":
        return _NOT_CACHED
    kind = paths.kind(req.path)
    if kind == "suite":
        # A component bundle comes from an installed package, fixed while the process runs,
        # and Dash ignores the query: made-up queries must not each cost a fresh compression.
        return req.path
    if kind == "asset" and req.args.get("m"):
        return f"{req.path}?m={req.args['m']}"  # the asset's version, as the page names it
    if kind == "favicon":
        return req.path
    return _NOT_CACHED


def _fingerprint_local_links(app: Dash) -> None:
    # Files linked by hand (external_stylesheets/scripts pointing into our assets folder) get
    # the ?m=<mtime> Dash gives the files it links itself, so they can be cached as long.
    prefix = app.get_asset_url("")
    folder = Path(app.config.assets_folder)

    def busted(url):
        if not isinstance(url, str) or not url.startswith(prefix) or "?" in url:
            return url
        file = folder / url[len(prefix):]
        return f"{url}?m={file.stat().st_mtime}" if file.is_file() else url

    for key, attribute in (("external_stylesheets", "href"), ("external_scripts", "src")):
        links = []
        for link in app.config[key] or []:
            if isinstance(link, dict) and attribute in link:
                link = {**link, attribute: busted(link[attribute])}
            else:
                link = busted(link)
            links.append(link)
        app.config[key] = links


def configure_web(app: Dash) -> None:
    """Compression and cache headers for ``app``'s server. Call once the app's links are set."""
    server: Flask = app.server
    paths = StaticPaths(app)
    _fingerprint_local_links(app)

    server.config.update(
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_ALGORITHM_STREAMING=["br"],
        COMPRESS_MIMETYPES=COMPRESSED_TYPES,
        COMPRESS_BR_LEVEL=BROTLI_LEVEL,
        COMPRESS_LEVEL=6,
        COMPRESS_CACHE_BACKEND=CompressedStatic,
        COMPRESS_CACHE_KEY=lambda req: compressed_cache_key(paths, req),
    )
    Compress(server)

    # Registered after Compress, so it runs before it (Flask runs these in reverse order).
    @server.after_request
    def _static_headers(response: Response) -> Response:
        if paths.kind(request.path) == "asset" and response.status_code == 200 and response.is_streamed:
            # Assets are sent as file streams; read them (they are small) so that gzip, which
            # flask-compress cannot stream, and the compressed-body cache apply to them too.
            response.direct_passthrough = False
            response.make_sequence()
        response.headers["Cache-Control"] = cache_control(paths, request, response)
        return response
