"""JobsList: every job in a virtualised grid, filtered in the browser, with URL selection.

The fetch callback here is the only place the list touches the API (through data.py); it
returns no_update when the snapshot has not changed, so quiet ticks re-render nothing.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, Patch, State, ctx, dcc, html, no_update

from fakeai_dash.server.blueprint import Blueprint
from fakeai_dash import ids
from fakeai_dash.api.client import ApiError
from fakeai_dash.api.models import ACTIVE_STATUSES, FINISHED_STATUSES
from fakeai_dash.auth import allow_refresh
from fakeai_dash.data import NotReady, current_source
from fakeai_dash.i18n import N_, _, column_defs, for_scripts
from fakeai_dash.theme import STATUS_GROUPS

# This component's callbacks: create_app registers them on the app it builds (server/blueprint.py).
blueprint = Blueprint()

# Functions that only exist in the browser (assets/dashAgGridFunctions.js).
_NOT_SEARCHED = {"function": "''"}
# The grid drops a filter model with more OR conditions than a column allows: this bounds how
# many models can be picked at once (far more than anyone compares).
MAX_MODEL_CONDITIONS = 64
WITH_ALERTS = "alerts"  # the status filter's "With alerts" choice

# A cell drawing several fields of its row takes a value made of all of them (valueGetter): AG
# Grid redraws a cell only when its value changes, so a cell bound to one field stayed stale
# when another it draws changed (a succeeded job's fine-tuned model, a running job's steps).
# Filters keep reading the one field they are about (filterValueGetter); sorting by the combined
# value orders by that field first (the value starts with it).
COLUMN_DEFS = [
    # Status carries the progress of running jobs and the alert badges under the status badge.
    {"field": "status", "colId": "status", "headerName": N_("Status"), "width": 132, "cellRenderer": "StatusCell",
     "valueGetter": {"function": "statusCellValue(params.data)"},
     "filterValueGetter": {"function": "params.data.status"},
     "filter": "agTextColumnFilter", "filterParams": {"maxNumConditions": 8},
     "getQuickFilterText": _NOT_SEARCHED},
    # One OR condition per picked model; equals is exact, as model ids are.
    {"field": "model", "colId": "model", "headerName": N_("Job"), "flex": 1, "minWidth": 220, "cellRenderer": "JobCell",
     "valueGetter": {"function": "jobCellValue(params.data)"},
     "filterValueGetter": {"function": "params.data.model"},
     "filter": "agTextColumnFilter", "filterParams": {"maxNumConditions": MAX_MODEL_CONDITIONS, "caseSensitive": True},
     "getQuickFilterText": {"function": "searchText(params.data)"}},
    {"field": "created_at", "headerName": N_("Created"), "width": 104, "sort": "desc", "filter": "agNumberColumnFilter",
     "valueFormatter": {"function": "relativeTime(params.value)"},
     "tooltipValueGetter": {"function": "absoluteTime(params.value)"},
     "getQuickFilterText": _NOT_SEARCHED},
    {"field": "trained_tokens", "headerName": N_("Tokens"), "width": 86, "type": "rightAligned",
     "valueFormatter": {"function": "compactNumber(params.value)"}, "getQuickFilterText": _NOT_SEARCHED},
    # Not shown (the badges sit in the status cell): the kinds of a row's alerts, for the
    # "With alerts" filter. Patched into the rows in the browser from the alerts store.
    {"field": "alert_kinds", "hide": True, "filter": "agTextColumnFilter", "getQuickFilterText": _NOT_SEARCHED},
]

# Colours are the theme's CSS custom properties (assets/theme.css): the grid follows a theme
# switch by itself, with no callback.
_GRID_THEME = (
    "themeQuartz.withParams({backgroundColor: 'var(--surface-1)', foregroundColor: 'var(--text-primary)', "
    "headerBackgroundColor: 'var(--surface-0)', headerTextColor: 'var(--text-secondary)', borderColor: 'var(--border)', "
    "accentColor: 'var(--nvidia-green)', rowHoverColor: 'var(--surface-2)', selectedRowBackgroundColor: 'rgba(118,185,0,0.18)', "
    "oddRowBackgroundColor: 'var(--grid-odd-row)', fontSize: 13, headerFontSize: 12, wrapperBorderRadius: 0})"
)


def layout() -> dbc.Card:
    grid = dag.AgGrid(
        id=ids.JobsList.GRID,
        columnDefs=column_defs(COLUMN_DEFS),
        rowData=[],
        getRowId="params.data.id",
        # The header's controls own the filters: no per-column filter button to edit them behind their back.
        defaultColDef={"sortable": True, "resizable": True, "suppressHeaderMenuButton": True,
                       "suppressHeaderFilterButton": True},
        dashGridOptions={
            "theme": {"function": _GRID_THEME},
            "rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True},
            "rowHeight": 64,
            "animateRows": False,
            "tooltipShowDelay": 400,
            "quickFilterText": "",
            # AG Grid says "No Matching Rows" when a filter empties it (noRowsToShow: no rows at all).
            "localeText": {"noRowsToShow": _("No jobs match the search or filter"),
                           "noMatchingRows": _("No jobs match the search or filter"),
                           # AG Grid's own words for screen readers, read out on the selected row.
                           "ariaRowSelect": _("Press SPACE to select this row"),
                           "ariaRowDeselect": _("Press SPACE to deselect this row"),
                           "ariaRowToggleSelection": _("Press Space to toggle row selection")},
        },
        style={"height": "calc(100vh - 235px)", "minHeight": "420px", "width": "100%"},
    )
    loading = html.Div(
        [dbc.Spinner(size="sm", color="success", spinner_class_name="me-2 jobs-loading-spinner"),
         html.Span(_(LOADING_TEXT), id=ids.JobsList.LOADING_TEXT)],
        id=ids.JobsList.LOADING, className="empty-state",
    )
    empty = html.Div([html.Div(_("No fine-tuning jobs yet"), className="empty-title"),
                      html.Div(_("Create one with the “+ Create fine-tuning job” button above."))],
                     id=ids.JobsList.EMPTY, className="empty-state", style={"display": "none"})
    return dbc.Card([
        dcc.Store(id=ids.JobsList.STATS),
        dcc.Store(id=ids.JobsList.PROGRESS),
        dbc.CardHeader([_("Jobs "), html.Span(id=ids.JobsList.COUNT, className="text-secondary fw-normal")]),
        dbc.CardBody([loading, empty, html.Div(grid, id=ids.JobsList.GRID_WRAPPER, style={"display": "none"})]),
    ], className="jobs-panel")


# -- fetch ------------------------------------------------------------------------------------

LOADING_TEXT = for_scripts("Loading jobs…")
NOT_LOADED_TEXT = for_scripts("No jobs could be loaded yet (the message above says why). They appear as soon as the API answers.")

# Before any row arrived, an API error would leave "Loading jobs…" spinning under the banner as if
# an answer were on its way: say instead that none came, and keep the last rows once some did.
blueprint.clientside_callback(
    """function (status, rows) {
        const failed = rows == null && status && status.ok === false;
        return [T(failed ? "%s" : "%s"), failed ? "empty-state load-failed" : "empty-state"];
    }""" % (NOT_LOADED_TEXT, LOADING_TEXT),
    Output(ids.JobsList.LOADING_TEXT, "children"),
    Output(ids.JobsList.LOADING, "className"),
    Input(ids.Page.API_STATUS, "data"),
    State(ids.JobsList.STORE, "data"),
)

def api_status_after_error(error: ApiError, last_good: float | None) -> dict[str, Any]:
    return {"ok": False, "message": str(error), "last_good": last_good}


def store_down_status(down_since: float, last_good: float | None) -> dict[str, Any]:
    return {"ok": False, "store_down": down_since, "last_good": last_good}


@blueprint.callback(
    Output(ids.JobsList.STORE, "data"),
    Output(ids.JobsList.SIGNATURE, "data"),
    Output(ids.JobsList.STATS, "data"),
    Output(ids.Page.API_STATUS, "data"),
    Output(ids.JobsList.PROGRESS, "data"),
    Input(ids.Page.INTERVAL, "n_intervals"),
    Input(ids.Header.REFRESH, "n_clicks"),
    Input(ids.JobsList.REFRESH_SIGNAL, "data"),
    State(ids.JobsList.SIGNATURE, "data"),
    State(ids.Page.API_STATUS, "data"),
    State(ids.JobsList.PROGRESS, "data"),
    Input(ids.Push.LIST_SIGNAL, "data"),  # pushed: the list changed (read like a tick)
)
def fetch_jobs(_ticks, _clicks, _signal, signature, api_status, shown_live, _pushed=None):
    # Reads the sync loop's picture, never the API: a tick costs the API nothing.
    source = current_source()
    if ctx.triggered_id in (ids.Header.REFRESH, ids.JobsList.REFRESH_SIGNAL) and allow_refresh("jobs"):
        source.refresh_list()  # a nudge: the sync loop refetches now (never twice within 2 s)
    problem = source.problem()
    # The shared store is down: this worker shows its last picture, and the banner says so.
    down = source.store_down_since()
    if not problem and not down and signature and (api_status or {}).get("ok") and source.signature() == signature:
        # A quiet tick: no rows read or sent; only active jobs' moving fields, if they moved.
        return no_update, no_update, no_update, no_update, _live_update(source, shown_live)
    try:
        snapshot = source.jobs_snapshot()
    except NotReady:
        status = store_down_status(down, source.last_success()) if down else api_status
        return no_update, no_update, no_update, (status if status != api_status else no_update), no_update
    except ApiError as error:
        status = (store_down_status(down, source.last_success()) if down
                  else api_status_after_error(error, source.last_success()))
        return no_update, no_update, no_update, (status if status != api_status else no_update), no_update
    if down:
        status = store_down_status(down, snapshot.get("at"))
        status_out = status if status != api_status else no_update
    elif problem:
        # Keep the rows on screen (the picture's last good ones): the banner says how old they are.
        status = api_status_after_error(problem, snapshot.get("at"))
        status_out = status if status != api_status else no_update
    else:
        status_out = {"ok": True, "last_good": snapshot.get("at")} if not (api_status or {}).get("ok") else no_update
    live_out = _live_update(source, shown_live)
    if snapshot["signature"] == signature:
        return no_update, no_update, no_update, status_out, live_out
    rows = snapshot["rows"]
    return rows, snapshot["signature"], job_stats(rows), status_out, live_out


@blueprint.callback(
    Output(ids.JobsList.PROGRESS, "data", allow_duplicate=True),
    Input(ids.Push.PROGRESS_SIGNAL, "data"),  # pushed: only active jobs' live fields moved
    State(ids.JobsList.PROGRESS, "data"),
    prevent_initial_call=True,
)
def fetch_progress(_pushed, shown_live):
    # Its own callback, not another Input of fetch_jobs: a running job moves these several times a
    # second, and each re-run of fetch_jobs would drop the answer of the one in flight (Dash keeps
    # only the newest call's), so a new row waited until a gap between steps let one through.
    return _live_update(current_source(), shown_live)


def _live_update(source, shown: dict | None):
    """Active jobs' moving fields (expected finish, steps): a few bytes, never the whole list."""
    live = source.progress()
    return live if live != (shown or {}) else no_update


