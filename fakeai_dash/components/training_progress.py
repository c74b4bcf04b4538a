"""TrainingProgress: progress bar, loss and accuracy charts with smoothing/log/x-axis controls kept in the URL, and CSV export.

Its URL sync also keeps the JobComparison picks (``compare=``): Dash allows one writer of the query.

Charts are patched (new points appended) when only new points arrived, and rebuilt
when the job, the view controls or the set of traces changed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

import dash_bootstrap_components as dbc
from dash import Input, Output, Patch, State, callback, ctx, dcc, html, no_update

from fakeai_dash import format as fmt
from fakeai_dash import ids
from fakeai_dash.comparison import clean_picks, picks_from_query, query_with_picks
from fakeai_dash.figures import accuracy_figure, append_plan, loss_figure, trace_shape
from fakeai_dash.metrics import EMA_MAX_WEIGHT, metric_series, metrics_csv, normalize_status, progress

# TensorBoard's default smoothing: enough to read a noisy loss, the raw curve stays visible.
DEFAULT_VIEW = {"smoothing": 0.6, "log": False, "x": "step"}
QUERY_KEYS = {"smoothing": "smoothing", "log": "log", "x": "x"}
GRAPH_CONFIG = {"displaylogo": False,
                "modeBarButtonsToRemove": ["lasso2d", "select2d"],
                "toImageButtonOptions": {"format": "png", "scale": 2}}
_TRUE = ("1", "true", "yes", "on")
NO_METRICS_TEXT = "No training metrics reported for this job yet; the charts appear with the first step."
_HIDDEN = {"display": "none"}


# -- pure helpers ------------------------------------------------------------------------------

def view_from_query(search: str | None) -> dict[str, Any]:
    """The chart view in a URL query (``?smoothing=0.8&log=1&x=elapsed``); bad values fall back to defaults."""
    query = dict(parse_qsl((search or "").lstrip("?")))
    view = dict(DEFAULT_VIEW)
    try:
        smoothing = float(query.get("smoothing", view["smoothing"]))
        if 0 <= smoothing <= 1:
            view["smoothing"] = round(min(smoothing, EMA_MAX_WEIGHT), 2)
    except ValueError:
        pass
    if "log" in query:
        view["log"] = query["log"].lower() in _TRUE
    if query.get("x") in ("step", "elapsed"):
        view["x"] = query["x"]
    return view


def query_from_view(view: dict[str, Any], search: str | None = None) -> str:
    """``search`` with the view's keys set (defaults dropped); other keys are left as they were."""
    query = {k: v for k, v in parse_qsl((search or "").lstrip("?")) if k not in QUERY_KEYS.values()}
    if view["smoothing"] != DEFAULT_VIEW["smoothing"]:
        query["smoothing"] = f"{view['smoothing']:g}"
    if bool(view["log"]) != DEFAULT_VIEW["log"]:
        query["log"] = "1" if view["log"] else "0"
    if view["x"] != DEFAULT_VIEW["x"]:
        query["x"] = view["x"]
    return f"?{urlencode(query, safe=',')}" if query else ""


def progress_view(job: dict[str, Any], events: list[dict[str, Any]]) -> tuple[float, str, str]:
    """(bar percent, bar label, caption) for the job's progress."""
    info = progress(job, events)
    status = normalize_status(job.get("status"))
    if info["fraction"] is None:
        caption = f"Step {info['step']}" if info["step"] else (
            "Waiting for training to start" if status in ("validating_files", "queued", "pending") else "Progress unknown")
        return 0, "", caption
    percent = info["fraction"] * 100
    caption = f"Step {info['step'] or 0} / {info['total_steps']} · {fmt.percent(info['fraction'], 0)}"
    if status in ("cancelled", "failed"):
        caption += f" · {status} here"
    return percent, fmt.percent(info["fraction"], 0), caption


def figure_update(drawn: dict[str, Any] | None, figure):
    """The figure to send: ``no_update`` when nothing changed, a Patch appending new points, or the whole figure."""
    plan = append_plan(drawn, figure)
    if plan is None:
        return figure
    if not plan:
        return no_update
    patch = Patch()
    for index, tails in plan:
        for attribute, tail in tails.items():
            patch["data"][index][attribute].extend(tail)
    return patch


