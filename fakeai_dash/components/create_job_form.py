"""The create-job dialog's markup and its pure helpers: form fields, file labels, dataset report and cost text."""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Mapping, Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from fakeai_dash import format as fmt
from fakeai_dash import ids
from fakeai_dash.config import megabytes
from fakeai_dash.dataset import CHARS_PER_TOKEN, DEFAULT_EPOCHS, MIN_EXAMPLES, DatasetReport
from fakeai_dash.job_request import (
    BATCH_SIZE_RANGE, MAX_BETA, MAX_LEARNING_RATE_MULTIPLIER, METADATA_KEY_MAX_LENGTH,
    METADATA_MAX_PAIRS, METADATA_VALUE_MAX_LENGTH, N_EPOCHS_RANGE, SEED_RANGE, SUFFIX_MAX_LENGTH,
)
from fakeai_dash.pricing import price_per_1k_tokens, training_cost
from fakeai_dash.i18n import _, ngettext

# The text inputs in the order the callbacks list them (ids.CreateJob.FIELDS keys).
TEXT_FIELDS = tuple(ids.CreateJob.FIELDS)
_MB = 1024 * 1024


def feedback_id(field: str) -> str:
    return f"{ids.CreateJob.FIELDS[field]}-feedback"


# -- layout -----------------------------------------------------------------------------------

def _text_input(field: str, label: str, *, placeholder: str = "", help_text: str | Any = None,
                datalist: str | None = None, inputmode: str | None = None, maxlength: int | None = None,
                help_id: str | None = None) -> html.Div:
    control = dbc.Input(id=ids.CreateJob.FIELDS[field], type="text", placeholder=placeholder,
                        list=datalist, inputmode=inputmode, maxLength=maxlength, autocomplete="off",
                        size="sm")
    parts: list[Any] = [dbc.Label(label, html_for=ids.CreateJob.FIELDS[field], className="mb-1"), control,
                        dbc.FormFeedback(id=feedback_id(field), type="invalid")]
    if help_text is not None or help_id:
        parts.append(dbc.FormText(help_text, id=help_id) if help_id else dbc.FormText(help_text))
    return html.Div(parts, className="mb-3")


def _upload(limit_mb: float | None) -> html.Div:
    limit_bytes = megabytes(limit_mb) if limit_mb else None
    # The browser refuses a file over the limit before sending it (max_size), and
    # assets/upload_limit.js says so: sent, it would only meet the server's 413.
    return html.Div([
        # The file input inside has no label of its own: assets/a11y.js names it from data-a11y-*.
        html.Div(dcc.Upload(
            id=ids.CreateJob.UPLOAD, accept=".jsonl,.json,application/jsonl,application/json,text/plain",
            multiple=False, className="jsonl-upload", className_active="jsonl-upload active",
            max_size=limit_bytes or -1,
            children=html.Div([_("Drop a JSONL training file here or "), html.Span(_("choose one"), className="link"),
                               html.Div(_("It is checked here first; only a valid file is uploaded."),
                                        className="upload-hint")]),
        ), **{"data-a11y-name": _("Training file (JSONL)"), "data-a11y-targets": "input[type=file]"}),
        dcc.Loading(html.Div(id=ids.CreateJob.UPLOAD_REPORT), type="dot", color="#76b900",
                    delay_show=200),
    ], className="mb-3", id=ids.CreateJob.UPLOAD_BOX,
       **{"data-limit-bytes": str(limit_bytes or ""), "data-limit-mb": f"{limit_mb:g}" if limit_mb else ""})


def _hyperparameters() -> dbc.Row:
    low, high = N_EPOCHS_RANGE
    b_low, b_high = BATCH_SIZE_RANGE
    return dbc.Row([
        dbc.Col(_text_input("n_epochs", _("Epochs"), placeholder=_("auto"), inputmode="numeric",
                            help_text=_("{low}–{high} or auto").format(low=low, high=high)), md=4),
        dbc.Col(_text_input("batch_size", _("Batch size"), placeholder=_("auto"), inputmode="numeric",
                            help_text=_("{low}–{high} or auto").format(low=b_low, high=b_high)), md=4),
        dbc.Col(_text_input("learning_rate_multiplier", _("Learning-rate multiplier"), placeholder=_("auto"),
                            inputmode="decimal", help_text=_("> 0 and ≤ {max}, or auto").format(max=f"{MAX_LEARNING_RATE_MULTIPLIER:g}")),
                md=4),
    ], className="g-2")


