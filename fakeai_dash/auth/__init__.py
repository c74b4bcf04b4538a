"""Sign-in (Basic or OIDC), viewer and operator roles, the audit trail and per-user rate limits.

``configure_auth(app, settings)`` sets it all up for one Dash app; write callbacks go through
``authorize_write``, forced refreshes through ``allow_refresh`` (fakeai_dash.auth.gate).
"""

from __future__ import annotations

import os
import secrets
import tempfile

from dash import Dash

from fakeai_dash.auth.audit import AUDIT_FILE, build_trail
from fakeai_dash.auth.gate import (
    EXTENSION,
    AuthState,
    WriteRefused,
    allow_refresh,
    authorize_write,
    build_limits,
    current_user,
    protect,
    read_only_reason,
    refresh_blocked,
    state,
    watch_viewer,
)
from fakeai_dash.auth.roles import ANONYMOUS, OPERATOR, VIEWER, User
from fakeai_dash.auth.throttle import build_throttle
from fakeai_dash.datadir import DATA_DIR_ENV, private_file  # noqa: F401 - DATA_DIR_ENV: its old home
from fakeai_dash.datadir import data_dir as shared_data_dir

HEALTH_PATH = "/healthz"


def data_dir(settings) -> str:
    return shared_data_dir(settings, prefix="fakeai-dash-auth-")


def session_secret(settings, directory: str) -> str:
    """FAKEAI_DASH_SESSION_SECRET, else one random secret per host kept in the data directory
    (every worker signs cookies alike; a new data directory signs everyone out)."""
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value()
    path = os.path.join(directory, "session-secret")
    if not os.path.exists(path):
        # Written whole to a file of its own, then linked into place: a worker racing this one
        # either links first or finds the complete file, never half of one.
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".session-secret-")
        try:
            with os.fdopen(fd, "w") as handle:  # mkstemp files are 0600
                handle.write(secrets.token_urlsafe(48))
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    private_file(path)  # one an older version wrote as the umask said
    with open(path) as handle:
        return handle.read().strip()


def configure_auth(app: Dash, settings) -> AuthState:
    """Sign-in, roles, audit trail and rate limits for ``app`` (FAKEAI_DASH_AUTH picks the mode)."""
    server = app.server
    mode = settings.auth or "none"
    directory = data_dir(settings)
    if not settings.cache_url:
        private_file(os.path.join(directory, AUDIT_FILE))  # before SQLite creates it as the umask says
    css = [app.get_asset_url("vendor/bootstrap.min.css"), app.get_asset_url("theme.css")]
    public = {HEALTH_PATH, f"{app.config.routes_pathname_prefix}_favicon.ico"}
    authenticator = None
    if mode == "basic":
        from fakeai_dash.auth.basic import BasicSignIn

        authenticator = BasicSignIn(settings.users_file, css)
        server.add_url_rule(BasicSignIn.sign_out_path, "fakeai_dash_signed_out", authenticator.signed_out)
        public.add(BasicSignIn.sign_out_path)
    elif mode == "oidc":
        from fakeai_dash.auth.oidc import DashboardOIDC
        from fakeai_dash.auth.sessions import build_sessions

        authenticator = DashboardOIDC(app, settings, session_secret(settings, directory), css,
                                      build_sessions(settings, directory))
        public |= authenticator.public_paths()
    auth = AuthState(mode=mode, authenticator=authenticator, trail=build_trail(settings.cache_url, directory),
                     limits=build_limits(server, settings), public=public, css=css,
                     throttle=build_throttle(settings, directory) if mode == "basic" else None)
    server.extensions[EXTENSION] = auth
    protect(server, auth)
    return auth


__all__ = ["ANONYMOUS", "OPERATOR", "VIEWER", "AuthState", "User", "WriteRefused", "allow_refresh",
           "authorize_write", "configure_auth", "current_user", "read_only_reason", "refresh_blocked", "state",
           "watch_viewer"]
