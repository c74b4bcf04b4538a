"""CreateJobDialog: the modal that validates a dataset and a form, then creates exactly one fine-tuning job.

Markup and pure helpers live in create_job_form; this module holds the callbacks and the
server-side guard that turns a double submit into one job.
"""

from __future__ import annotations

import threading
import time
import uuid
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, Patch, State, ctx, html, no_update
from flask import current_app

from fakeai_dash.server.blueprint import Blueprint
from fakeai_dash import ids
from fakeai_dash.i18n import N_, _, ngettext
from fakeai_dash.api.client import ApiError
from fakeai_dash.auth import WriteRefused, authorize_write
from fakeai_dash.auth.wording import error_text
from fakeai_dash.components import create_job_form as form
from fakeai_dash.data import DataSource, current_source
from fakeai_dash.dataset import validate_jsonl
from fakeai_dash.job_request import METADATA_MAX_PAIRS, api_param_to_field, validate_form

# This component's callbacks: create_app registers them on the app it builds (server/blueprint.py).
blueprint = Blueprint()

C = ids.CreateJob
# Longer names are cut: the name is shown in the report and sent to the API.
MAX_FILENAME_CHARS = 255
# How long a used token is remembered: far longer than anyone keeps one dialog open.
TOKEN_TTL = 6 * 3600


def layout(upload_limit_mb: float | None = None) -> dbc.Modal:
    return dbc.Modal([
        dbc.ModalHeader(dbc.ModalTitle(_("Create fine-tuning job"), id=f"{C.MODAL}-title")),
        dbc.ModalBody(html.Div(form.form_layout(upload_limit_mb), id=C.BODY)),
        dbc.ModalFooter(form.footer()),
    ], id=C.MODAL, is_open=False, size="lg", scrollable=True, backdrop="static", labelledby=f"{C.MODAL}-title",
        class_name="create-job-dialog")


def _settings() -> Any:
    return current_app.config["FAKEAI_DASH_SETTINGS"]


# -- open / close -----------------------------------------------------------------------------

@blueprint.callback(Output(C.MODAL, "is_open"), Output(C.TOKEN, "data"),
          Input(ids.Header.CREATE, "n_clicks"), Input(C.CANCEL, "n_clicks"), prevent_initial_call=True)
def open_or_close(_create, _cancel):
    if ctx.triggered_id == C.CANCEL:
        return False, no_update
    # A new token per opening: every submit of this opening names the same job-to-be.
    return True, uuid.uuid4().hex


@blueprint.callback(Output(C.MODEL_OPTIONS, "children"), Output(C.MODEL_HELP, "children"),
          Output(C.FILE_OPTIONS, "children"), Output(C.FILES_HELP, "children"),
          Input(C.MODAL, "is_open"), Input(C.DATASET, "data"))
def load_choices(is_open, dataset):
    if not is_open:
        return no_update, no_update, no_update, no_update
    return (*model_choices(current_source()), *file_choices(current_source(), dataset))


def model_choices(source: DataSource) -> tuple[list[html.Option], str]:
    try:
        models = source.models()
    except ApiError:
        # Azure and some proxies have no /models: the field stays free text.
        return [], _("This API does not list models; type the base model's name.")
    return form.model_options(models), _("{count} models available; any name can be typed.").format(count=len(models))


def file_choices(source: DataSource, dataset: Mapping[str, Any] | None) -> tuple[list[html.Option], str]:
    try:
        files = source.files()
    except ApiError as error:
        return [], _("Could not list files ({error}); type a file id.").format(error=error)
    # FakeAI invents a name for uploads: show the name the user chose where we know it.
    names = {}
    if dataset and dataset.get("file_id"):
        names[dataset["file_id"]] = dataset.get("filename")
    files = [{**f, "filename": names.get(f.get("id")) or f.get("filename")} for f in files]
    return form.file_options(files), _("{count} fine-tune file(s) on the server, newest first; or type an id.").format(count=len(files))


