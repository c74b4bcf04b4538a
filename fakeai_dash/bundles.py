"""Bundles: our small scripts and styles travel as one file each (issue #22, item 4).

Dash links every .css and .js file of the assets folder on its own: twenty-odd requests of
2–6 KB on a first visit, each a round trip, six at a time over HTTP/1.1. Here the top-level
files Dash would link are read once at start-up, in Dash's own order (sorted by name), and
joined into ``app.<hash>.css`` and ``app.<hash>.js``; Dash is told to link none of them
(``assets_ignore``) and the page links the two bundles instead (``external_stylesheets`` after
the vendored Bootstrap, ``external_scripts``). The name carries the content's hash, so a bundle
is cached for a year (web.py) and a changed file gives a new name. The files stay separate in
the source tree, where each concern has its own; an edited asset needs a restart to be bundled.

Not bundled: ``theme_boot.js``, which runs in <head> before the body paints (app.py), and the
vendored files, fetched on demand (plotly.js for a job's charts) or linked by hand (Bootstrap).
The scripts are joined in one classic script: a file may not declare at top level, with let,
const or class, a name another file declares (each file wraps its state in a function or uses
``var``; tests/unit/test_bundles.py checks it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from dash import Dash
from flask import Response, abort

# Every script and style of the assets folder: Dash links none of them itself.
ASSETS_IGNORE = r"\.(css|js)$"
# Loaded in <head> by hand (app.py INDEX_STRING), not with the rest at the end of the body.
NOT_BUNDLED = frozenset({"theme_boot.js"})
ROUTE = "_bundles/"
MIMETYPES = {"css": "text/css", "js": "text/javascript"}


@dataclass(frozen=True)
class Bundle:
    name: str  # app.<hash>.<kind>
    body: bytes
    mimetype: str
    sources: tuple[str, ...]


def bundled_files(assets_dir: Path, kind: str) -> list[Path]:
    """The top-level ``*.kind`` files Dash would have linked, in its order (sorted by name)."""
    return sorted(path for path in assets_dir.glob(f"*.{kind}") if path.name not in NOT_BUNDLED)


def build_bundle(files: list[Path], kind: str) -> Bundle:
    """``files`` joined, each under a comment naming it; scripts also end in ``;`` so that one
    without a final semicolon cannot run into the next."""
    separator = b"\n;\n" if kind == "js" else b"\n"
    parts = [f"/* assets/{path.name} */\n".encode() + path.read_bytes() for path in files]
    body = separator.join(parts) + b"\n"
    digest = hashlib.sha256(body).hexdigest()[:16]
    return Bundle(f"app.{digest}.{kind}", body, MIMETYPES[kind], tuple(path.name for path in files))


def configure_bundles(app: Dash, assets_dir: Path) -> dict[str, Bundle]:
    """Serve the bundles of ``assets_dir`` and link them in the page. Call before configure_web
    (it fingerprints and caches the links set here) and after the vendored stylesheet is linked."""
    bundles = {kind: build_bundle(bundled_files(assets_dir, kind), kind) for kind in MIMETYPES}
    by_name = {bundle.name: bundle for bundle in bundles.values()}
    prefix = app.config.requests_pathname_prefix
    app.config.external_stylesheets = [*app.config.external_stylesheets, f"{prefix}{ROUTE}{bundles['css'].name}"]
    app.config.external_scripts = [*app.config.external_scripts, f"{prefix}{ROUTE}{bundles['js'].name}"]

    def serve_bundle(name: str) -> Response:
        bundle = by_name.get(name)
        if bundle is None:
            abort(404)
        return Response(bundle.body, mimetype=bundle.mimetype)

    app.server.add_url_rule(f"{app.config.routes_pathname_prefix}{ROUTE}<name>", "fakeai_bundle", serve_bundle)
    return bundles


__all__ = ["ASSETS_IGNORE", "Bundle", "build_bundle", "bundled_files", "configure_bundles"]
