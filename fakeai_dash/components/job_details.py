"""JobDetails: fetches the selected job into one store and shows its header, actions and error banner.

The panels below the header live in their own modules; this one composes them into a
static layout (rendered once, hidden while no job is selected) and owns the only
callback that does I/O for the selected job.
"""

from __future__ import annotations

import time
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update

from fakeai_dash import format as fmt
from fakeai_dash import ids
from fakeai_dash.api.client import ApiError
from fakeai_dash.api.models import ACTIVE_STATUSES, FINISHED_STATUSES
from fakeai_dash.auth import allow_refresh, authorize_write
from fakeai_dash.auth.wording import error_text
from fakeai_dash.components import (
    checkpoints,
    cost_tracker,
    events_log,
    header,
    hyperparameters,
    job_audit,
    job_comparison,
    model_comparison,
    status_timeline,
    training_progress,
)
from fakeai_dash.data import NoSuchJob, NotReady, WatchRefused, current_source, snapshot_signature
from fakeai_dash.i18n import N_, _, for_scripts
from fakeai_dash.cost import estimate_total_tokens
from fakeai_dash.theme import status_class, status_label

# The store carries only what the panels read, never whole API payloads.
JOB_FIELDS = ("id", "model", "status", "created_at", "finished_at", "fine_tuned_model", "suffix",
              "trained_tokens", "hyperparameters", "method_type", "seed", "estimated_finish", "error",
              "training_file")
EVENT_FIELDS = ("id", "created_at", "level", "message", "type", "data")
CHECKPOINT_FIELDS = ("id", "created_at", "step_number", "metrics", "fine_tuned_model_checkpoint")
# What JobDetails.SUMMARY carries: everything in the store except what moves with each step —
# the events, and the job's own per-step fields (OpenAI re-estimates the finish on every read).
SUMMARY_KEYS = ("job_id", "job", "checkpoints", "alerts", "error")
PER_STEP_JOB_FIELDS = ("trained_tokens", "estimated_finish", "expected_tokens")

# Every job still in flight can be cancelled.
CANCELLABLE = ACTIVE_STATUSES
# Active jobs re-send the store at least this often so elapsed time and ETA keep moving
# even when no new event arrived; finished jobs never do.
CLOCK_BUCKET_S = 10
UNSUPPORTED_STATUSES = (404, 405, 501)
PLACEHOLDER_CARD = ids.JobDetails.PLACEHOLDER_CARD
SELECT_PROMPT = N_("Select a job on the left to see its timeline, training curves, checkpoints and events.")


# -- pure helpers ------------------------------------------------------------------------------

def detail_payload(detail: dict[str, Any], training_file_bytes: int | None = None) -> dict[str, Any]:
    """The store value for one job: trimmed job, events (oldest first) and checkpoints."""
    job = {key: detail["job"].get(key) for key in JOB_FIELDS}
    job["expected_tokens"] = estimate_total_tokens(training_file_bytes,
                                                   (job.get("hyperparameters") or {}).get("n_epochs"))
    return {
        "job_id": job["id"],
        "job": job,
        "events": [{key: event.get(key) for key in EVENT_FIELDS} for event in detail.get("events") or []],
        "checkpoints": [{key: c.get(key) for key in CHECKPOINT_FIELDS} for c in detail.get("checkpoints") or []],
        # How much of the history the server holds: the chart says "loading history 40%".
        "history": detail.get("history"),
        # Training-health alerts the sync loop found (alerts.py): the banner and the chart mark.
        "alerts": detail.get("alerts") or [],
    }