@blueprint.callback(Output(C.BETA_ROW, "style"), Input(C.METHOD, "value"))
def toggle_beta(method):
    return {} if method == "dpo" else {"display": "none"}


# -- metadata rows ----------------------------------------------------------------------------

@blueprint.callback(Output(C.METADATA_ROWS, "children"),
          Input(C.METADATA_ADD, "n_clicks"), Input({"type": C.METADATA_REMOVE, "index": ALL}, "n_clicks"),
          State({"type": C.METADATA_KEY, "index": ALL}, "id"), prevent_initial_call=True)
def edit_metadata_rows(add_clicks, _removes, row_ids):
    return metadata_rows_patch(ctx.triggered_id, ctx.triggered[0]["value"] if ctx.triggered else None,
                               add_clicks, row_ids)


def metadata_rows_patch(triggered_id: Any, triggered_value: Any, add_clicks: int | None,
                        row_ids: Sequence[Mapping[str, Any]]) -> Any:
    """A Patch adding or removing one metadata row (patches keep the other rows' typed values)."""
    if triggered_id == C.METADATA_ADD:
        if len(row_ids) >= METADATA_MAX_PAIRS:
            return no_update
        patch = Patch()
        patch.append(form.metadata_row(int(add_clicks or 0)))
        return patch
    # A newly added remove button also "triggers" with no clicks: that is not a removal.
    if isinstance(triggered_id, Mapping) and triggered_value:
        positions = [row["index"] for row in row_ids]
        if triggered_id.get("index") in positions:
            patch = Patch()
            del patch[positions.index(triggered_id["index"])]
            return patch
    return no_update


# -- upload -----------------------------------------------------------------------------------

@blueprint.callback(Output(C.UPLOAD_REPORT, "children"), Output(C.DATASET, "data"),
          Output(C.FIELDS["training_file"], "value"), Output(C.UPLOAD, "contents"),
          Input(C.UPLOAD, "contents"), State(C.UPLOAD, "filename"), State(C.METHOD, "value"),
          State(C.FIELDS["model"], "value"), State(C.FIELDS["n_epochs"], "value"), prevent_initial_call=True)
def upload_dataset(contents, filename, method, model, n_epochs):
    if not contents:
        return no_update, no_update, no_update, no_update
    settings = _settings()
    try:
        # Role, rate limit and audit trail first: a viewer's upload is not even decoded.
        with authorize_write("upload", filename=str(filename or "dataset.jsonl")[:200]) as attempt:
            view, dataset, file_id = check_and_upload(
                current_source(), contents, filename or "dataset.jsonl", method, model, n_epochs,
                limit_bytes=settings.upload_limit_bytes, price_table=settings.price_per_1k_tokens)
            attempt.target = file_id
            if not file_id:
                attempt.failed("not uploaded: the dataset check or the API refused it")
    except WriteRefused as refused:
        return form.refused_view(filename or "dataset.jsonl", error_text(refused)), None, no_update, None
    # Clearing contents drops the file from the browser's state and lets the same file be chosen again.
    return view, dataset, (file_id or no_update), None


def check_and_upload(source: DataSource, contents: str, filename: str, method: str | None, model: str | None,
                     n_epochs: Any, *, limit_bytes: int, price_table: Mapping[str, float] | None
                     ) -> tuple[html.Div, dict[str, Any] | None, str | None]:
    """Validate an uploaded data URL and send it to the API only when valid.

    Returns the report view, the DATASET store value and the new file id (None when refused).
    The request is untrusted: contents and filename may be anything a forged body holds.
    """
    filename = filename.strip()[:MAX_FILENAME_CHARS] if isinstance(filename, str) and filename.strip() \
        else "dataset.jsonl"
    model = model if isinstance(model, str) else None  # it prices the estimate
    if not isinstance(contents, str):
        return form.refused_view(filename, _("the browser sent the file in a form we cannot read; choose it again.")), \
            None, None
    try:
        content = form.decode_upload(contents, limit_bytes)
    except form.UploadRefused as refused:
        return form.refused_view(filename, str(refused)), None, None
    report = validate_jsonl(content, method or "supervised", model=model, n_epochs=n_epochs,
                            price_table=price_table, max_bytes=limit_bytes).to_dict()
    if not report["valid"]:
        return form.report_view(report, filename), {"filename": filename, "report": report, "file_id": None}, None
    try:
        uploaded = source.upload_file(filename, content)
    except ApiError as error:
        return form.refused_view(filename, _("the upload failed: {error}").format(error=error)), None, None
    dataset = {"filename": filename, "report": report, "file_id": uploaded["id"]}
    return form.report_view(report, filename, uploaded["id"]), dataset, uploaded["id"]