# -- layout ------------------------------------------------------------------------------------

def _controls() -> html.Div:
    return html.Div([
        html.Div([
            html.Label("Smoothing", htmlFor=ids.TrainingProgress.SMOOTHING, className="control-label"),
            dcc.Slider(id=ids.TrainingProgress.SMOOTHING, min=0, max=EMA_MAX_WEIGHT, step=0.01,
                       value=DEFAULT_VIEW["smoothing"], marks={0: "0", 0.5: "0.5", 0.99: "0.99"},
                       tooltip={"placement": "bottom", "always_visible": False}, className="smoothing-slider"),
        ], className="control control-smoothing"),
        dbc.Switch(id=ids.TrainingProgress.LOG_Y, label="Log-scale y", value=DEFAULT_VIEW["log"],
                   className="control mb-0"),
        html.Div([
            html.Span("X axis", className="control-label me-2"),
            dbc.RadioItems(id=ids.TrainingProgress.X_AXIS, value=DEFAULT_VIEW["x"], inline=True,
                           options=[{"label": "Step", "value": "step"}, {"label": "Elapsed time", "value": "elapsed"}],
                           className="d-inline-block"),
        ], className="control d-flex align-items-center"),
    ], className="chart-controls")


def layout() -> dbc.Card:
    graph_style = {"height": "300px"}
    return dbc.Card([
        dbc.CardHeader(html.Div([
            html.Span("Training progress"),
            dbc.Button("⤓ Export CSV", id=ids.TrainingProgress.EXPORT, color="secondary", outline=True, size="sm",
                       title="Download the job's metrics: one row per step, one column per metric"),
        ], className="d-flex justify-content-between align-items-center")),
        dbc.CardBody([
            html.Div([
                dbc.Progress(id=ids.TrainingProgress.BAR, value=0, className="training-bar"),
                html.Div(id=ids.TrainingProgress.BAR_TEXT, className="training-bar-text"),
            ], className="mb-3"),
            _controls(),
            # responsive=True follows the parent's size: the panel is hidden until a job is shown,
            # and a plot first drawn while hidden would otherwise keep a wrong width.
            html.Div(NO_METRICS_TEXT, id=ids.TrainingProgress.NO_METRICS, className="panel-empty",
                     style={"display": "none"}),
            html.Div([
                dcc.Graph(id=ids.TrainingProgress.LOSS, config=GRAPH_CONFIG, style=graph_style, responsive=True),
                dcc.Graph(id=ids.TrainingProgress.ACCURACY, config=GRAPH_CONFIG, style=graph_style, responsive=True),
            ], id=ids.TrainingProgress.CHARTS),
            dcc.Download(id=ids.TrainingProgress.DOWNLOAD),
        ]),
    ], className="detail-card mb-3")


# -- callbacks ---------------------------------------------------------------------------------

