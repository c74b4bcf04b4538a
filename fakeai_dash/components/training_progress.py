"""TrainingProgress: progress bar, loss and accuracy charts with smoothing/log/x-axis controls kept in the URL, and CSV export.

Its URL sync also keeps the JobComparison picks (``compare=``): Dash allows one writer of the query.

The charts draw the job's complete history, held on the server (``metric_history``): smoothed
at full resolution, then thinned to a few thousand points of the visible range. A zoom (an
x-axis change in the graph's relayoutData) re-reads the zoomed range at full resolution and
sends only the traces' points; a live job's new points are appended with a Patch; the whole figure travels only when
the job, the axis or the set of traces changed.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

import numpy as np

import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, dcc, html, no_update

from fakeai_dash.server.blueprint import Blueprint
from fakeai_dash import format as fmt
from fakeai_dash import i18n, ids
from fakeai_dash.i18n import N_, _, for_scripts
from fakeai_dash.components.lazy_graphs import mount_when_a_job_is_shown
from fakeai_dash.comparison import clean_picks, picks_from_query, query_with_picks
from fakeai_dash.data import current_source
from fakeai_dash.components.training_charts import chart_updates, loading_note
from fakeai_dash.metrics import estimated_fraction, ordered_metric_names, progress, whole_percent
from fakeai_dash.wire_values import normalize_status
from fakeai_dash.series import EMA_MAX_WEIGHT, MetricHistory, history_csv, history_event  # noqa: F401 - history_event: re-exported
from fakeai_dash.theme import normalize_theme

# This component's callbacks: create_app registers them on the app it builds (server/blueprint.py).
blueprint = Blueprint()

# TensorBoard's default smoothing: enough to read a noisy loss, the raw curve stays visible.
DEFAULT_VIEW = {"smoothing": 0.6, "log": False, "x": "step"}
QUERY_KEYS = {"smoothing": "smoothing", "log": "log", "x": "x"}
GRAPH_CONFIG = {"displaylogo": False,
                # plotly.js 4's "Share chart..." uploads the figure to Plotly Cloud: a job's data
                # stays in-house (and plotly's locales do not translate it).
                "modeBarButtonsToRemove": ["lasso2d", "select2d", "sendChartToCloud"],
                "toImageButtonOptions": {"format": "png", "scale": 2}}
_TRUE = ("1", "true", "yes", "on")
# plotly.js's locales, (its name, its file in assets/vendor/), as assets/chart_loader.js loads
# them on a de/zh page (first_view.py loads the file first on a job's page).
PLOTLY_LOCALES = {"de": ("de", "plotly-locale-de.js"), "zh": ("zh-CN", "plotly-locale-zh-cn.js")}
NO_METRICS_TEXT = N_("No training metrics reported for this job yet; the charts appear with the first step.")
_HIDDEN = {"display": "none"}
# The graphs are put in place by a script (lazy_graphs.py), which shows these in the page's language.
LOSS_CHART_LABEL = for_scripts("Loss chart: training loss as a solid line, validation loss as a dashed line, "
                               "checkpoints as circles")
ACCURACY_CHART_LABEL = for_scripts("Accuracy chart: training accuracy as a solid line, validation accuracy as a "
                                   "dashed line, each filled to the axis")


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


def progress_view(job: dict[str, Any], events: list[dict[str, Any]], now: float | None = None) -> tuple[float, str, str]:
    """(bar percent, bar label, caption) for the job's progress: by steps where they are known,
    else the API's expected finish as a labelled estimate. The jobs list's rule too: the whole
    percent both show is metrics.whole_percent's (the sync loop publishes it for the list)."""
    info = progress(job, events)
    status = normalize_status(job.get("status"))
    estimate = estimated_fraction(job, time.time() if now is None else now) if info["fraction"] is None else None
    if estimate is not None:
        label = _("~{percent} est.").format(percent=f"{whole_percent(estimate)}%")
        return estimate * 100, label, _("{label} (from the API's expected finish time; steps not reported yet)").format(label=label)
    if info["fraction"] is None:
        caption = _("Step {step}").format(step=info['step']) if info["step"] else (
            _("Waiting for training to start") if status in ("validating_files", "queued", "pending") else _("Progress unknown"))
        return 0, "", caption
    percent = info["fraction"] * 100
    shown = fmt.percent(whole_percent(info["fraction"]) / 100, 0)
    caption = _("Step {step} / {total}").format(step=info['step'] or 0, total=info['total_steps']) + f" · {shown}"
    if status in ("cancelled", "failed"):
        caption += " · " + (_("cancelled here") if status == "cancelled" else _("failed here"))
    return percent, shown, caption


def _has_training_metrics(history: MetricHistory | None) -> bool:
    # FakeAI's step-0 metrics, logged at creation, are not training yet.
    if history is None or not len(history):
        return False
    trained = history.steps > 0
    return any(bool(np.isfinite(column[trained]).any()) for column in history.metrics.values())


