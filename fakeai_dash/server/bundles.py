"""Bundles: our small scripts and styles travel as one file each (issue #22, item 4).

Dash links every .css and .js file of the assets folder on its own: twenty-odd requests of
2–6 KB on a first visit, each a round trip, six at a time over HTTP/1.1. Here the top-level
files Dash would link are read once at start-up, in Dash's own order (sorted by name), and
joined into ``_bundle.css`` and ``_bundle.js``; Dash is told to link none of them
(``assets_ignore``) and the page links the two bundles instead (``external_stylesheets`` after
the vendored Bootstrap, ``external_scripts``). They are served from the assets folder's URL, as
if they were files in it, so that what a file resolves relative to its own URL (chart_loader.js
finds plotly.js in ``vendor/``) still resolves, and they carry ``?m=<content hash>`` as Dash's
assets carry ``?m=<mtime>``: cached for a year (server/web.py), a new URL when a file changes. The files
stay separate in the source tree, where each concern has its own; an edited asset needs a restart
to be bundled.

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
from flask import Response

# Every script and style of the assets folder: Dash links none of them itself.
ASSETS_IGNORE = r"\.(css|js)$"
# Loaded in <head> by hand (app.py INDEX_STRING), not with the rest at the end of the body.
NOT_BUNDLED = frozenset({"theme_boot.js"})
NAME = "_bundle"  # served as <assets URL>/_bundle.css and _bundle.js (no file of that name exists)
MIMETYPES = {"css": "text/css", "js": "text/javascript"}


@dataclass(frozen=True)
class Bundle:
    name: str  # _bundle.<kind>
    version: str  # the content's hash, the page's ?m=
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
    return Bundle(f"{NAME}.{kind}", digest, body, MIMETYPES[kind], tuple(path.name for path in files))


def configure_bundles(app: Dash, assets_dir: Path) -> dict[str, Bundle]:
    """Serve the bundles of ``assets_dir`` and link them in the page. Call before configure_web
    (it fingerprints and caches the links set here) and after the vendored stylesheet is linked."""
    bundles = {kind: build_bundle(bundled_files(assets_dir, kind), kind) for kind in MIMETYPES}
    url = {kind: f"{app.get_asset_url(bundle.name)}?m={bundle.version}" for kind, bundle in bundles.items()}
    app.config.external_stylesheets = [*app.config.external_stylesheets, url["css"]]
    app.config.external_scripts = [*app.config.external_scripts, url["js"]]
    assets_path = f"{app.config.routes_pathname_prefix}{app.config.assets_url_path.strip('/')}/"
    for kind, bundle in bundles.items():
        # A rule without variables: Flask matches it before Dash's assets/<path:path>.
        app.server.add_url_rule(f"{assets_path}{bundle.name}", f"fakeai_bundle_{kind}",
                                lambda bundle=bundle: Response(bundle.body, mimetype=bundle.mimetype))
    return bundles


__all__ = ["ASSETS_IGNORE", "NAME", "Bundle", "build_bundle", "bundled_files", "configure_bundles"]