def payload_signature(payload: dict[str, Any], now: float) -> str:
    status = (payload.get("job") or {}).get("status")
    clock = int(now // CLOCK_BUCKET_S) if status in ACTIVE_STATUSES else None
    return snapshot_signature([payload, clock])


def summary_slice(payload: dict[str, Any] | None) -> dict[str, Any] | None:
    """The store's part read by the panels that show the job itself, not its training steps."""
    if payload is None:
        return None
    summary = {key: payload[key] for key in SUMMARY_KEYS if key in payload}
    if summary.get("job"):
        summary["job"] = {k: v for k, v in summary["job"].items() if k not in PER_STEP_JOB_FIELDS}
    return summary


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


def error_parts(error: dict[str, Any] | None) -> dict[str, str] | None:
    """code/message/param of a job error worth showing; None for null, {} or all-null errors."""
    if not isinstance(error, dict) or not any(error.get(key) for key in ("code", "message", "param")):
        return None
    return {key: str(error.get(key)) if error.get(key) else "" for key in ("code", "message", "param")}


# -- layout ------------------------------------------------------------------------------------

def _action_buttons() -> html.Div:
    return html.Div([
        dbc.Button(_("Pause"), id=ids.JobDetails.PAUSE, color="secondary", outline=True, size="sm",
                   style={"display": "none"}),
        dbc.Button(_("Resume"), id=ids.JobDetails.RESUME, color="primary", outline=True, size="sm",
                   style={"display": "none"}),
        dbc.Button(_("Cancel job"), id=ids.JobDetails.CANCEL, color="danger", outline=True, size="sm",
                   style={"display": "none"}),
    ], className="d-flex gap-2 flex-wrap justify-content-end")


def _confirm_modal() -> dbc.Modal:
    return dbc.Modal([
        dbc.ModalHeader(dbc.ModalTitle(_("Cancel this fine-tuning job?"), id=f"{ids.JobDetails.CONFIRM_MODAL}-title")),
        dbc.ModalBody(id=ids.JobDetails.CONFIRM_TEXT),
        dbc.ModalFooter([
            dbc.Button(_("Keep it running"), id=ids.JobDetails.CONFIRM_NO, color="secondary", outline=True),
            dbc.Button(_("Cancel job"), id=ids.JobDetails.CONFIRM_YES, color="danger"),
        ]),
    ], id=ids.JobDetails.CONFIRM_MODAL, is_open=False, centered=True, labelledby=f"{ids.JobDetails.CONFIRM_MODAL}-title")


def _header_card() -> dbc.Card:
    fine_tuned = html.Div([
        html.Span(_("Fine-tuned model"), className="detail-label"),
        html.Div([
            html.Span(id=ids.JobDetails.FINE_TUNED, className="mono detail-ft-name"),
            dcc.Clipboard(id=ids.JobDetails.FINE_TUNED_COPY, target_id=ids.JobDetails.FINE_TUNED,
                          title=_("Copy the fine-tuned model name"), className="copy-button",
                          style={"display": "none"}),
        ], className="d-flex align-items-center gap-2"),
    ])
    return dbc.Card(dbc.CardBody([
        html.Div([
            html.Div([
                html.Div([
                    html.Span(id=ids.JobDetails.JOB_ID, className="mono detail-job-id"),
                    html.Span(id=ids.JobDetails.STATUS, className="status-badge"),
                ], className="d-flex align-items-center gap-2 flex-wrap"),
                html.Div(id=ids.JobDetails.MODEL, className="detail-model"),
            ]),
            _action_buttons(),
        ], className="d-flex justify-content-between align-items-start gap-2 flex-wrap"),
        html.Div([fine_tuned, html.Div(id=ids.JobDetails.META, className="detail-meta")],
                 className="detail-header-grid mt-2"),
        html.Div(id=ids.JobDetails.ACTION_HELP, className="detail-action-help"),
        job_audit.layout(),
        dbc.Alert(id=ids.JobDetails.ACTION_RESULT, is_open=False, dismissable=True, className="mt-2 mb-0 py-2"),
        _confirm_modal(),
    ]), className="detail-card mb-3", id=ids.JobDetails.HEADER)


def layout() -> html.Div:
    body = html.Div([
        _header_card(),
        html.Div(id=ids.JobDetails.ERROR_BANNER),
        html.Div(id=ids.Alerts.BANNER),
        status_timeline.layout(),
        dbc.Row([dbc.Col(hyperparameters.layout(), md=6), dbc.Col(cost_tracker.layout(), md=6)],
                className="g-3 mb-3"),
        training_progress.layout(),
        checkpoints.layout(),
        model_comparison.layout(),
        events_log.layout(),
        job_comparison.layout(),
    ], id=ids.JobDetails.BODY, style={"display": "none"})
    placeholder = dbc.Card(dbc.CardBody(_(SELECT_PROMPT), id=ids.JobDetails.PLACEHOLDER,
                                        className="details-placeholder"), id=PLACEHOLDER_CARD)
    return html.Div([placeholder, body], id=ids.JobDetails.CONTAINER)


# -- fetch -------------------------------------------------------------------------------------

@callback(
    Output(ids.JobDetails.STORE, "data"),
    Output(ids.JobDetails.SIGNATURE, "data"),
    Output(ids.JobDetails.SUMMARY, "data"),
    Input(ids.Page.INTERVAL, "n_intervals"),
    Input(ids.JobDetails.SELECTED, "data"),
    Input(ids.JobDetails.ACTION_SIGNAL, "data"),
    Input(ids.Header.REFRESH, "n_clicks"),
    State(ids.JobDetails.SIGNATURE, "data"),
    Input(ids.Push.JOB_SIGNAL, "data"),  # pushed: a shown job changed (read like a tick)
)
def fetch_job_detail(_ticks, job_id, _action, _refresh, signature, _pushed=None):
    """(store, signature, summary). The summary is sent only when it changed: a new step then
    redraws the charts, the timeline, the cost and the log, and nothing else."""
    if not job_id:
        return (None, None, None) if signature else (no_update,) * 3
    signature = signature or {}
    same_job = signature.get("job_id") == job_id
    forced = ctx.triggered_id in (ids.JobDetails.ACTION_SIGNAL, ids.Header.REFRESH)
    if same_job and signature.get("final") and not forced:
        return (no_update,) * 3  # a finished job's final state is on screen: no I/O at all
    source = current_source()
    if forced and allow_refresh("job"):  # per-user limit: a forced refresh is still a nudge
        source.invalidate(f"job:{job_id}")  # a nudge: the sync loop refetches now
    try:
        detail = source.job_detail(job_id)
    except NotReady:
        return (no_update,) * 3  # "Loading job…" stays; the next tick looks again
    except NoSuchJob as error:
        # Said once and settled ("final"): the page's ticks stop asking; a forced refresh still may.
        missing = {"job_id": job_id, "error": str(error), "missing": True}
        return missing, {"job_id": job_id, "signature": None, "final": True}, missing
    except ApiError as error:
        if same_job and signature.get("signature"):
            return (no_update,) * 3  # keep the last good data; the API banner explains
        failed = {"job_id": job_id, "error": error_text(error) if isinstance(error, WatchRefused) else str(error)}
        return failed, {"job_id": job_id, "signature": None, "final": False}, failed
    return detail_stores(job_id, detail, signature)


def detail_stores(job_id: str, detail: dict[str, Any], signature: dict[str, Any] | None = None) -> tuple:
    """(store, signature, summary) for the picture's ``detail`` of ``job_id``, sent to a page
    whose signature store holds ``signature``: no_update for what it already has. The fetch
    runs it on every tick; first_view for the page's layout (no signature yet)."""
    signature = signature or {}
    same_job = signature.get("job_id") == job_id
    payload = detail_payload(detail, detail.get("training_file_bytes"))
    digest = payload_signature(payload, time.time())
    new_signature = {"job_id": job_id, "signature": digest,
                     # Settled, per the sync loop: finished AND its whole history loaded (a status
                     # flips before the last events and the older history have arrived).
                     "final": bool(detail.get("final")),
                     "summary": signature.get("summary")}
    if same_job and digest == signature.get("signature"):
        # Nothing new (the usual tick): the summary, part of the payload, is unchanged too.
        return no_update, (new_signature if new_signature != signature else no_update), no_update
    summary = summary_slice(payload)
    new_signature["summary"] = snapshot_signature(summary)
    summary_changed = not same_job or new_signature["summary"] != signature.get("summary")
    return payload, new_signature, summary if summary_changed else no_update


# -- render ------------------------------------------------------------------------------------

def is_current(store: dict[str, Any] | None, job_id: str | None) -> bool:
    """True when the store holds data of ``job_id``: never show one job's data under another."""
    return bool(store and job_id and store.get("job_id") == job_id and store.get("job"))


def _explained(title: str, reason: str) -> html.Div:
    # One block: the placeholder centres its children in a row, which ran title and reason together.
    return html.Div([html.Div(title, className="empty-title"), html.Div(reason)], className="empty-state")


@callback(
    Output(ids.JobDetails.PLACEHOLDER, "children"),
    Output(PLACEHOLDER_CARD, "style"),
    Output(ids.JobDetails.BODY, "style"),
    Input(ids.JobDetails.SELECTED, "data"),
    Input(ids.JobDetails.SUMMARY, "data"),
)
def show_details(job_id, store):
    """The placeholder for no job, a failed load or a load under way. Revealing the body is
    reveal_when_rendered's job: only it knows every panel has drawn the selected job."""
    hidden, shown = {"display": "none"}, {}
    if not job_id:
        return _(SELECT_PROMPT), shown, hidden
    if is_current(store, job_id):
        return no_update, no_update, no_update
    if store and store.get("job_id") == job_id and store.get("missing"):
        return _explained(_("No such job"), store["error"]), shown, hidden
    if store and store.get("job_id") == job_id and store.get("error"):
        return _explained(_("Job {job_id} could not be loaded").format(job_id=job_id), store["error"]), shown, hidden
    return [dbc.Spinner(size="sm", color="success", spinner_class_name="me-2"), _("Loading job {job_id}…").format(job_id=job_id)], shown, hidden


# Switching jobs never shows one job's data under another's header. The panels render in
# parallel requests that land in any order, so: hide the body in the browser the moment the
# selection changes, and reveal it only after every panel has drawn the selected job — Dash
# runs a callback only once all pending callbacks that feed its inputs have finished.
clientside_callback(
    """function (selected, store) {
        const nu = window.dash_clientside.no_update;
        if (!selected || (store && store.job_id === selected && store.job)) { return [nu, nu, nu]; }
        return [T("%s", {job_id: selected}), {}, {display: "none"}];
    }""" % for_scripts("Loading job {job_id}…"),
    Output(ids.JobDetails.PLACEHOLDER, "children", allow_duplicate=True),
    Output(PLACEHOLDER_CARD, "style", allow_duplicate=True),
    Output(ids.JobDetails.BODY, "style", allow_duplicate=True),
    Input(ids.JobDetails.SELECTED, "data"),
    State(ids.JobDetails.STORE, "data"),
    prevent_initial_call=True,
)

PANEL_OUTPUTS = (
    (ids.StatusTimeline.BODY, "children"), (ids.Hyperparameters.BODY, "children"),
    # The charts' drawn-state store, written with their figures: the graphs themselves mount
    # only once plotly.js has loaded (lazy_graphs.py), and a missing Input is an error.
    (ids.CostTracker.BODY, "children"), (ids.TrainingProgress.DRAWN, "data"), (ids.Checkpoints.BODY, "children"),
    (ids.ModelComparison.BODY, "children"), (ids.EventsLog.LIST, "children"),
)

clientside_callback(
    """function (shownJobId) {
        const selected = arguments[arguments.length - 1];
        const nu = window.dash_clientside.no_update;
        return shownJobId && shownJobId === selected ? [{display: "none"}, {}] : [nu, nu];
    }""",
    Output(PLACEHOLDER_CARD, "style", allow_duplicate=True),
    Output(ids.JobDetails.BODY, "style", allow_duplicate=True),
    Input(ids.JobDetails.JOB_ID, "children"),
    *[Input(component, prop) for component, prop in PANEL_OUTPUTS],
    State(ids.JobDetails.SELECTED, "data"),
    prevent_initial_call=True,
)


@callback(
    Output(ids.JobDetails.JOB_ID, "children"),
    Output(ids.JobDetails.STATUS, "children"),
    Output(ids.JobDetails.STATUS, "className"),
    Output(ids.JobDetails.MODEL, "children"),
    Output(ids.JobDetails.FINE_TUNED, "children"),
    Output(ids.JobDetails.FINE_TUNED_COPY, "style"),
    Output(ids.JobDetails.META, "children"),
    Input(ids.JobDetails.SUMMARY, "data"),
)
def render_header(store):
    job = (store or {}).get("job")
    if not job:
        return no_update, no_update, no_update, no_update, no_update, no_update, no_update
    status = job.get("status")
    meta = [
        _meta(_("Suffix"), job.get("suffix") or fmt.MISSING),
        _meta(_("Created"), fmt.short_time(job.get("created_at")), fmt.absolute_time(job.get("created_at"))),
        _meta(_("Finished"), fmt.short_time(job.get("finished_at")), fmt.absolute_time(job.get("finished_at"))),
    ]
    fine_tuned = job.get("fine_tuned_model")
    return (job["id"], status_label(status), f"status-badge {status_class(status)}",
            [_("Base model "), html.Strong(job.get("model") or fmt.MISSING)],
            fine_tuned or (_("none") if status in FINISHED_STATUSES else _("not yet available")),
            {} if fine_tuned else {"display": "none"}, meta)


def _meta(label: str, value: str, title: str | None = None) -> html.Div:
    return html.Div([html.Span(label, className="detail-label"), html.Span(value, title=title)],
                    className="detail-meta-item")


@callback(
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
    Input(header.SESSION, "data"),
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


@callback(Output(ids.JobDetails.ERROR_BANNER, "children"), Input(ids.JobDetails.SUMMARY, "data"))
def render_error_banner(store):
    parts = error_parts(((store or {}).get("job") or {}).get("error"))
    if parts is None:
        return None
    fields = [html.Div([html.Span(label, className="detail-label"), html.Code(parts[key] or fmt.MISSING)],
                       className="error-field") for key, label in (("code", _("Code")), ("param", _("Param")))]
    return dbc.Alert([
        html.Div(_("Job failed") if store["job"].get("status") == "failed" else _("Job error"), className="alert-heading fw-bold"),
        html.Div(parts["message"] or _("The API gave no message."), className="error-message"),
        html.Div(fields, className="d-flex gap-4 mt-1 flex-wrap"),
    ], color="danger", className="job-error-banner mb-3")


# -- actions -----------------------------------------------------------------------------------

@callback(
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


@callback(
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


@callback(
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
