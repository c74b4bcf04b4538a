"""JobComparison: the selected job side by side with up to four other jobs — overlaid loss curves and a table.

The picks live in the URL query (``?compare=id1,id2``); training_progress.sync_view_with_url is
the page's one URL writer and keeps them there. This module fetches the compared jobs (through
the shared cache) into its own store and draws them; the selected job comes from JobDetails.STORE.
"""

from __future__ import annotations

import time

import dash_bootstrap_components as dbc
from dash import (
    Input,
    Output,
    State,
    dcc,
    html,
    no_update,
)

from fakeai_dash.server.blueprint import Blueprint
from fakeai_dash import ids
from fakeai_dash.i18n import N_, _, for_scripts
from fakeai_dash.components.lazy_graphs import mount_when_a_job_is_shown
from fakeai_dash.api.client import ApiError
from fakeai_dash.comparison import (
    MAX_PICKS,
    clean_picks,
    comparison_rows,
    is_settled,
    job_summary,
    short_name,
)
from fakeai_dash.components.cost_tracker import price_table
from fakeai_dash.components.training_progress import GRAPH_CONFIG
from fakeai_dash.data import NotReady, current_source, snapshot_signature
from fakeai_dash.comparison import comparison_color, comparison_figure

# This component's callbacks: create_app registers them on the app it builds (server/blueprint.py).
blueprint = Blueprint()

for_scripts(" (not in the jobs list)")  # the picker's options are labelled in the browser
for_scripts("unknown")  # a job without a status, in those labels (the known statuses come with assets/*.js)
EMPTY_TEXT = N_("Pick up to {count} jobs to compare with this one.")
# The picker lists this many jobs (newest first, narrowed by what is typed): a browser
# dropdown of ten thousand entries helps nobody, and typing finds any older job.
OPTION_LIMIT = 100
_HIDDEN = {"display": "none"}


COMPARISON_CHART_LABEL = for_scripts("Loss by job: each job's training loss as a solid line and validation loss as a dashed "
                          "line; the table below names each job's colour and compares them")
mount_when_a_job_is_shown(blueprint, ids.JobComparison.GRAPH_BOX, ids.JobComparison.MOUNTED, [html.Div(
    dcc.Graph(id=ids.JobComparison.GRAPH, config=GRAPH_CONFIG, style={"height": "360px"}, responsive=True),
    role="figure", **{"aria-label": COMPARISON_CHART_LABEL})])


def layout() -> dbc.Card:
    picker = dcc.Dropdown(id=ids.JobComparison.PICKER, multi=True, value=[], options=[], maxHeight=320,
                          placeholder=_("Pick jobs to compare…"), className="compare-dropdown",
                          labels={"selected_count": _("{num_selected} compared"), "search": _("Search by model, suffix, status or id")})
    return dbc.Card([
        dbc.CardHeader(_("Compare with other jobs")),
        dbc.CardBody([
            html.Div([html.Label(_("Jobs to compare"), htmlFor=ids.JobComparison.PICKER, className="visually-hidden"),
                      picker], className="compare-picker"),
            html.Div(id=ids.JobComparison.MESSAGE, className="compare-message"),
            html.Div(_(EMPTY_TEXT).format(count=MAX_PICKS), id=ids.JobComparison.EMPTY, className="panel-empty px-0 pb-0"),
            html.Div([
                html.Div([], id=ids.JobComparison.GRAPH_BOX),  # the graph: mounted when a job is shown (plotly.js waits)
                dcc.Store(id=ids.JobComparison.MOUNTED),
                html.Div(id=ids.JobComparison.TABLE),
            ], id=ids.JobComparison.RESULTS, style=_HIDDEN),
        ]),
    ], className="detail-card mb-3 compare-card")


# Options are built in the browser from the jobs store already there: no round trip carries the
# (possibly ten-thousand-row) list. Picked jobs are always options, or the dropdown would drop them.
blueprint.clientside_callback(
    """function (rows, selected, value, search) {
        const picks = value || [], limit = __LIMIT__, full = picks.length >= __MAX__;
        const query = (search || "").trim().toLowerCase();
        const byId = new Map((rows || []).map(r => [r.id, r]));
        const label = r => [r.model, r.suffix, T((r.status || "unknown").replace(/_/g, " ")), "…" + r.id.slice(-6)]
            .filter(Boolean).join(" · ");
        const options = picks.map(id => ({value: id, label: byId.has(id) ? label(byId.get(id))
                                          : (rows ? id + T(" (not in the jobs list)") : id)}));
        for (const r of rows || []) {
            if (options.length >= picks.length + limit) { break; }
            if (r.id === selected || picks.includes(r.id)) { continue; }
            const text = label(r);
            if (query && !(text + " " + r.id).toLowerCase().includes(query)) { continue; }
            options.push({value: r.id, label: text, disabled: full});
        }
        return options;
    }""".replace("__LIMIT__", str(OPTION_LIMIT)).replace("__MAX__", str(MAX_PICKS)),
    Output(ids.JobComparison.PICKER, "options", allow_duplicate=True),
    Input(ids.JobsList.STORE, "data"),
    Input(ids.JobDetails.SELECTED, "data"),
    Input(ids.JobComparison.PICKER, "value"),
    Input(ids.JobComparison.PICKER, "search_value"),
    prevent_initial_call=True,
)