# -- render -----------------------------------------------------------------------------------

# The rows are already in the browser (the store): hand them to the grid there. A server
# callback would upload and download the whole list (megabytes at 10,000 jobs) per change.
# Two callbacks, rows and live fields: Dash holds a callback back while any of its inputs or
# states is the output of a callback in flight, and the live fields are fetched several times a
# second while a job runs, so one callback reading both kept a new row out of the grid for as
# long as a progress fetch was pending (issue #22, item 7). The rows' render reads the live fields
# as last drawn from window.fakeaiListLive, which the live fields' render keeps.
blueprint.clientside_callback(
    """function (rows, alerts) {
        const nu = window.dash_clientside.no_update, hide = {display: "none"}, show = {};
        if (rows == null) { return [nu, show, hide, hide]; }
        if (rows.length === 0) { return [[], hide, show, hide]; }
        const live = window.fakeaiListLive || {}, finished = %(finished)s;
        // A finished row's own fields are final: the live fields last drawn may still be those of
        // its last running moment (the progress fetch that drops it can land after the rows), and
        // laid over it they hid its tokens and kept its percent.
        const moving = (row) => live[row.id] && !finished.includes(row.status);
        // Alert badges and the "With alerts" filter field (assets/notifications.js).
        const shown = (row) => window.fakeaiAlerts.withAlerts(moving(row) ? Object.assign({}, row, live[row.id]) : row,
                                                              alerts);
        return [rows.map(shown), hide, hide, show];
    }""" % {"finished": json.dumps(sorted(FINISHED_STATUSES))},
    Output(ids.JobsList.GRID, "rowData"),
    Output(ids.JobsList.LOADING, "style"),
    Output(ids.JobsList.EMPTY, "style"),
    Output(ids.JobsList.GRID_WRAPPER, "style"),
    Input(ids.JobsList.STORE, "data"),
    Input(ids.Alerts.STORE, "data"),
)