def metadata_row(index: int) -> dbc.Row:
    """One key/value metadata line; ``index`` only has to be unique within the dialog."""
    return dbc.Row([
        dbc.Col(dbc.Input(id={"type": ids.CreateJob.METADATA_KEY, "index": index}, placeholder="key", size="sm",
                          maxLength=METADATA_KEY_MAX_LENGTH * 2, autocomplete="off"), width=4),
        dbc.Col(dbc.Input(id={"type": ids.CreateJob.METADATA_VALUE, "index": index}, placeholder="value",
                          size="sm", autocomplete="off"), width=7),
        dbc.Col(dbc.Button("×", id={"type": ids.CreateJob.METADATA_REMOVE, "index": index}, color="link",
                           size="sm", className="metadata-remove", title=_("Remove this pair")), width=1),
    ], className="g-2 mb-2 metadata-row")


def _metadata() -> html.Div:
    return html.Div([
        html.Div([
            dbc.Label(_("Metadata"), className="mb-1"),
            dbc.Button(_("+ Add pair"), id=ids.CreateJob.METADATA_ADD, color="link", size="sm",
                       className="p-0 ms-2 metadata-add"),
        ], className="d-flex align-items-center"),
        html.Div([], id=ids.CreateJob.METADATA_ROWS),
        html.Div(id=ids.CreateJob.METADATA_FEEDBACK, className="invalid-feedback d-block"),
        dbc.FormText(_("Optional; up to {pairs} pairs, keys ≤ {key_length} and values ≤ {value_length} characters.")
                     .format(pairs=METADATA_MAX_PAIRS, key_length=METADATA_KEY_MAX_LENGTH,
                             value_length=METADATA_VALUE_MAX_LENGTH)),
    ], className="mb-3")


def form_layout(upload_limit_mb: float | None = None) -> html.Div:
    """Every field of the dialog's body; values persist across openings until a job is created."""
    method = html.Div([
        dbc.Label(_("Method"), html_for=ids.CreateJob.METHOD, className="mb-1"),
        dbc.RadioItems(id=ids.CreateJob.METHOD, inline=True, value="supervised",
                       options=[{"label": _("Supervised"), "value": "supervised"},
                                {"label": _("DPO (preference)"), "value": "dpo"}]),
        html.Div(id=ids.CreateJob.METHOD_FEEDBACK, className="invalid-feedback d-block"),
    ], className="mb-3")
    beta = html.Div(_text_input("beta", _("DPO beta"), placeholder=_("auto"), inputmode="decimal",
                                help_text=_("> 0 and ≤ {max}, or auto").format(max=f"{MAX_BETA:g}")),
                    id=ids.CreateJob.BETA_ROW, style={"display": "none"})
    seed_low, seed_high = SEED_RANGE
    return html.Div([
        dcc.Store(id=ids.CreateJob.DATASET),
        dcc.Store(id=ids.CreateJob.TOKEN),
        html.Datalist(id=ids.CreateJob.MODEL_OPTIONS),
        html.Datalist(id=ids.CreateJob.FILE_OPTIONS),
        dbc.Alert(id=ids.CreateJob.API_ERROR, color="danger", is_open=False, className="api-error"),
        _text_input("model", _("Base model"), placeholder=_("Pick or type a model name"), datalist=ids.CreateJob.MODEL_OPTIONS,
                    help_id=ids.CreateJob.MODEL_HELP),
        method,
        _text_input("training_file", _("Training file"), placeholder=_("Pick a file or type its id (file-…)"),
                    datalist=ids.CreateJob.FILE_OPTIONS, help_id=ids.CreateJob.FILES_HELP),
        _upload(upload_limit_mb),
        _text_input("validation_file", _("Validation file (optional)"), placeholder=_("Pick a file or type its id"),
                    datalist=ids.CreateJob.FILE_OPTIONS),
        html.Div(_("Hyperparameters"), className="form-section-title"),
        _hyperparameters(),
        beta,
        dbc.Row([
            dbc.Col(_text_input("suffix", _("Suffix (optional)"), placeholder=_("my-experiment"), maxlength=SUFFIX_MAX_LENGTH * 2,
                                help_text=_("≤ {max} characters: letters, digits, - and _").format(max=SUFFIX_MAX_LENGTH)), md=8),
            dbc.Col(_text_input("seed", _("Seed (optional)"), placeholder=_("random"), inputmode="numeric",
                                help_text=f"{seed_low}–{fmt.number(seed_high)}"), md=4),
        ], className="g-2"),
        _metadata(),
        html.Div(id=ids.CreateJob.ESTIMATE, className="cost-estimate"),
    ])


