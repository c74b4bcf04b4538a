"""The backend-trouble banner: what went wrong and how old the data on screen is."""

from __future__ import annotations

import time

import dash_bootstrap_components as dbc
from dash import Input, Output, callback, html

from fakeai_dash import ids


def layout() -> dbc.Alert:
    # No fade: the banner is readable the moment it opens and gone the moment it closes.
    return dbc.Alert(id=ids.Page.API_BANNER, color="danger", is_open=False, fade=False, className="api-banner")


def banner_text(status: dict | None, now: float | None = None) -> list | None:
    """Children for the banner, or None when the API is healthy."""
    if not status or status.get("ok", True):
        return None
    last_good = status.get("last_good")
    if last_good:
        stamp = time.strftime("%H:%M:%S", time.localtime(last_good))
        age = max(0, int((now or time.time()) - last_good))
        kept = f"Showing the data from {stamp} ({age} s ago); retrying every refresh."
    else:
        kept = "No data could be loaded yet; retrying every refresh."
    return [html.Strong("The fine-tuning API is not answering. "),
            html.Span(status.get("message") or "Unknown error", id="api-banner-message"),
            html.Br(), html.Small(kept, className="api-banner-age")]


@callback(Output(ids.Page.API_BANNER, "children"), Output(ids.Page.API_BANNER, "is_open"),
          Input(ids.Page.API_STATUS, "data"))
def render_banner(status):
    children = banner_text(status)
    return children, children is not None
