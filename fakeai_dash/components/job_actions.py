"""JobActions: the cancel, pause and resume buttons of a job's header, the cancel confirmation,
and the writes they make (each checked, rate-limited and audited on the server first)."""

from __future__ import annotations

import time
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, html, no_update

from fakeai_dash.server.blueprint import Blueprint
from fakeai_dash import ids
from fakeai_dash.api.client import ApiError
from fakeai_dash.api.models import ACTIVE_STATUSES
from fakeai_dash.auth import authorize_write
from fakeai_dash.auth.wording import error_text
from fakeai_dash.data import current_source
from fakeai_dash.i18n import N_, _
from fakeai_dash.theme import status_label

# This component's callbacks: create_app registers them on the app it builds (server/blueprint.py).
blueprint = Blueprint()

# Every job still in flight can be cancelled.
CANCELLABLE = ACTIVE_STATUSES
# What an API without pause/resume answers.
UNSUPPORTED_STATUSES = (404, 405, 501)


def available_actions(status: str | None, support: dict[str, bool] | None) -> dict[str, dict[str, Any]]:
    """Which action buttons show, and which are disabled with what explanation."""
    support = support or {}
    actions = {
        "cancel": {"show": status in CANCELLABLE, "disabled": False, "title": _("Cancel this job")},
        "pause": {"show": status == "running", "disabled": False, "title": _("Pause this job")},
        "resume": {"show": status == "paused", "disabled": False, "title": _("Resume this job")},
    }
    for name in ("pause", "resume"):
        if support.get(name) is False:
            actions[name].update(disabled=True, title=_(_NO_ENDPOINT[name]))
    return actions


def action_result(action: str, job: dict[str, Any] | None = None, error: ApiError | None = None):
    """(alert children, alert colour, unsupported?) for the outcome of cancel/pause/resume."""
    if error is None:
        status = status_label((job or {}).get("status"))
        return [html.Strong(_(_REQUESTED[action])), _("The job is now {status}.").format(status=status)], "success", False
    if action in ("pause", "resume") and error.status in UNSUPPORTED_STATUSES:
        text = _(_UNSUPPORTED[action]).format(status=error.status, message=error.message)
        return [html.Strong(_(_NOT_AVAILABLE[action])), text], "warning", True
    return [html.Strong(_(_FAILED[action])), error_text(error)], "danger", False


# One sentence per action: the verb's form differs in German and Chinese.
_NO_ENDPOINT = {"pause": N_("This API has no pause endpoint"), "resume": N_("This API has no resume endpoint")}
_REQUESTED = {"cancel": N_("Cancel requested. "), "pause": N_("Pause requested. "), "resume": N_("Resume requested. ")}
_NOT_AVAILABLE = {"pause": N_("Pause is not available. "), "resume": N_("Resume is not available. ")}
_FAILED = {"cancel": N_("Could not cancel the job. "), "pause": N_("Could not pause the job. "),
           "resume": N_("Could not resume the job. ")}
_UNSUPPORTED = {
    "pause": N_("This API does not support pause (it answered HTTP {status}: {message}). FakeAI simulates no "
                "pausing; cancelling still works. The Pause button is disabled for this session."),
    "resume": N_("This API does not support resume (it answered HTTP {status}: {message}). FakeAI simulates no "
                 "pausing; cancelling still works. The Resume button is disabled for this session."),
}


# -- layout ------------------------------------------------------------------------------------

def buttons() -> html.Div:
    return html.Div([
        dbc.Button(_("Pause"), id=ids.JobDetails.PAUSE, color="secondary", outline=True, size="sm",
                   style={"display": "none"}),
        dbc.Button(_("Resume"), id=ids.JobDetails.RESUME, color="primary", outline=True, size="sm",
                   style={"display": "none"}),
        dbc.Button(_("Cancel job"), id=ids.JobDetails.CANCEL, color="danger", outline=True, size="sm",
                   style={"display": "none"}),
    ], className="d-flex gap-2 flex-wrap justify-content-end")


def confirm_modal() -> dbc.Modal:
    return dbc.Modal([
        dbc.ModalHeader(dbc.ModalTitle(_("Cancel this fine-tuning job?"), id=f"{ids.JobDetails.CONFIRM_MODAL}-title")),
        dbc.ModalBody(id=ids.JobDetails.CONFIRM_TEXT),
        dbc.ModalFooter([
            dbc.Button(_("Keep it running"), id=ids.JobDetails.CONFIRM_NO, color="secondary", outline=True),
            dbc.Button(_("Cancel job"), id=ids.JobDetails.CONFIRM_YES, color="danger"),
        ]),
    ], id=ids.JobDetails.CONFIRM_MODAL, is_open=False, centered=True, labelledby=f"{ids.JobDetails.CONFIRM_MODAL}-title")


# -- render ------------------------------------------------------------------------------------