# -- layout ------------------------------------------------------------------------------------

def _controls() -> html.Div:
    return html.Div([
        html.Div([
            html.Label(_("Smoothing"), htmlFor=ids.TrainingProgress.SMOOTHING, className="control-label"),
            dcc.Slider(id=ids.TrainingProgress.SMOOTHING, min=0, max=EMA_MAX_WEIGHT, step=0.01,
                       value=DEFAULT_VIEW["smoothing"], marks={0: "0", 0.5: "0.5", 0.99: "0.99"},
                       tooltip={"placement": "bottom", "always_visible": False}, className="smoothing-slider"),
        ], className="control control-smoothing",
           **{"data-a11y-name": _("Smoothing"), "data-a11y-targets": "[role=slider], input"}),
        dbc.Switch(id=ids.TrainingProgress.LOG_Y, label=_("Log-scale y"), value=DEFAULT_VIEW["log"],
                   className="control mb-0"),
        html.Div([
            html.Span(_("X axis"), className="control-label me-2"),
            dbc.RadioItems(id=ids.TrainingProgress.X_AXIS, value=DEFAULT_VIEW["x"], inline=True,
                           options=[{"label": _("Step"), "value": "step"}, {"label": _("Elapsed time"), "value": "elapsed"}],
                           className="d-inline-block"),
        ], className="control d-flex align-items-center"),
    ], className="chart-controls")


def layout() -> dbc.Card:
    return dbc.Card([
        dbc.CardHeader(html.Div([
            html.Span(_("Training progress")),
            dbc.Button(_("⤓ Export CSV"), id=ids.TrainingProgress.EXPORT, color="secondary", outline=True, size="sm",
                       title=_("Download the job's metrics: one row per step, one column per metric")),
        ], className="d-flex justify-content-between align-items-center")),
        dbc.CardBody([
            html.Div([
                dbc.Progress(id=ids.TrainingProgress.BAR, value=0, className="training-bar"),
                html.Div(id=ids.TrainingProgress.BAR_TEXT, className="training-bar-text"),
            ], className="mb-3", **{"data-a11y-name": _("Training progress"), "data-a11y-targets": "[role=progressbar]"}),
            _controls(),
            # responsive=True follows the parent's size: the panel is hidden until a job is shown,
            # and a plot first drawn while hidden would otherwise keep a wrong width.
            html.Div(_(NO_METRICS_TEXT), id=ids.TrainingProgress.NO_METRICS, className="panel-empty",
                     style={"display": "none"}),
            html.Div([], id=ids.TrainingProgress.CHARTS),  # the graphs: mounted when a job is shown
            dcc.Store(id=ids.TrainingProgress.MOUNTED),
            dcc.Download(id=ids.TrainingProgress.DOWNLOAD),
            dcc.Store(id=ids.TrainingProgress.ZOOM),
        ]),
    ], className="detail-card mb-3")


def _graphs() -> list[dcc.Graph]:
    graph_style = {"height": "300px"}
    # Each chart is a figure named by what it draws (the line styles say which curve is which
    # without colour; the numbers are in the CSV export). Not role="img": the mode bar's buttons
    # (zoom, download) inside it must stay reachable.
    return [html.Div(dcc.Graph(id=ids.TrainingProgress.LOSS, config=GRAPH_CONFIG, style=graph_style, responsive=True),
                     role="figure", **{"aria-label": LOSS_CHART_LABEL}),
            html.Div(dcc.Graph(id=ids.TrainingProgress.ACCURACY, config=GRAPH_CONFIG, style=graph_style,
                               responsive=True), role="figure", **{"aria-label": ACCURACY_CHART_LABEL})]


def drawn_graphs(figures: dict[str, Any]) -> list[html.Div]:
    """The graphs as lazy_graphs mounts them, with their ``{graph id: figure}`` and words in the
    request's language: first_view puts them in a job page's layout."""
    graphs = _graphs()
    for wrapper in graphs:
        wrapper.__dict__["aria-label"] = _(wrapper.__dict__["aria-label"])
        graph = wrapper.children
        graph.figure = figures.get(graph.id)
        graph.config = {**graph.config, "locale": PLOTLY_LOCALES.get(i18n.current_locale(), ("en", None))[0]}
    return graphs


mount_when_a_job_is_shown(blueprint, ids.TrainingProgress.CHARTS, ids.TrainingProgress.MOUNTED, _graphs())


# -- callbacks ---------------------------------------------------------------------------------

