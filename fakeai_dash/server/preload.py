"""What a page will ask for once Dash has started, asked for with the page (issue #22, item 4).

Dash's renderer requests the layout and the callbacks' list (``_dash-layout``,
``_dash-dependencies``) only once every script has run (~1 s into a first visit on a slow link),
and the list's components request their on-demand code (webpack chunks) only once the layout is
drawn: three round trips one after another, each of which could have started with the page.

- **The layout and the callbacks' list** are named in the page's head as
  ``<link rel="preload" as="fetch" crossorigin="anonymous">``: the browser fetches them at once
  and hands the answers to the renderer's own requests (same URL, mode and credentials), so they
  travel while the scripts do. The layout request still carries the page's URL as Referer
  (first_view.py reads it) and passes the sign-in gate like any other.
- **AG Grid's and dcc.Dropdown's chunks** (230 KB and 10 KB) are plain scripts, downloaded with
  Dash's own; run, they register in webpack's chunk array and the components find them there
  (as first_view.py sends dcc.Graph's chunk with a job's page). They run after the renderer's
  start-up script, so they never delay its requests. Their URLs carry Dash's fingerprint
  (``name.v<version>m<mtime>.js``, which Dash's component route accepts), so they are cached for
  a year (server/web.py) instead of revalidated on every visit. A job's own URL does without them: its
  page waits on plotly.js first, and sending these as well made its first chart slower.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from dash import Dash
from dash.fingerprint import build_fingerprint

from fakeai_dash.components.jobs_list import job_id_from_path

# What the renderer fetches first, whatever the page.
RENDERER_FETCHES = ("_dash-layout", "_dash-dependencies")
# (package, path in the package): what the list page's components request on their first render.
LIST_CHUNKS = (("dash_ag_grid", "async-community.js"), ("dash", "dcc/async-dropdown.js"))


def chunk_url(app: Dash, package: str, path: str) -> str:
    module = importlib.import_module(package)
    mtime = int((Path(module.__file__).parent / path).stat().st_mtime)
    fingerprinted = build_fingerprint(path, module.__version__, mtime)
    return f"{app.config.requests_pathname_prefix}_dash-component-suites/{package}/{fingerprinted}"


def fetch_preloads(prefix: str) -> str:
    """The head's preload links for the renderer's first requests (a page's first round trip)."""
    return "".join(f'<link rel="preload" href="{prefix}{name}" as="fetch" crossorigin="anonymous">'
                   for name in RENDERER_FETCHES)


def list_chunk_scripts(urls: list[str], path: str) -> str:
    """The script tags a page at ``path`` runs once Dash has started: none on a job's URL."""
    if job_id_from_path(path):
        return ""
    return "".join(f'<script src="{url}"></script>' for url in urls)


__all__ = ["LIST_CHUNKS", "RENDERER_FETCHES", "chunk_url", "fetch_preloads",
           "list_chunk_scripts"]