blueprint.clientside_callback(
    """function (progress, rows, alerts) {
        const nu = window.dash_clientside.no_update;
        const before = window.fakeaiListLive || {};
        window.fakeaiListLive = progress || {};
        if (!rows || !progress) { return nu; }
        let grid = null;
        try { grid = window.dash_ag_grid.getApi("%s"); } catch (notReadyYet) { return nu; }
        // Only active jobs' live fields moved: update those rows in place, not 10,000 rows; a row
        // the grid does not hold yet gets them from the rows' render. A job that left the map
        // (it finished) gets its own row back, without the live fields it was drawn with.
        const update = rows.filter((row) => (progress[row.id] || before[row.id]) && grid.getRowNode(row.id))
            .map((row) => window.fakeaiAlerts.withAlerts(
                progress[row.id] ? Object.assign({}, row, progress[row.id]) : row, alerts));
        return update.length ? {update: update} : nu;
    }""" % ids.JobsList.GRID,
    Output(ids.JobsList.GRID, "rowTransaction"),
    Input(ids.JobsList.PROGRESS, "data"),
    State(ids.JobsList.STORE, "data"),
    State(ids.Alerts.STORE, "data"),
)


def job_stats(rows: list[dict] | None) -> dict[str, int]:
    """The header's counts: every job, whatever the filters show."""
    rows = rows or []
    statuses = [row.get("status") for row in rows]
    return {
        "total": len(rows),
        "active": sum(status in ACTIVE_STATUSES for status in statuses),
        "succeeded": statuses.count("succeeded"),
        "failed": statuses.count("failed") + statuses.count("cancelled"),
    }