def footer() -> list[Any]:
    return [
        # Beside the submit button, where it is seen before submitting (components/budget_warning.py).
        html.Div(id=ids.Budget.WARNING, className="budget-warning-box me-auto"),
        dbc.Button(_("Cancel"), id=ids.CreateJob.CANCEL, color="secondary", outline=True),
        dbc.Button(_("Create job"), id=ids.CreateJob.SUBMIT, color="primary"),
    ]


# -- choices ----------------------------------------------------------------------------------

def file_label(file: Mapping[str, Any], now: float | None = None) -> str:
    """What the file picker shows beside an id: name, size and age."""
    size = file.get("bytes")
    size_text = _size(size) if isinstance(size, (int, float)) else _("size unknown")
    created = fmt.relative_time(file.get("created_at"), now or time.time()) if file.get("created_at") else "—"
    return f"{file.get('filename') or _('(unnamed)')} · {size_text} · {created}"


def file_options(files: Sequence[Mapping[str, Any]], now: float | None = None) -> list[html.Option]:
    ordered = sorted(files, key=lambda f: f.get("created_at") or 0, reverse=True)
    return [html.Option(value=f["id"], label=file_label(f, now)) for f in ordered if f.get("id")]


def model_options(models: Sequence[str]) -> list[html.Option]:
    return [html.Option(value=m) for m in models]


def _size(n: float) -> str:
    if n < 1024:
        return f"{int(n)} B"
    if n < _MB:
        return f"{n / 1024:.1f} KB"
    return f"{n / _MB:.1f} MB"


# -- upload -----------------------------------------------------------------------------------

class UploadRefused(ValueError):
    """The browser sent something we will not parse (too big, or not a data URL)."""


def decode_upload(contents: str, limit_bytes: int) -> bytes:
    """The bytes of a dcc.Upload data URL, refusing files over ``limit_bytes`` before decoding them."""
    header, sep, payload = (contents or "").partition(",")
    if not sep or ";base64" not in header:
        raise UploadRefused(_("The browser sent the file in a form we cannot read; choose it again."))
    # base64 carries 3 bytes per 4 characters: the size is known without decoding anything.
    size = len(payload) * 3 // 4 - payload[-2:].count("=")
    if size > limit_bytes:
        raise UploadRefused(_("The file is {size} MB; files up to {limit} MB can be uploaded from the browser. "
                              "Upload larger files with the API and type their id.")
                            .format(size=fmt.number(size / _MB, 1), limit=f"{limit_bytes / _MB:g}"))
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise UploadRefused(_("The file could not be decoded; choose it again.")) from None


def report_view(report: Mapping[str, Any], filename: str, file_id: str | None = None) -> html.Div:
    """The validation report of one dataset: verdict, stats, and the first line-numbered errors."""
    parsed = DatasetReport.from_dict(report)
    fmt_label = "DPO" if parsed.method == "dpo" else _("chat")
    if parsed.valid and file_id:
        title = [html.Strong(f"✓ {filename}"), _(" is a valid {format} dataset and was uploaded as ").format(format=fmt_label),
                 html.Code(file_id), _(".")]
    elif parsed.valid:
        title = [html.Strong(f"✓ {filename}"), _(" is a valid {format} dataset.").format(format=fmt_label)]
    else:
        title = [html.Strong(f"✗ {filename}"), ngettext(" was not uploaded: {count} problem found (checked as {format} format).",
                                                       " was not uploaded: {count} problems found (checked as {format} format).",
                                                       parsed.error_count).format(count=fmt.number(parsed.error_count), format=fmt_label)]
    stats = html.Ul([
        html.Li(_("{count} examples ({valid} well-formed; at least {minimum} needed)").format(
            count=fmt.number(parsed.n_examples), valid=fmt.number(parsed.n_valid_examples), minimum=MIN_EXAMPLES)),
        html.Li([_("≈ {tokens} tokens ").format(tokens=fmt.tokens(parsed.estimated_tokens)),
                 html.Span(_("(estimate)"), className="estimate-label")]
                + ([_("; examples ≈ {span} tokens each").format(span=_span(parsed.example_tokens_min, parsed.example_tokens_max))]
                   if parsed.example_tokens_max is not None else [])),
        html.Li(_("{count} example(s) over the {limit}-token limit").format(
            count=fmt.number(parsed.n_over_limit), limit=fmt.number(parsed.token_limit))),
    ], className="report-stats")
    children: list[Any] = [html.Div(title, className="report-title"), stats]
    if parsed.errors:
        items = [html.Li([html.Span(_("Line {line}").format(line=e.line) if e.line else _("Whole file"), className="report-line"),
                          f": {e.message}"]) for e in parsed.errors]
        children.append(html.Ul(items, className="report-errors"))
        if parsed.error_count > len(parsed.errors):
            children.append(html.Div(_("Showing the first {shown} of {count} errors.").format(
                shown=len(parsed.errors), count=fmt.number(parsed.error_count)),
                                     className="report-more"))
    kind = "valid" if parsed.valid else "invalid"
    return html.Div(children, className=f"dataset-report dataset-report-{kind}", id="create-job-dataset-report")