@blueprint.callback(
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
    if ctx.triggered_id == ids.JobComparison.PICKER or (ctx.triggered_id == ids.JobDetails.SELECTED and picks):
        # A pick equal to the selected job (just clicked in the list) leaves the comparison.
        kept = clean_picks(picks, selected)
        query = query_with_picks(search, kept)
        return (query if query != (search or "") else nu), nu, nu, nu, (kept if kept != (picks or []) else nu), nu
    if not selected:
        # The URL's view and picks wait for a job: the graphs mount when one is shown
        # (lazy_graphs), and a control set before that would send a figure to no graph.
        return (nu,) * 6
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


def progress_outputs(store: dict[str, Any] | None, view: dict[str, Any], drawn: dict[str, Any] | None,
                     history: MetricHistory | None, loaded: float = 1.0,
                     zoom: dict[str, Any] | None = None) -> tuple[Any, ...]:
    """render_progress's eight outputs, as a function of what it read (tested without a server).

    Every call answers for everything, whatever triggered it: a call's answer is dropped when
    a newer call overtakes it, so none may count on an earlier one having landed.
    """
    job = (store or {}).get("job")
    if not job:
        return (no_update,) * 8
    figures, new_drawn = chart_updates(store, view, drawn, history, loaded, zoom)
    percent, label, caption = progress_view(job, [*(store.get("events") or []), *history_event(history)])
    # A job that never trained (failed validation, cancelled in the queue) gets one line, not
    # two empty charts; while older history still loads, the charts say so instead.
    charts_shown = _has_training_metrics(history) or loading_note(loaded) is not None
    return (percent, label, caption, figures["loss"], figures["accuracy"],
            new_drawn if new_drawn != drawn else no_update,
            {} if charts_shown else _HIDDEN, _HIDDEN if charts_shown else {})


# A zoom, a pan or a double-click reaches the server; a resize or the first draw (relayoutData
# with no x-axis change) does not. Each graph's latest x-axis change gets a sequence number, so
# the server applies it exactly once (see pending_zooms).
blueprint.clientside_callback(
    """function (lossRelayout, accuracyRelayout, zoom) {
        const graphs = {"%s.relayoutData": "loss", "%s.relayoutData": "accuracy"};
        const next = Object.assign({}, zoom || {});
        let changed = false;
        for (const trigger of window.dash_clientside.callback_context.triggered || []) {
            const graph = graphs[trigger.prop_id];
            const relayout = {};
            for (const [key, value] of Object.entries(trigger.value || {})) {
                if (key.startsWith("xaxis.range") || key === "xaxis.autorange") { relayout[key] = value; }
            }
            if (!graph || Object.keys(relayout).length === 0) { continue; }
            next[graph] = {relayout: relayout, seq: ((next[graph] || {}).seq || 0) + 1};
            changed = true;
        }
        return changed ? next : window.dash_clientside.no_update;
    }""" % (ids.TrainingProgress.LOSS, ids.TrainingProgress.ACCURACY),
    Output(ids.TrainingProgress.ZOOM, "data"),
    Input(ids.TrainingProgress.LOSS, "relayoutData"),
    Input(ids.TrainingProgress.ACCURACY, "relayoutData"),
    State(ids.TrainingProgress.ZOOM, "data"),
    prevent_initial_call=True,
)


@blueprint.callback(
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
    Input(ids.TrainingProgress.ZOOM, "data"),
    # The graphs mount after plotly.js has loaded (lazy_graphs.py): as an Input, their mounting
    # holds this callback back until they exist, and then draws them.
    Input(ids.TrainingProgress.MOUNTED, "data"),
    State(ids.TrainingProgress.DRAWN, "data"),
    # The figures are drawn in the page's theme: a switch re-draws them (theme_switch.py).
    Input(ids.Theme.FIGURES, "data"),
    State(ids.Theme.STORE, "data"),
    prevent_initial_call=True,  # its graphs exist only once a job is shown
)
def render_progress(store, smoothing, log_y, x, zoom, _graphs, drawn, _theme_switched=None, theme=None):
    # One callback for ticks, controls and zooms, so one call at a time writes the graphs and
    # the drawn-state store, which therefore always describes what the graphs hold.
    job = (store or {}).get("job")
    if not job:
        return (no_update,) * 8
    view = {"smoothing": float(smoothing or 0), "log": bool(log_y), "x": x if x in ("step", "elapsed") else "step",
            "theme": normalize_theme(theme)}
    # The server's picture, kept by the sync loop: a chart tick never waits on the API.
    source = current_source()
    history = source.metric_history(job["id"])
    loaded = source.history_loaded(job["id"])
    return progress_outputs(store, view, drawn, history, loaded, zoom)


@blueprint.callback(
    Output(ids.TrainingProgress.DOWNLOAD, "data"),
    Input(ids.TrainingProgress.EXPORT, "n_clicks"),
    State(ids.JobDetails.STORE, "data"),
    prevent_initial_call=True,
)
def export_csv(clicks, store):
    job = (store or {}).get("job")
    if not clicks or not job:
        return no_update
    # The complete history held on the server, not what the browser happens to have.
    history = current_source().metric_history(job["id"]) or MetricHistory()
    text = history_csv(history, ordered_metric_names(history.metrics))
    return dcc.send_string(text, f"{job['id']}-metrics.csv", type="text/csv")