@blueprint.callback(Output(ids.JobsList.GRID, "dashGridOptions"), Input(ids.Header.SEARCH, "value"))
def apply_search(query):
    # The grid filters its own rows in the browser: no round trip carries the job list.
    options = Patch()
    options["quickFilterText"] = (query or "").strip()
    return options


def grid_filter_model(status: str | None = "all", models: list[str] | None = None,
                      created_after: float | None = None) -> dict[str, Any]:
    """The grid's one filterModel for the header's filters; an empty dict shows every job.

    status: 'all' (no filter), a status, or a group ('active') whose statuses are ORed;
    models: base models, ORed; created_after: epoch seconds, inclusive.
    """
    model: dict[str, Any] = {}
    if status == WITH_ALERTS:
        model["alert_kinds"] = {"filterType": "text", "type": "notBlank"}
    elif status and status != "all":
        model["status"] = _any_of(STATUS_GROUPS.get(status, (status,)))
    if models:
        model["model"] = _any_of(models)
    if created_after is not None:
        model["created_at"] = {"filterType": "number", "type": "greaterThanOrEqual", "filter": created_after}
    return model


def _any_of(values) -> dict[str, Any]:
    conditions = [{"filterType": "text", "type": "equals", "filter": value} for value in values]
    if len(conditions) == 1:
        return conditions[0]
    # Each column's filterParams.maxNumConditions must allow this many (the active group needs five).
    return {"filterType": "text", "operator": "OR", "conditions": conditions}


