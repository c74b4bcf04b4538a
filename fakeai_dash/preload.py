"""The jobs list's on-demand code, sent with the page instead of after its layout (issue #22, item 4).

AG Grid and dcc.Dropdown keep most of their code in chunks (webpack) that a component requests
when it first renders: on the list page, only once Dash has run its scripts, fetched the layout
and drawn it, so the grid's chunk (230 KB) started ~1 s into a first visit and the first row
waited on it. The page now names them as plain scripts, downloaded with Dash's own; run, they
register in webpack's chunk array and the components find them there (the same way
first_view.py sends dcc.Graph's chunk with a job's page).

They run after the renderer's start-up script, so they never delay its request for the layout.
Their URLs carry Dash's fingerprint (``name.v<version>m<mtime>.js``, which Dash's component route
accepts), so they are cached for a year (web.py) instead of revalidated on every visit.

A job's own URL is left as it was: its page waits on plotly.js first (first_view.py), and sending
these chunks as well made its first chart slower.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from dash import Dash
from dash.fingerprint import build_fingerprint
from flask import request

from fakeai_dash.components.jobs_list import job_id_from_path

# (package, path in the package): what the list page's components request on their first render.
LIST_CHUNKS = (("dash_ag_grid", "async-community.js"), ("dash", "dcc/async-dropdown.js"))


def chunk_url(app: Dash, package: str, path: str) -> str:
    module = importlib.import_module(package)
    mtime = int((Path(module.__file__).parent / path).stat().st_mtime)
    fingerprinted = build_fingerprint(path, module.__version__, mtime)
    return f"{app.config.requests_pathname_prefix}_dash-component-suites/{package}/{fingerprinted}"


def list_chunk_scripts(urls: list[str], path: str) -> str:
    """The script tags a page at ``path`` runs once Dash has started: none on a job's URL."""
    if job_id_from_path(path):
        return ""
    return "".join(f'<script src="{url}"></script>' for url in urls)


def configure_preload(app: Dash) -> None:
    urls = [chunk_url(app, package, path) for package, path in LIST_CHUNKS]
    original_interpolate = app.interpolate_index

    def interpolate_index(**kwargs) -> str:
        kwargs["renderer"] = kwargs["renderer"] + list_chunk_scripts(urls, request.path)
        return original_interpolate(**kwargs)

    app.interpolate_index = interpolate_index


__all__ = ["LIST_CHUNKS", "chunk_url", "configure_preload", "list_chunk_scripts"]
