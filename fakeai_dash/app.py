"""create_app(settings) -> Dash: wires settings, the backend, the cache and the components."""

from __future__ import annotations

import atexit
import functools
import logging
from pathlib import Path

import dash
from dash import Dash

from fakeai_dash import __version__
from fakeai_dash.components import (
    api_banner,
    budget_warning,
    checkpoints,
    cost_tracker,
    create_job_dialog,
    events_log,
    header,
    hyperparameters,
    job_actions,
    job_audit,
    job_comparison,
    job_details,
    job_filters,
    jobs_list,
    language_switch,
    model_comparison,
    notifications,
    push_listener,
    shortcuts_help,
    status_timeline,
    theme_switch,
    training_alerts,
    training_progress,
)
from fakeai_dash.api.client import client_from_settings
from fakeai_dash.auth import configure_auth, watch_viewer
from fakeai_dash.server.bundles import ASSETS_IGNORE, configure_bundles
from fakeai_dash.config import Settings, load_settings
from fakeai_dash.data import EXTENSION_KEY, build_source
from fakeai_dash.embedded import EmbeddedFakeAI
from fakeai_dash.i18n_web import configure_i18n
from fakeai_dash.layout import build_layout
from fakeai_dash.server.push_stream import configure_push, limit_request_concurrency
from fakeai_dash.server.security import configure_security
from fakeai_dash.server.dashboard import Dashboard
from fakeai_dash.server.web import configure_web

log = logging.getLogger(__name__)

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"

# Every component with callbacks, in the order of the seed's tree: each registers its own on the
# app create_app builds (server/blueprint.py), so every app (a test's fresh one too) gets them all.
COMPONENTS = (
    header, job_filters, language_switch, theme_switch, notifications, shortcuts_help, push_listener,
    api_banner, budget_warning, jobs_list,
    job_details, job_actions, job_audit, status_timeline, hyperparameters, cost_tracker,
    training_progress, training_alerts, checkpoints, model_comparison, events_log, job_comparison,
    create_job_dialog,
)


# theme_boot.js runs in <head>, before the body paints, so no page shows the wrong theme first
# (a file of this origin: the CSP's script-src 'self' covers it, no inline script needs a hash).
THEME_BOOT = "theme_boot.js"
INDEX_STRING = """<!DOCTYPE html>
<html lang="en" data-bs-theme="dark">
<head>{%metas%}<title>{%title%}</title>{%favicon%}<script src="{theme_boot_src}"></script>{%css%}</head>
<body>{%app_entry%}<footer>{%config%}{%scripts%}{%renderer%}</footer></body>
</html>"""


def start_embedded_backend(seed: bool = True) -> EmbeddedFakeAI:
    backend = EmbeddedFakeAI().start()
    atexit.register(backend.stop)
    if seed:
        backend.seed()
    log.info("Embedded FakeAI serving on %s", backend.url)
    return backend


def create_app(settings: Settings | None = None, *, backend: EmbeddedFakeAI | None = None) -> Dash:
    settings = settings or load_settings([])
    api_base = settings.api_base
    if api_base is None:
        backend = backend or start_embedded_backend()
        api_base = backend.url

    # The index page and the callbacks' list per request (language, path): server/dashboard.py.
    app = Dashboard(
        __name__,
        assets_dir=str(ASSETS_DIR),
        title="Fine-Tuning Dashboard",
        update_title=None,
        assets_folder=str(ASSETS_DIR),
        # Our scripts and styles travel as two bundles (server/bundles.py); Bootstrap is vendored (no
        # CDN: deployments may have no internet) and linked first; plotly.js is loaded on demand.
        assets_ignore=ASSETS_IGNORE,
        suppress_callback_exceptions=True,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    boot = ASSETS_DIR / THEME_BOOT  # ?m=<mtime>, as Dash versions its assets: cached for a year (server/web.py)
    app.index_string = INDEX_STRING.replace(
        "{theme_boot_src}", f"{app.get_asset_url(THEME_BOOT)}?m={boot.stat().st_mtime}")
    app.config.external_stylesheets = [app.get_asset_url("vendor/bootstrap.min.css")]
    for component in COMPONENTS:
        component.blueprint.register_callbacks(app)
    configure_bundles(app, ASSETS_DIR)  # our styles after Bootstrap's, our scripts in one file
    configure_web(app)
    configure_security(app, settings)  # headers, same-origin writes, cookies, request size
    configure_auth(app, settings)  # sign-in, roles, audit trail, rate limits
    configure_i18n(app, str(ASSETS_DIR))  # a language link is remembered (the cookie)
    # A function of the request: each page load is built in its visitor's language (i18n.py).
    app.layout = functools.partial(build_layout, settings.refresh_interval, settings.upload_limit_mb,
                                   push=settings.push)

    server = app.server
    source = build_source(settings, client_from_settings(settings, api_base))
    server.extensions[EXTENSION_KEY] = source
    source.viewer = watch_viewer  # a job a user starts watching passes the caps and the "watch" limit
    if settings.push:
        configure_push(server, source, app.config.routes_pathname_prefix)  # Server-Sent Events
    # Ordinary requests run GUNICORN_THREADS at a time per worker, however many threads streams hold.
    limit_request_concurrency(server, {"/healthz", f"{app.config.routes_pathname_prefix}_push"})
    # The sync loop starts with the app: every worker runs one, the leader alone calls the API.
    source.engine.start()
    atexit.register(source.close)
    server.config["FAKEAI_DASH_SETTINGS"] = settings

    @server.route("/healthz")
    def healthz():
        # Answers without touching the API: a load balancer must not take the API down.
        return {"status": "ok", "version": __version__}

    return app


__all__ = ["create_app", "dash"]