@blueprint.callback(Output(C.ESTIMATE, "children"), Input(C.DATASET, "data"), Input(C.FIELDS["n_epochs"], "value"),
          Input(C.FIELDS["model"], "value"), Input(C.FIELDS["training_file"], "value"))
def show_estimate(dataset, n_epochs, model, training_file):
    return form.estimate_view(dataset, n_epochs, model, training_file, _settings().price_per_1k_tokens)


# -- submit -----------------------------------------------------------------------------------

_FIELD_OUTPUTS = ([Output(C.FIELDS[f], "invalid") for f in form.TEXT_FIELDS]
                  + [Output(form.feedback_id(f), "children") for f in form.TEXT_FIELDS])


@blueprint.callback(
    *_FIELD_OUTPUTS,
    Output(C.METHOD_FEEDBACK, "children"), Output(C.METADATA_FEEDBACK, "children"),
    Output(C.API_ERROR, "children"), Output(C.API_ERROR, "is_open"),
    Output(C.MODAL, "is_open", allow_duplicate=True),
    Output(ids.JobsList.REFRESH_SIGNAL, "data", allow_duplicate=True),
    Output(ids.Page.LOCATION, "pathname", allow_duplicate=True),
    Input(C.SUBMIT, "n_clicks"),
    *[State(C.FIELDS[f], "value") for f in form.TEXT_FIELDS],
    State(C.METHOD, "value"),
    State({"type": C.METADATA_KEY, "index": ALL}, "value"),
    State({"type": C.METADATA_VALUE, "index": ALL}, "value"),
    State(C.TOKEN, "data"),
    # Disabled from the moment the request leaves until its answer: the first guard against double clicks.
    running=[(Output(C.SUBMIT, "disabled"), True, False),
             (Output(C.SUBMIT, "children"), [dbc.Spinner(size="sm", spinner_class_name="me-2"), N_("Creating…")],
              N_("Create job"))],
    prevent_initial_call=True,
)
def submit(_clicks, *states):
    *field_values, method, metadata_keys, metadata_values, token = states
    raw = raw_form(dict(zip(form.TEXT_FIELDS, field_values)), method, metadata_keys, metadata_values)
    try:
        with authorize_write("create", model=str(raw.get("model"))[:200],
                             training_file=str(raw.get("training_file"))[:200]) as attempt:
            outcome = submit_form(current_source(), raw, token)
            attempt.target = outcome.get("job_id")
            if not attempt.target:
                attempt.failed(outcome.get("api_error") or "nothing sent: the form has errors")
    except WriteRefused as refused:
        outcome = {"api_error": error_text(refused), "field": None, "refused": True}
    return submit_outputs(outcome)


def raw_form(values: Mapping[str, Any], method: Any, keys: Sequence[Any], metadata_values: Sequence[Any]) -> dict[str, Any]:
    """The form's raw input as job_request.validate_form reads it."""
    return {**values, "method": method,
            "metadata": [{"key": k, "value": v} for k, v in zip(keys, metadata_values)]}