def _span(low: int | None, high: int | None) -> str:
    return fmt.number(low) if low == high else f"{fmt.number(low)}–{fmt.number(high)}"


def refused_view(filename: str, message: str) -> html.Div:
    return html.Div([html.Div([html.Strong(f"✗ {filename or _('File')}"), _(" was not uploaded: {message}").format(message=message)],
                              className="report-title")],
                    className="dataset-report dataset-report-invalid", id="create-job-dataset-report")


# -- estimate ---------------------------------------------------------------------------------

def estimate_view(dataset: Mapping[str, Any] | None, n_epochs: Any, model: str | None, training_file: str | None,
                  price_table: Mapping[str, float] | None) -> list[Any]:
    """The cost line under the form: tokens × epochs × price, when the file's tokens are known."""
    report = (dataset or {}).get("report") or {}
    known = dataset and report.get("valid") and dataset.get("file_id") and dataset["file_id"] == (training_file or "").strip()
    if not known:
        return [html.Span(_("Estimated cost: "), className="estimate-key"),
                html.Span(_("unknown — upload the training file here to estimate it from its tokens."),
                          className="text-secondary")]
    epochs, assumed = _epochs(n_epochs)
    tokens = int(report.get("estimated_tokens") or 0)
    billed = tokens * epochs
    price = price_per_1k_tokens(model, price_table)
    cost = training_cost(billed, model, price_table)
    epochs_text = (_("{epochs} epochs (auto: {default} assumed)").format(epochs=epochs, default=DEFAULT_EPOCHS) if assumed
                   else ngettext("{epochs} epoch", "{epochs} epochs", epochs).format(epochs=epochs))
    return [html.Span(_("Estimated cost: "), className="estimate-key"),
            html.Strong(fmt.money(cost), id="create-job-estimate-value"),
            html.Span(_(" ≈ {tokens} tokens × {epochs} × {price} per 1K tokens").format(
                tokens=fmt.tokens(tokens), epochs=epochs_text, price=fmt.price(price)),
                      className="text-secondary"),
            html.Div(_("Tokens are estimated at about {chars} characters per token plus per-message "
                       "overhead, not counted by the model's tokenizer; the API bills what it counts.").format(chars=CHARS_PER_TOKEN),
                     className="estimate-note")]


def estimated_cost(dataset: Mapping[str, Any] | None, n_epochs: Any, model: str | None, training_file: str | None,
                   price_table: Mapping[str, float] | None) -> float | None:
    """The dollars estimate_view shows (None where it shows "unknown"): the budget warning's input."""
    report = (dataset or {}).get("report") or {}
    known = dataset and report.get("valid") and dataset.get("file_id") and dataset["file_id"] == (training_file or "").strip()
    if not known:
        return None
    epochs, _ = _epochs(n_epochs)
    return training_cost(int(report.get("estimated_tokens") or 0) * epochs, model, price_table)


def _epochs(n_epochs: Any) -> tuple[int, bool]:
    text = str(n_epochs).strip() if n_epochs is not None else ""
    if text.isdigit() and N_EPOCHS_RANGE[0] <= int(text) <= N_EPOCHS_RANGE[1]:
        return int(text), False
    return DEFAULT_EPOCHS, True


__all__ = ["TEXT_FIELDS", "UploadRefused", "decode_upload", "estimate_view", "feedback_id",
           "file_label", "file_options", "footer", "form_layout", "metadata_row", "model_options",
           "refused_view", "report_view"]