@blueprint.callback(
    Output(ids.JobDetails.CANCEL, "style"),
    Output(ids.JobDetails.PAUSE, "style"),
    Output(ids.JobDetails.PAUSE, "disabled"),
    Output(ids.JobDetails.PAUSE, "title"),
    Output(ids.JobDetails.RESUME, "style"),
    Output(ids.JobDetails.RESUME, "disabled"),
    Output(ids.JobDetails.RESUME, "title"),
    Output(ids.JobDetails.ACTION_HELP, "children"),
    Input(ids.JobDetails.SUMMARY, "data"),
    Input(ids.JobDetails.ACTION_SUPPORT, "data"),
    Input(ids.Header.SESSION, "data"),
)
def render_actions(store, support, session=None):
    job = (store or {}).get("job")
    if not job:
        return ({"display": "none"},) * 2 + (False, None, {"display": "none"}, False, None, None)
    if session and not session.get("can_write"):
        # A viewer sees why there are no buttons; the gate refuses a forged request anyway.
        return ({"display": "none"},) * 2 + (True, None, {"display": "none"}, True, None, session.get("reason"))
    actions = available_actions(job.get("status"), support)

    def style(name):
        return {} if actions[name]["show"] else {"display": "none"}

    help_text = [f"{a['title']}." for name, a in actions.items() if a["show"] and a["disabled"]]
    return (style("cancel"), style("pause"), actions["pause"]["disabled"], actions["pause"]["title"],
            style("resume"), actions["resume"]["disabled"], actions["resume"]["title"],
            " ".join(help_text) or None)


# -- actions -----------------------------------------------------------------------------------

@blueprint.callback(
    Output(ids.JobDetails.CONFIRM_MODAL, "is_open"),
    Output(ids.JobDetails.CONFIRM_TEXT, "children"),
    Input(ids.JobDetails.CANCEL, "n_clicks"),
    Input(ids.JobDetails.CONFIRM_NO, "n_clicks"),
    State(ids.JobDetails.SELECTED, "data"),
    prevent_initial_call=True,
)
def toggle_confirm(_cancel, _keep, job_id):
    if ctx.triggered_id == ids.JobDetails.CANCEL and job_id:
        return True, [_("Job "), html.Code(job_id), _(" will stop; steps already trained are not refunded "
                                                     "and it cannot be restarted.")]
    return False, no_update


def _write_outputs(children, color, signal_time):
    return children, color, True, signal_time, signal_time


@blueprint.callback(
    Output(ids.JobDetails.CONFIRM_MODAL, "is_open", allow_duplicate=True),
    Output(ids.JobDetails.ACTION_RESULT, "children"),
    Output(ids.JobDetails.ACTION_RESULT, "color"),
    Output(ids.JobDetails.ACTION_RESULT, "is_open"),
    Output(ids.JobDetails.ACTION_SIGNAL, "data"),
    Output(ids.JobsList.REFRESH_SIGNAL, "data", allow_duplicate=True),
    Input(ids.JobDetails.CONFIRM_YES, "n_clicks"),
    State(ids.JobDetails.SELECTED, "data"),
    prevent_initial_call=True,
    # The confirm button shows progress and cannot be pressed twice while the call runs.
    running=[
        (Output(ids.JobDetails.CONFIRM_YES, "disabled"), True, False),
        (Output(ids.JobDetails.CONFIRM_YES, "children"), N_("Cancelling…"), N_("Cancel job")),
        (Output(ids.JobDetails.CONFIRM_NO, "disabled"), True, False),
        (Output(ids.JobDetails.CANCEL, "disabled"), True, False),
    ],
)
def confirm_cancel(clicks, job_id):
    if not clicks or not job_id:
        return (no_update,) * 6
    try:
        with authorize_write("cancel", job_id):  # role, rate limit and audit trail, before any API call
            job = current_source().cancel_job(job_id)
    except ApiError as error:
        children, color, _ = action_result("cancel", error=error)
    else:
        children, color, _ = action_result("cancel", job)
    return (False, *_write_outputs(children, color, time.time()))


@blueprint.callback(
    Output(ids.JobDetails.ACTION_RESULT, "children", allow_duplicate=True),
    Output(ids.JobDetails.ACTION_RESULT, "color", allow_duplicate=True),
    Output(ids.JobDetails.ACTION_RESULT, "is_open", allow_duplicate=True),
    Output(ids.JobDetails.ACTION_SIGNAL, "data", allow_duplicate=True),
    Output(ids.JobsList.REFRESH_SIGNAL, "data", allow_duplicate=True),
    Output(ids.JobDetails.ACTION_SUPPORT, "data"),
    Input(ids.JobDetails.PAUSE, "n_clicks"),
    Input(ids.JobDetails.RESUME, "n_clicks"),
    State(ids.JobDetails.SELECTED, "data"),
    State(ids.JobDetails.ACTION_SUPPORT, "data"),
    prevent_initial_call=True,
    running=[
        (Output(ids.JobDetails.PAUSE, "disabled"), True, False),
        (Output(ids.JobDetails.RESUME, "disabled"), True, False),
    ],
)
def pause_or_resume(_pause, _resume, job_id, support):
    action = {ids.JobDetails.PAUSE: "pause", ids.JobDetails.RESUME: "resume"}.get(ctx.triggered_id)
    if not action or not job_id or not (ctx.triggered and ctx.triggered[0].get("value")):
        return (no_update,) * 6
    source = current_source()
    call = source.pause_job if action == "pause" else source.resume_job
    try:
        with authorize_write(action, job_id):
            job = call(job_id)
    except ApiError as error:
        children, color, unsupported = action_result(action, error=error)
    else:
        children, color, unsupported = action_result(action, job)
    support_out = {**(support or {}), action: False} if unsupported else no_update
    return (*_write_outputs(children, color, time.time()), support_out)
