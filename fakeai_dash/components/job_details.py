"""JobDetails: fetches the selected job into one store and shows its header and error banner.

The panels below the header live in their own modules; this one composes them into a
static layout (rendered once, hidden while no job is selected) and owns the only
callback that reads the selected job. Its actions (cancel, pause, resume) are job_actions.py.
"""

from __future__ import annotations

import time
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, dcc, html, no_update

from fakeai_dash.server.blueprint import Blueprint
from fakeai_dash import format as fmt
from fakeai_dash import ids
from fakeai_dash.api.client import ApiError
from fakeai_dash.api.models import ACTIVE_STATUSES, FINISHED_STATUSES
from fakeai_dash.auth import allow_refresh
from fakeai_dash.auth.wording import error_text
from fakeai_dash.components import (
    checkpoints,
    cost_tracker,
    events_log,
    hyperparameters,
    job_actions,
    job_audit,
    job_comparison,
    model_comparison,
    status_timeline,
    training_progress,
)
from fakeai_dash.sync.picture import CHECKPOINT_FIELDS, EVENT_FIELDS, JOB_FIELDS, trimmed
from fakeai_dash.data import NoSuchJob, NotReady, WatchRefused, current_source, snapshot_signature
from fakeai_dash.i18n import N_, _, for_scripts
from fakeai_dash.cost import estimate_total_tokens
from fakeai_dash.theme import status_class, status_label

# This component's callbacks: create_app registers them on the app it builds (server/blueprint.py).
blueprint = Blueprint()

# The store carries only what the panels read, never whole API payloads (sync/picture.py's fields).
# What JobDetails.SUMMARY carries: everything in the store except what moves with each step —
# the events, and the job's own per-step fields (OpenAI re-estimates the finish on every read).
SUMMARY_KEYS = ("job_id", "job", "checkpoints", "alerts", "error")
PER_STEP_JOB_FIELDS = ("trained_tokens", "estimated_finish", "expected_tokens")

# Active jobs re-send the store at least this often so elapsed time and ETA keep moving
# even when no new event arrived; finished jobs never do.
CLOCK_BUCKET_S = 10
PLACEHOLDER_CARD = ids.JobDetails.PLACEHOLDER_CARD
SELECT_PROMPT = N_("Select a job on the left to see its timeline, training curves, checkpoints and events.")


# -- pure helpers ------------------------------------------------------------------------------

def detail_payload(detail: dict[str, Any], training_file_bytes: int | None = None) -> dict[str, Any]:
    """The store value for one job: trimmed job, events (oldest first) and checkpoints."""
    job = trimmed(detail["job"], JOB_FIELDS)
    job["expected_tokens"] = estimate_total_tokens(training_file_bytes,
                                                   (job.get("hyperparameters") or {}).get("n_epochs"))
    return {
        "job_id": job["id"],
        "job": job,
        # The sync loop writes them trimmed; trimmed again, the browser gets exactly these fields
        # even from an entry an older version wrote (a rolling deploy shares one Redis).
        "events": [trimmed(event, EVENT_FIELDS) for event in detail.get("events") or []],
        "checkpoints": [trimmed(c, CHECKPOINT_FIELDS) for c in detail.get("checkpoints") or []],
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


def error_parts(error: dict[str, Any] | None) -> dict[str, str] | None:
    """code/message/param of a job error worth showing; None for null, {} or all-null errors."""
    if not isinstance(error, dict) or not any(error.get(key) for key in ("code", "message", "param")):
        return None
    return {key: str(error.get(key)) if error.get(key) else "" for key in ("code", "message", "param")}


# -- layout ------------------------------------------------------------------------------------

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
            job_actions.buttons(),
        ], className="d-flex justify-content-between align-items-start gap-2 flex-wrap"),
        html.Div([fine_tuned, html.Div(id=ids.JobDetails.META, className="detail-meta")],
                 className="detail-header-grid mt-2"),
        html.Div(id=ids.JobDetails.ACTION_HELP, className="detail-action-help"),
        job_audit.layout(),
        dbc.Alert(id=ids.JobDetails.ACTION_RESULT, is_open=False, dismissable=True, className="mt-2 mb-0 py-2"),
        job_actions.confirm_modal(),
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

@blueprint.callback(
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
        source.refresh_job(job_id)  # a nudge: the sync loop refetches now
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


@blueprint.callback(
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
blueprint.clientside_callback(
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

blueprint.clientside_callback(
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


@blueprint.callback(
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


@blueprint.callback(Output(ids.JobDetails.ERROR_BANNER, "children"), Input(ids.JobDetails.SUMMARY, "data"))
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
