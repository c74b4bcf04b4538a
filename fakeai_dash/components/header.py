"""Header: title, auto-refresh switch, refresh and create buttons, who is signed in, search and filters, stats."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, dcc, html

from fakeai_dash.server.blueprint import Blueprint
from fakeai_dash import auth, ids
from fakeai_dash.components import job_filters, language_switch, notifications, push_listener, shortcuts_help, theme_switch
from fakeai_dash.i18n import N_, _
from fakeai_dash.auth.wording import localized

# This component's callbacks: create_app registers them on the app it builds (server/blueprint.py).
blueprint = Blueprint()

CREATE_ALLOWED_TITLE = N_("Upload a dataset and start a fine-tuning job")


def layout() -> html.Header:
    title = html.Div([
        html.H1([_("Fine-Tuning "), html.Span(_("Dashboard"), className="accent")], className="app-title"),
        html.P(_("Watch, launch and cancel LLM fine-tuning jobs"), className="app-subtitle"),
    ])
    controls = html.Div([
        dbc.Switch(id=ids.Header.AUTO_REFRESH, label=_("Auto-refresh"), value=True, className="mb-0 me-2"),
        theme_switch.layout(),
        language_switch.layout(),
        *notifications.layout(),
        push_listener.indicator(),
        *shortcuts_help.layout(),  # the `?` hint and its overlay
        dbc.Button(_("↻ Refresh"), id=ids.Header.REFRESH, color="secondary", outline=True, size="sm",
                   className="me-2", title=_("Fetch the latest jobs now")),
        dbc.Button(_("+ Create fine-tuning job"), id=ids.Header.CREATE, color="primary", size="sm",
                   title=_(CREATE_ALLOWED_TITLE)),
        html.Div(id=ids.Header.USER_BOX, className="d-none"),
        dcc.Store(id=ids.Header.SESSION),
    ], className="d-flex align-items-center flex-wrap gap-1")
    note = html.Div(id=ids.Header.REFRESH_NOTE, className="small text-warning", role="status")
    filters = html.Div([
        html.Label(_("Search jobs"), htmlFor=ids.Header.SEARCH, className="visually-hidden"),
        dbc.Input(id=ids.Header.SEARCH, type="search", debounce=0.3, size="sm",
                  placeholder=_("Search id, model, suffix, fine-tuned model…"), style={"width": "20rem"}),
        *job_filters.layout(),
    ], className="job-filters d-flex align-items-center gap-2 flex-wrap mt-2")
    stats = html.Div(id=ids.Header.STATS, className="d-flex gap-2 flex-wrap")
    # Stats sit beside the title so the filters get a row of their own without the header
    # growing taller (the grid's height is the viewport minus the header).
    return html.Header([
        html.Div([title, stats, controls], className="d-flex justify-content-between align-items-center flex-wrap gap-2"),
        note,
        filters,
    ], className="app-header")


def _stat(value: int | str, label: str, kind: str) -> html.Div:
    return html.Div([html.Div(value, className="stat-value"), html.Div(label, className="stat-label")],
                    className=f"stat-card stat-{kind}", id=f"stat-{kind}")


@blueprint.callback(Output(ids.Header.STATS, "children"), Input(ids.JobsList.STATS, "data"))
def render_stats(stats: dict[str, int] | None) -> list[html.Div]:
    # Every job counts here, whatever the filters hide in the grid (jobs_list.job_stats).
    if stats is None:
        return [_stat("…", _(label), kind) for kind, label in _STAT_LABELS]
    return [_stat(stats.get(kind, 0), _(label), kind) for kind, label in _STAT_LABELS]


_STAT_LABELS = (("total", N_("Total")), ("active", N_("Active")), ("succeeded", N_("Succeeded")),
                ("failed", N_("Failed / cancelled")))


@blueprint.callback(Output(ids.Page.INTERVAL, "disabled"), Input(ids.Header.AUTO_REFRESH, "value"),
          Input(ids.Push.STATE, "data"))
def toggle_polling(auto_refresh: bool, push_state: str | None = None) -> bool:
    # Disabling the Interval stops the ticks themselves: no request leaves the browser. While
    # updates are pushed, the push bridge's heartbeat replaces the ticks.
    return push_listener.polling_disabled(auto_refresh, push_state)


# -- who is signed in ------------------------------------------------------------------------

def user_box(user: auth.User | None) -> tuple[list, str]:
    """The header's "signed in as" part and its class ("d-none" when nobody signs in)."""
    if user is None or user.mode == "none":
        return [], "d-none"
    state = auth.state()
    sign_out = state.authenticator.sign_out_path if state and state.authenticator else None
    operator = user.can_write
    badge = dbc.Badge(_("operator") if operator else _("viewer · read-only"),
                      color="success" if operator else "secondary", className="ms-1",
                      title=(_("May upload, create, cancel, pause and resume jobs") if operator
                             else auth.read_only_reason(user)))
    # One flex item: a space at the edge of a flex item would collapse ("Signed in asbob").
    children = [html.Span([_("Signed in as "), html.Strong(user.name, className="header-user-name", id=f"{ids.Header.USER_BOX}-name")],
                          className="text-secondary small text-nowrap"), badge]
    if sign_out:
        children.append(html.A(_("Sign out"), href=sign_out, className="btn btn-outline-secondary btn-sm ms-2",
                               id=f"{ids.Header.USER_BOX}-sign-out"))
    return children, "d-flex align-items-center ms-2 header-user"


@blueprint.callback(Output(ids.Header.SESSION, "data"), Output(ids.Header.USER_BOX, "children"), Output(ids.Header.USER_BOX, "className"),
          Output(ids.Header.CREATE, "disabled"), Output(ids.Header.CREATE, "title"),
          Input(ids.Header.USER_BOX, "id"))
def show_user(_page):
    # Runs once per page load. Hiding the writes is a courtesy: the gate refuses them anyway.
    user = auth.current_user()
    children, class_name = user_box(user)
    reason = auth.read_only_reason(user)
    session = {**(user.public() if user else {"can_write": False}), "reason": reason}
    return session, children, class_name, reason is not None, reason or _(CREATE_ALLOWED_TITLE)


@blueprint.callback(Output(ids.Header.REFRESH_NOTE, "children"), Input(ids.Header.REFRESH, "n_clicks"), prevent_initial_call=True)
def refresh_note(_clicks):
    """Says so when forced refreshes are over the user's limit (the list still updates by itself)."""
    blocked = auth.refresh_blocked("jobs")
    return _("{blocked} The list still updates by itself.").format(blocked=localized(blocked)) if blocked else None
