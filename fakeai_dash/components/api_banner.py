"""The backend-trouble banner: what went wrong, how old the data on screen is, and, when the API
refused the key (401/403), which setting to fix: the API is answering, so "not answering" would
send a first-time OpenAI or Azure user looking in the wrong place."""

from __future__ import annotations

import re
import time

import dash_bootstrap_components as dbc
from dash import Input, Output, html
from flask import current_app

from fakeai_dash.server.blueprint import Blueprint
from fakeai_dash import ids
from fakeai_dash.i18n import _

# This component's callbacks: create_app registers them on the app it builds (server/blueprint.py).
blueprint = Blueprint()

# How an ApiError reads (fakeai_dash.api.client.ApiError.__str__): "HTTP 401: <the API's words>".
_STATUS = re.compile(r"HTTP (\d{3}):")
KEY_REFUSED = (401, 403)
KEY_SETTINGS = "FAKEAI_DASH_API_KEY (or the file named by FAKEAI_DASH_API_KEY_FILE)"


def layout() -> dbc.Alert:
    # No fade: the banner is readable the moment it opens and gone the moment it closes.
    return dbc.Alert(id=ids.Page.API_BANNER, color="danger", is_open=False, fade=False, className="api-banner")


def http_status(status: dict) -> int | None:
    if isinstance(status.get("status"), int):
        return status["status"]
    match = _STATUS.match(str(status.get("message") or ""))
    return int(match.group(1)) if match else None


def key_fix(code: int, api_type: str) -> str:
    """What to change, in the settings' own names, after the API refused the key."""
    if api_type == "azure":
        what = _("Set the Azure OpenAI resource's api-key in {settings} on the dashboard's server: "
                 "Azure portal, your resource, Keys and Endpoint.").format(settings=KEY_SETTINGS)
    else:
        what = _("Set a valid API key in {settings} on the dashboard's server.").format(settings=KEY_SETTINGS)
    if code == 403:
        what += _(" The key was recognised but may not use fine-tuning here (project, organisation or region).")
    return what + _(" Then restart the dashboard.")


def banner_text(status: dict | None, now: float | None = None, api_type: str = "openai") -> list | None:
    """Children for the banner, or None when the API is healthy."""
    if not status or status.get("ok", True):
        return None
    last_good = status.get("last_good")
    if last_good:
        stamp = time.strftime("%H:%M:%S", time.localtime(last_good))
        age = max(0, int((now or time.time()) - last_good))
        kept = _("Showing the data from {stamp} ({age} s ago); retrying every refresh.").format(stamp=stamp, age=age)
    else:
        kept = _("No data could be loaded yet; retrying every refresh.")
    if status.get("store_down"):
        since = time.strftime("%H:%M:%S", time.localtime(status["store_down"]))
        # The API may be fine: what is missing is the picture every worker shares (Redis).
        return [html.Strong(_("Live updates paused: the shared store is unreachable since {time}.")
                            .format(time=since), id="api-banner-store"),
                html.Br(), html.Small(kept, className="api-banner-age")]
    message = html.Span(status.get("message") or _("Unknown error"), id="api-banner-message")
    code = http_status(status)
    if code in KEY_REFUSED:
        headline = _("The fine-tuning API refused the dashboard's API key. ")
        return [html.Strong(headline), message, html.Br(),
                html.Span(key_fix(code, api_type), id="api-banner-fix"), html.Br(),
                html.Small(kept, className="api-banner-age")]
    return [html.Strong(_("The fine-tuning API is not answering. ")), message,
            html.Br(), html.Small(kept, className="api-banner-age")]


@blueprint.callback(Output(ids.Page.API_BANNER, "children"), Output(ids.Page.API_BANNER, "is_open"),
          Input(ids.Page.API_STATUS, "data"))
def render_banner(status):
    settings = current_app.config.get("FAKEAI_DASH_SETTINGS")
    children = banner_text(status, api_type=getattr(settings, "api_type", "openai"))
    return children, children is not None
