"""Notifications: the header's opt-in button and choices, and the browser-side check that
announces a job's terminal transitions and new training alerts (assets/notifications.js).

Nothing here runs on the server: the check reads the jobs and alerts stores the page already
holds, and the choices live in the browser (localStorage), per user and browser.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, dcc, html

from fakeai_dash.server.blueprint import Blueprint
from fakeai_dash import ids
from fakeai_dash.i18n import N_, _
from fakeai_dash.i18n import options as translated

# This component's callbacks: create_app registers them on the app it builds (server/blueprint.py).
blueprint = Blueprint()

CHOICES = [
    {"label": N_("Succeeded"), "value": "succeeded"},
    {"label": N_("Failed"), "value": "failed"},
    {"label": N_("Cancelled"), "value": "cancelled"},
    {"label": N_("Training alerts"), "value": "alerts"},
]


def layout() -> list:
    """The button and its choices (in the header) and the toasts' box (fixed on the page)."""
    choices = dbc.Checklist(id=ids.Notify.PREF_CHOICES, options=translated(CHOICES), value=[c["value"] for c in CHOICES],
                            persistence=True, persistence_type="local", className="px-3 py-1 small")
    return [
        dbc.Button(_("Notify me"), id=ids.Notify.ENABLE, color="secondary", outline=True, size="sm",
                   className="me-1", title=_("Get a notification when a job finishes, fails or is cancelled")),
        dbc.DropdownMenu([dbc.DropdownMenuItem(_("Notify me when a job…"), header=True), choices],
                         id=ids.Notify.MENU, label=html.Span(_("Notification choices"), className="visually-hidden"), size="sm", color="link", className="me-2 notify-menu",
                         toggle_class_name="notify-menu-toggle", align_end=True),
        dcc.Store(id=ids.Notify.STATE),
        html.Div(id=ids.Notify.TOASTS, className="notify-toasts", **{"aria-live": "polite"}),
    ]


# The button's words follow the browser's state (opted in? permission granted?); the click
# itself is handled in notifications.js, where asking for permission counts as a user gesture.
blueprint.clientside_callback(
    """function (_id) { return window.fakeaiAlerts.state(); }""",
    Output(ids.Notify.STATE, "data"),
    Input(ids.Notify.ENABLE, "id"),
)

blueprint.clientside_callback(
    """function (state) {
        if (!state) { return [window.dash_clientside.no_update, window.dash_clientside.no_update]; }
        return [state.label, state.title];
    }""",
    Output(ids.Notify.ENABLE, "children"),
    Output(ids.Notify.ENABLE, "title"),
    Input(ids.Notify.STATE, "data"),
)

# Every new jobs list or alerts map: announce what changed (once per browser, see the JS).
blueprint.clientside_callback(
    """function (rows, alerts, choices) { window.fakeaiAlerts.check(rows, alerts, choices); }""",
    Input(ids.JobsList.STORE, "data"),
    Input(ids.Alerts.STORE, "data"),
    Input(ids.Notify.PREF_CHOICES, "value"),
)