def submit_form(source: DataSource, raw: Mapping[str, Any], token: str | None) -> dict[str, Any]:
    """Validate, then create at most one job per token.

    Returns ``{"errors": {field: message}}`` (nothing sent), ``{"api_error": str, "field": f}``
    or ``{"job_id": id}``.
    """
    parsed, errors = validate_form(raw)
    if parsed is None:
        return {"errors": {field: _without_prefix(field, text) for field, text in errors.items()}}
    try:
        job_id = create_once(source, token or uuid.uuid4().hex, parsed.to_payload())
    except ApiError as error:
        return {"api_error": str(error), "field": api_param_to_field(error.param) or _field_named_in(error.message)}
    except DuplicateSubmit as duplicate:
        return {"api_error": str(duplicate), "field": None}
    return {"job_id": job_id}


def submit_outputs(outcome: Mapping[str, Any]) -> list[Any]:
    """The submit callback's outputs for an outcome of submit_form, in _FIELD_OUTPUTS order."""
    errors = dict(outcome.get("errors") or {})
    api_error = outcome.get("api_error")
    if api_error and outcome.get("field"):
        errors[outcome["field"]] = api_error
    invalid = [field in errors for field in form.TEXT_FIELDS]
    feedback = [errors.get(field) for field in form.TEXT_FIELDS]
    if outcome.get("job_id"):
        path = dash.get_relative_path(f"/jobs/{outcome['job_id']}")
        return [*invalid, *feedback, None, None, None, False, False, time.time(), path]
    if outcome.get("refused"):
        alert = [html.Strong(_("Nothing was sent. ")), html.Span(api_error, className="api-error-message")]
    elif api_error:
        alert = [html.Strong(_("The API refused the job. ")), html.Span(api_error, className="api-error-message")]
    else:
        # Some messages sit below the fold of a long form: say at the top that nothing was sent.
        count = len(errors)
        alert = [html.Strong(_("Nothing was sent. ")), ngettext("Fix the {count} highlighted field.", "Fix the {count} highlighted fields.", count).format(count=count)]
    return [*invalid, *feedback, errors.get("method"), errors.get("metadata"), alert, True,
            no_update, no_update, no_update]


def _without_prefix(field: str, text: str) -> str:
    # validate_form says "n_epochs: must be ..."; next to the n_epochs input the name is noise.
    return text.removeprefix(f"{field}: ")


def _field_named_in(message: str | None) -> str | None:
    """FakeAI's 400s name the file in prose only ("Training file X not found")."""
    text = (message or "").lower()
    if text.startswith("training file"):
        return "training_file"
    if text.startswith("validation file"):
        return "validation_file"
    return None


# -- one job per token ------------------------------------------------------------------------

class DuplicateSubmit(Exception):
    """Another worker is still creating the job for this token."""


_token_locks: weakref.WeakValueDictionary[str, threading.Lock] = weakref.WeakValueDictionary()
_token_locks_guard = threading.Lock()


def _token_lock(token: str) -> threading.Lock:
    # Weak values: a token's lock disappears once no request holds it, so nothing accumulates.
    with _token_locks_guard:
        lock = _token_locks.get(token)
        if lock is None:
            lock = _token_locks[token] = threading.Lock()
        return lock


def create_once(source: DataSource, token: str, payload: Mapping[str, Any]) -> str:
    """Create the job for ``token`` once; a repeat returns the first job's id without a request.

    Within a process a second submit waits for the first and gets its answer. Across gunicorn
    workers the shared store's atomic ``add`` claims the token (Redis SET NX; diskcache's add on one host), so a worker that
    loses the race refuses instead of creating. A failed create releases the token: fixing the
    form and submitting again must work.
    """
    key = f"create-job-token:{token}"
    lock = _token_lock(token)
    with lock:
        seen = source.claimed(key)
        if seen and seen.get("job_id"):
            return seen["job_id"]
        if seen or not source.claim(key, {"pending": True}, TOKEN_TTL):
            raise DuplicateSubmit(_("This job is already being created; it will appear in the list shortly."))
        try:
            job = source.create_job(dict(payload))
        except BaseException:
            source.release_claim(key)
            raise
        source.set_claim(key, {"job_id": job["id"]}, TOKEN_TTL)
        return job["id"]