@blueprint.callback(Output(ids.JobsList.GRID, "filterModel"), Input(ids.Header.STATUS_FILTER, "value"),
          Input(ids.Header.MODEL_FILTER, "value"), Input(ids.Header.CREATED_AFTER, "data"))
def apply_filters(status, models, created_after):
    return grid_filter_model(status, models, created_after)


# "(shown of total)" while a filter or search is on. The count comes from virtualRowData, not
# getDisplayedRowCount(): the grid pushes virtualRowData itself after every filter pass (it is
# already in the browser; no server callback reads it, so it never travels), whereas reading the
# API when filterModel changes would race the grid applying that model.
blueprint.clientside_callback(
    """function (shown, rows, filterModel, options) {
        if (!rows) { return ""; }
        const number = (n) => n.toLocaleString(window.fakeaiLocale());
        const searching = ((options || {}).quickFilterText || "").trim() !== "";
        const filtered = searching || Object.keys(filterModel || {}).length > 0;
        if (!filtered || !Array.isArray(shown)) { return "(" + number(rows.length) + ")"; }
        return "(" + T("%s", {shown: number(shown.length), total: number(rows.length)}) + ")";
    }""" % for_scripts("{shown} of {total}"),
    Output(ids.JobsList.COUNT, "children"),
    Input(ids.JobsList.GRID, "virtualRowData"),
    Input(ids.JobsList.STORE, "data"),
    Input(ids.JobsList.GRID, "filterModel"),
    Input(ids.JobsList.GRID, "dashGridOptions"),
)


# Relative times and estimated progress depend on the clock, not on the data: redraw those
# cells in the browser every tick, with no server round trip.
blueprint.clientside_callback(
    """function (_ticks) {
        let grid = null;
        try { grid = window.dash_ag_grid.getApi("%s"); } catch (notReadyYet) { return; }
        grid.refreshCells({force: true, columns: ["status", "created_at"]});
    }""" % ids.JobsList.GRID,
    Input(ids.Push.CLOCK, "n_intervals"),  # a clock of its own: it keeps time while updates are pushed
)


# -- selection --------------------------------------------------------------------------------

_JOB_PATH = re.compile(r"/jobs/([^/?#]+)/?$")


def job_id_from_path(pathname: str | None) -> str | None:
    """The job id of a ``…/jobs/<id>`` path, whatever prefix the app is mounted under."""
    match = _JOB_PATH.search(pathname or "")
    return match.group(1) if match else None


@blueprint.callback(Output(ids.Page.LOCATION, "pathname"), Input(ids.JobsList.GRID, "cellClicked"),
          prevent_initial_call=True)
def select_job(cell):
    if not cell or not cell.get("rowId"):
        return no_update
    return dash.get_relative_path(f"/jobs/{cell['rowId']}")


# In the browser, with job_id_from_path's own pattern: a job opened by its URL starts loading
# in the page's first round of callbacks, not one server round trip later. The id stays
# untrusted: the data source checks it before any use.
blueprint.clientside_callback(
    """function (pathname, selected) {
        const match = new RegExp(%s).exec(pathname || "");
        const job = match ? match[1] : null;
        // The page may come with its job selected (first_view.py): no second start.
        return job === (selected === undefined ? null : selected) ? window.dash_clientside.no_update : job;
    }""" % json.dumps(_JOB_PATH.pattern),
    Output(ids.JobDetails.SELECTED, "data"),
    Input(ids.Page.LOCATION, "pathname"),
    State(ids.JobDetails.SELECTED, "data"),
)


@blueprint.callback(Output(ids.JobsList.GRID, "selectedRows"),
          Input(ids.JobDetails.SELECTED, "data"), Input(ids.JobsList.SIGNATURE, "data"))
def highlight_selected(job_id, signature):
    # New rows can drop the grid's selection: re-apply it whenever the snapshot changes (the
    # small signature, not the list itself, is the trigger).
    if not signature:
        return no_update
    return {"ids": [job_id]} if job_id else []