@callback(
    Output(ids.Page.LOCATION, "search"),
    Output(ids.TrainingProgress.SMOOTHING, "value"),
    Output(ids.TrainingProgress.LOG_Y, "value"),
    Output(ids.TrainingProgress.X_AXIS, "value"),
    Output(ids.JobComparison.PICKER, "value"),
    Output(ids.JobComparison.PICKER, "options"),
    Input(ids.Page.LOCATION, "search"),
    Input(ids.TrainingProgress.SMOOTHING, "value"),
    Input(ids.TrainingProgress.LOG_Y, "value"),
    Input(ids.TrainingProgress.X_AXIS, "value"),
    Input(ids.JobComparison.PICKER, "value"),
    Input(ids.JobDetails.SELECTED, "data"),
)
def sync_view_with_url(search, smoothing, log_y, x, picks, selected):
    # One callback both ways (Dash allows a cycle only inside one callback): the controls
    # write the URL, and the URL (on load, back/forward) sets the controls. The comparison's
    # picks (comparison.py) share it, as the page has one query and Dash one writer of it.
    nu = no_update
    if ctx.triggered_id in (ids.TrainingProgress.SMOOTHING, ids.TrainingProgress.LOG_Y, ids.TrainingProgress.X_AXIS):
        view = {"smoothing": smoothing or 0.0, "log": bool(log_y), "x": x or "step"}
        query = query_from_view(view, search)
        return (query if query != (search or "") else nu), nu, nu, nu, nu, nu
    if ctx.triggered_id in (ids.JobComparison.PICKER, ids.JobDetails.SELECTED):
        # A pick equal to the selected job (just clicked in the list) leaves the comparison.
        kept = clean_picks(picks, selected)
        query = query_with_picks(search, kept)
        return (query if query != (search or "") else nu), nu, nu, nu, (kept if kept != (picks or []) else nu), nu
    view = view_from_query(search)
    wanted = clean_picks(picks_from_query(search), selected)
    query = query_with_picks(search, wanted) if wanted != picks_from_query(search) else nu
    # Set with the value: Dash's dropdown drops a value its options lack. job_comparison fills in the labels.
    picks_out = (wanted, [{"label": job_id, "value": job_id} for job_id in wanted]) if wanted != (picks or []) else (nu, nu)
    return (query,
            view["smoothing"] if view["smoothing"] != smoothing else nu,
            view["log"] if view["log"] != bool(log_y) else nu,
            view["x"] if view["x"] != x else nu,
            *picks_out)


@callback(
    Output(ids.TrainingProgress.BAR, "value"),
    Output(ids.TrainingProgress.BAR, "label"),
    Output(ids.TrainingProgress.BAR_TEXT, "children"),
    Output(ids.TrainingProgress.LOSS, "figure"),
    Output(ids.TrainingProgress.ACCURACY, "figure"),
    Output(ids.TrainingProgress.DRAWN, "data"),
    Output(ids.TrainingProgress.CHARTS, "style"),
    Output(ids.TrainingProgress.NO_METRICS, "style"),
    Input(ids.JobDetails.STORE, "data"),
    Input(ids.TrainingProgress.SMOOTHING, "value"),
    Input(ids.TrainingProgress.LOG_Y, "value"),
    Input(ids.TrainingProgress.X_AXIS, "value"),
    State(ids.TrainingProgress.DRAWN, "data"),
)
def render_progress(store, smoothing, log_y, x, drawn):
    job = (store or {}).get("job")
    if not job:
        return (no_update,) * 8
    events = store.get("events") or []
    checkpoints = sorted(store.get("checkpoints") or [], key=lambda c: c.get("step_number") or 0)
    view = {"smoothing": float(smoothing or 0), "log": bool(log_y), "x": x if x in ("step", "elapsed") else "step"}
    series = metric_series(events)
    loss = loss_figure(series, view["smoothing"], view["log"], view["x"], checkpoints, uirevision=job["id"])
    accuracy = accuracy_figure(series, view["smoothing"], view["x"], uirevision=job["id"])
    key = {"job": job["id"], "view": view}
    same = bool(drawn) and drawn.get("key") == key
    loss_out = figure_update(drawn.get("loss") if same else None, loss)
    accuracy_out = figure_update(drawn.get("accuracy") if same else None, accuracy)
    new_drawn = {"key": key, "loss": trace_shape(loss), "accuracy": trace_shape(accuracy)}
    percent, label, caption = progress_view(job, events)
    # A job that never trained (failed validation, cancelled in the queue) gets one line, not
    # two empty charts; FakeAI's step-0 metrics, logged at creation, are not training yet.
    has_metrics = any(point.step > 0 for points in series.values() for point in points)
    return (percent, label, caption, loss_out, accuracy_out, (new_drawn if new_drawn != drawn else no_update),
            {} if has_metrics else _HIDDEN, _HIDDEN if has_metrics else {})


@callback(
    Output(ids.TrainingProgress.DOWNLOAD, "data"),
    Input(ids.TrainingProgress.EXPORT, "n_clicks"),
    State(ids.JobDetails.STORE, "data"),
    prevent_initial_call=True,
)
def export_csv(clicks, store):
    job = (store or {}).get("job")
    if not clicks or not job:
        return no_update
    return dcc.send_string(metrics_csv(store.get("events") or []), f"{job['id']}-metrics.csv", type="text/csv")
