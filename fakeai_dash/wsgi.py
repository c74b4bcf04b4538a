"""The app a gunicorn worker serves: ``gunicorn fakeai_dash.wsgi:server`` (the Procfile) and the CLI.

``server`` is built on first access, in the worker, from the environment and .env; the CLI's
workers call build_app with the settings the CLI parsed (flags included).
"""

from __future__ import annotations

import os

from dash import Dash

from fakeai_dash.config import Settings, SettingsError, load_settings
from fakeai_dash.gunicorn_conf import API_BASE_ENV


def build_app(settings: Settings | None = None) -> Dash:
    from fakeai_dash.app import create_app

    settings = settings or load_settings([])
    if settings.embedded and os.environ.get(API_BASE_ENV):
        # The master already runs the one embedded FakeAI every worker shares (gunicorn_conf).
        settings = settings.model_copy(update={"api_base": os.environ[API_BASE_ENV]})
    app = create_app(settings)
    # Dash finishes its set-up (the bundles it may serve, the callbacks) on its first request,
    # and a threaded worker's other first requests do not wait for it: they answered 500
    # ("not a registered library"). One request here, before the worker serves anyone.
    app.server.test_client().get("/healthz")
    return app


def __getattr__(name: str):
    # Lazy, so that importing build_app (the CLI does) builds nothing from the environment.
    if name not in ("app", "server"):
        raise AttributeError(name)
    try:
        app = build_app()
    except SettingsError as error:  # one clear line in the log, not a traceback
        raise SystemExit(f"{error}") from None
    globals().update(app=app, server=app.server)
    return globals()[name]