@blueprint.callback(
    Output(ids.JobComparison.STORE, "data"),
    Output(ids.JobComparison.SIGNATURE, "data"),
    Input(ids.JobComparison.PICKER, "value"),
    Input(ids.Page.INTERVAL, "n_intervals"),
    State(ids.JobComparison.SIGNATURE, "data"),
    Input(ids.Push.JOB_SIGNAL, "data"),  # pushed: a shown job changed (read like a tick)
)
def fetch_comparison(picks, _ticks, signature, _pushed=None):
    picks = clean_picks(picks, None)
    if not picks:
        return (None, None) if signature else (no_update, no_update)
    signature = signature or {}
    if signature.get("picks") == picks and signature.get("final"):
        return no_update, no_update  # every compared job is finished and on screen: no I/O at all
    source = current_source()
    jobs, errors = {}, []
    for job_id in picks:
        try:
            detail = source.job_detail(job_id)
        except NotReady:
            errors.append(f"{job_id}: " + _("loading…"))  # not final: the next tick looks again
            continue
        except ApiError as error:
            if error.status == 404:
                jobs[job_id] = {"id": job_id, "missing": True}
            else:
                errors.append(f"{job_id}: {error}")
            continue
        jobs[job_id] = job_summary(detail["job"], detail.get("events"), detail.get("checkpoints"),
                                   source.metric_history(job_id))
    payload = {"picks": picks, "jobs": jobs, "errors": errors}
    digest = snapshot_signature(payload)
    final = not errors and all(is_settled(job) for job in jobs.values())
    new_signature = {"picks": picks, "signature": digest, "final": final}
    if signature.get("picks") == picks and digest == signature.get("signature"):
        return no_update, (new_signature if new_signature != signature else no_update)
    return payload, new_signature


def _header_cell(job: dict, index: int, theme: str | None = None) -> html.Th:
    name = job["id"] if job.get("missing") else short_name(job)
    badge = html.Span(_("this job"), className="compare-this") if index == 0 else None
    return html.Th([html.Span(className="compare-swatch", style={"background": comparison_color(index, theme)}),
                    html.Span(name, title=job["id"]), badge],
                   className="compare-job", **{"data-job": job["id"]})


def _cell_class(cell: dict) -> str:
    if cell["better"] is not None:
        return "change-improved" if cell["better"] else "change-worsened"
    return "compare-differs" if cell["differs"] else ""


def comparison_table(jobs: list[dict], rows: list[dict], theme: str | None = None) -> dbc.Table:
    head = html.Thead(html.Tr([html.Th("")] + [_header_cell(job, i, theme) for i, job in enumerate(jobs)]))
    body = [html.Tr([html.Th(_(row["label"]), scope="row")] + [
        html.Td(cell["text"], className=_cell_class(cell), title=_cell_title(cell),
                **{"data-job": job["id"], "data-differs": str(cell["differs"]).lower()})
        for job, cell in zip(jobs, row["cells"])
    ], **{"data-row": row["key"]}) for row in rows]
    return dbc.Table([head, html.Tbody(body)], size="sm", responsive=True,
                     className="detail-table compare-table mb-0", id="compare-table-grid")


def _cell_title(cell: dict) -> str | None:
    if cell["better"] is not None:
        return _("better than this job") if cell["better"] else _("worse than this job")
    return _("differs from this job") if cell["differs"] else None


@blueprint.callback(
    Output(ids.JobComparison.GRAPH, "figure"),
    Output(ids.JobComparison.TABLE, "children"),
    Output(ids.JobComparison.RESULTS, "style"),
    Output(ids.JobComparison.EMPTY, "style"),
    Output(ids.JobComparison.MESSAGE, "children"),
    Input(ids.JobComparison.STORE, "data"),
    Input(ids.JobDetails.STORE, "data"),
    Input(ids.TrainingProgress.SMOOTHING, "value"),
    Input(ids.JobComparison.PICKER, "value"),
    Input(ids.JobComparison.MOUNTED, "data"),  # held back until the graph has mounted (lazy_graphs.py)
    # The figure and the swatches in the page's theme: a switch re-draws them (theme_switch.py).
    Input(ids.Theme.FIGURES, "data"),
    State(ids.Theme.STORE, "data"),
    prevent_initial_call=True,  # its graph exists only once a job is shown
)
def render_comparison(store, detail, smoothing, picks, _graph=None, _theme_switched=None, theme=None):
    selected = (detail or {}).get("job")
    if not selected:
        return (no_update,) * 5
    picks = clean_picks(picks, selected["id"])
    if not picks:
        return no_update, None, _HIDDEN, {}, None
    loaded = (store or {}).get("jobs") or {}
    others = [loaded[job_id] for job_id in picks if job_id in loaded]
    errors = (store or {}).get("errors") or []
    message = dbc.Alert([_("Some jobs could not be loaded: "), "; ".join(errors)], color="warning",
                        className="py-1 px-2 mb-2 small") if errors else None
    if not others:
        waiting = None if errors else html.Div(_("Loading the compared jobs…"), className="text-dim small")
        return no_update, None, _HIDDEN, _HIDDEN, message or waiting
    this = job_summary(selected, detail.get("events"), detail.get("checkpoints"),
                       current_source().metric_history(selected["id"]))
    jobs = [this, *others]
    # Colours follow the table's columns, so a missing job leaves its colour unused rather than shifting the rest.
    runs = [{"id": job["id"], "name": short_name(job) + (_(" (this job)") if i == 0 else ""),
             "series": job["series"], "color": comparison_color(i, theme)}
            for i, job in enumerate(jobs) if not job.get("missing")]
    figure = comparison_figure(runs, float(smoothing or 0), uirevision=f"compare:{this['id']}", theme=theme)
    table = comparison_table(jobs, comparison_rows(jobs, price_table(), time.time()), theme)
    return figure, table, {}, _HIDDEN, message
