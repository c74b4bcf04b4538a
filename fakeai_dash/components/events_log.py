"""EventsLogViewer: the job's newest events in a virtualised grid, filtered by level and type, with "Load older".

The history stays on the server (``events_page``): the browser holds the newest page, and each
"Load older" appends the next one, up to MAX_HELD rows. The grid draws only the rows on
screen, so a long log costs no Dash component per event. New events of a live job are
prepended with a Patch; level and type filters run in the grid (a filterModel), and the
counts come from a small per-group tally kept beside the rows, so no filter change or tick
sends the rows back to the server.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, Patch, State, dcc, html, no_update

from fakeai_dash.server.blueprint import Blueprint
from fakeai_dash import format as fmt
from fakeai_dash import ids
from fakeai_dash.i18n import N_, _, column_defs, current_locale
from fakeai_dash.api.client import ApiError
from fakeai_dash.data import current_source
from fakeai_dash.wire_values import normalize_level
from fakeai_dash.shared_results import shared_results

# This component's callbacks: create_app registers them on the app it builds (server/blueprint.py).
blueprint = Blueprint()

LEVELS = ("info", "warning", "error")
TYPES = ("message", "metrics")
# The filters' labels (the values, and the events' own level and type, stay as the API wrote them).
FILTER_LABELS = {"info": N_("info"), "warning": N_("warning"), "error": N_("error"), "message": N_("message"),
                 "metrics": N_("metrics")}
# Events fetched per page (newest first), and the most the browser holds (~1.5 MB of rows at
# 300 bytes each): past that "Load older" stops; the complete metrics are in the CSV export.
PAGE_SIZE = 200
# Bound (per worker): 32 pages of PAGE_SIZE rows, and 8 MB; a live job makes a new page version
# at every event, and old versions fall out least recently used first.
_SHARED_ROWS = shared_results(32, max_bytes=8 * 1024 * 1024)
MAX_HELD = 5000
ROW_HEIGHT = 30
MAX_VISIBLE_ROWS = 12


class Ids:
    """This panel's ids beyond ids.EventsLog (LIST, COUNT, LEVELS, TYPES); they belong there."""

    GRID = "events-log-grid"
    # The grid's box: its height follows the rows shown (the grid fills it), hidden when none.
    BOX = "events-log-grid-box"
    LOAD_OLDER = "events-log-load-older"
    HELD = "events-log-held"
    # {"job_id", "newest", "oldest", "held", "has_older", "counts": {"level|type": n}, "clicks": n}
    STATE = "events-log-state"


# One palette for every grid; the jobs list configures the same theme.
_GRID_THEME = (
    "themeQuartz.withParams({backgroundColor: 'var(--surface-0)', foregroundColor: 'var(--text-primary)', "
    "headerBackgroundColor: 'var(--surface-0)', headerTextColor: 'var(--text-secondary)', borderColor: 'var(--surface-2)', "
    "accentColor: 'var(--nvidia-green)', rowHoverColor: 'var(--surface-1)', oddRowBackgroundColor: 'var(--grid-odd-row-deep)', "
    "fontSize: 13, headerFontSize: 12, wrapperBorderRadius: 6, cellHorizontalPadding: 10})"
)

COLUMN_DEFS = [
    {"field": "time", "headerName": N_("Time (UTC)"), "width": 92, "minWidth": 92, "cellClass": "event-time",
     "tooltipValueGetter": {"function": "absoluteTime(params.data.created_at)"}},
    {"field": "level", "headerName": N_("Level"), "width": 84, "minWidth": 84,
     "cellClass": {"function": "'event-level level-' + eventLevelClass(params.data)"}},
    {"field": "type", "headerName": N_("Type"), "width": 84, "minWidth": 84, "cellClass": "event-type"},
    {"field": "message", "headerName": N_("Message"), "width": 300, "minWidth": 160, "tooltipField": "message",
     "cellClass": "event-message"},
    {"field": "data", "headerName": N_("Data"), "width": 200, "minWidth": 120, "cellClass": "event-data-cell",
     "valueFormatter": {"function": "eventDataText(params.value)"},
     "tooltipValueGetter": {"function": "eventDataJson(params.value)"}},
    # What the level and type filters test: unknown levels ride along with "info", unknown types
    # with "message", so an event with a level such as "debug" is never unreachable.
    {"field": "level_group", "hide": True, "filter": "agTextColumnFilter", "filterParams": {"maxNumConditions": 3}},
    {"field": "type_group", "hide": True, "filter": "agTextColumnFilter", "filterParams": {"maxNumConditions": 3}},
]


# -- pure helpers ------------------------------------------------------------------------------

def level_group(level: Any) -> str:
    level = normalize_level(level) or "info"
    return level if level in LEVELS else "info"


def type_group(kind: Any) -> str:
    kind = str(kind or "").lower()
    return kind if kind in TYPES else "message"


def event_row(event: dict[str, Any], index: int = 0) -> dict[str, Any]:
    """One grid row: what the columns show, the groups the filters test, and the event's id."""
    level = normalize_level(event.get("level")) or "info"
    data = event.get("data")
    return {
        "id": str(event.get("id") or f"event-{event.get('created_at')}-{index}"),
        "created_at": event.get("created_at"),
        "time": fmt.clock(event.get("created_at")),
        "level": level,
        "type": event.get("type") or "",
        "message": event.get("message") or "",
        "data": data if data else None,
        "level_group": level_group(level),
        "type_group": type_group(event.get("type")),
    }


def page_rows(events: list[dict[str, Any]], offset: int = 0) -> list[dict[str, Any]]:
    """Grid rows of a newest-first page, one per id (a page boundary can repeat an event)."""
    rows, seen = [], set()
    for index, event in enumerate(events):
        row = event_row(event, offset + index)
        if row["id"] not in seen:
            seen.add(row["id"])
            rows.append(row)
    return rows


def shared_page_rows(page: dict[str, Any], offset: int = 0) -> list[dict[str, Any]]:
    """page_rows of a kept page, built once per worker and shared (callers must not change the
    rows): every open page of a job asks for the same newest page. A page from the API (older
    than what is kept) has no version and is built each time."""
    if not page.get("version"):
        return page_rows(page["events"], offset)
    # The language is in the key though rows hold data and UTC clocks today: a translated word
    # added to a row later must not reach a page in another language.
    return _SHARED_ROWS((page["version"], offset, current_locale()), lambda: page_rows(page["events"], offset))


def tally(rows: list[dict[str, Any]], counts: dict[str, int] | None = None) -> dict[str, int]:
    """Rows per "level|type" group, added to ``counts``."""
    total = Counter(counts or {})
    total.update(f"{row['level_group']}|{row['type_group']}" for row in rows)
    return dict(total)


def filter_model(levels: list[str] | None, types: list[str] | None) -> dict[str, Any]:
    """The grid's filterModel for the checklists; every box ticked is no filter at all."""
    model = {}
    for column, picked, every in (("level_group", levels, LEVELS), ("type_group", types, TYPES)):
        picked = [value for value in every if value in (picked or [])]
        if len(picked) == len(every):
            continue
        # An unticked checklist shows nothing: a value no row has.
        conditions = [{"filterType": "text", "type": "equals", "filter": value} for value in picked or ["\u2205"]]
        model[column] = conditions[0] if len(conditions) == 1 else {
            "filterType": "text", "operator": "OR", "conditions": conditions}
    return model


def shown_count(counts: dict[str, int], levels: list[str] | None, types: list[str] | None) -> int:
    levels, types = set(levels or []), set(types or [])
    return sum(n for group, n in counts.items() if group.split("|")[0] in levels and group.split("|")[1] in types)


def new_rows_since(page: list[dict[str, Any]], newest_id: str | None) -> list[dict[str, Any]] | None:
    """The rows of a newest-first ``page`` newer than ``newest_id``; None when that event is not
    on the page (more arrived than a page holds, or the history was replaced): start afresh."""
    for index, row in enumerate(page):
        if row["id"] == newest_id:
            return page[:index]
    return None


def empty_text(held: int, shown: int) -> str:
    if not held:
        return _("No events yet.")
    return _("No events match the filters.") if not shown else ""


def held_text(state: dict[str, Any]) -> str:
    held = state.get("held", 0)
    if not held:
        return ""
    if not state.get("has_older"):
        return _("All {count} events loaded.").format(count=fmt.number(held))
    if held >= MAX_HELD:
        return _("The newest {count} events are loaded, the most this page keeps.").format(count=fmt.number(held))
    return _("The newest {count} events are loaded.").format(count=fmt.number(held))


def view_outputs(state: dict[str, Any], levels: list[str] | None, types: list[str] | None) -> dict[str, Any]:
    """Everything the panel shows besides the rows, from the state and the checklists."""
    shown = shown_count(state.get("counts") or {}, levels, types)
    held = state.get("held", 0)
    visible = max(1, min(shown, MAX_VISIBLE_ROWS))
    return {
        "filter": filter_model(levels, types),
        "count": "(" + _("{shown} of {held} shown").format(shown=shown, held=held) + ")",
        "message": empty_text(held, shown),
        "grid_style": {"height": f"{visible * ROW_HEIGHT + 36}px"} if shown else {"display": "none"},
        "older_disabled": not state.get("has_older") or held >= MAX_HELD,
        "older_style": {} if state.get("has_older") and held < MAX_HELD else {"display": "none"},
        "held": held_text(state),
    }


# -- layout ------------------------------------------------------------------------------------

def layout() -> dbc.Card:
    filters = html.Div([
        html.Div([html.Span(_("Level"), className="control-label me-2"),
                  dbc.Checklist(id=ids.EventsLog.LEVELS, inline=True, value=list(LEVELS),
                                options=[{"label": _(FILTER_LABELS[level]), "value": level} for level in LEVELS])],
                 className="d-flex align-items-center"),
        html.Div([html.Span(_("Type"), className="control-label me-2"),
                  dbc.Checklist(id=ids.EventsLog.TYPES, inline=True, value=list(TYPES),
                                options=[{"label": _(FILTER_LABELS[kind]), "value": kind} for kind in TYPES])],
                 className="d-flex align-items-center"),
    ], className="d-flex gap-4 flex-wrap mb-2")
    grid = dag.AgGrid(
        id=Ids.GRID,
        columnDefs=column_defs(COLUMN_DEFS),
        rowData=[],
        getRowId="params.data.id",
        defaultColDef={"sortable": False, "resizable": True, "suppressHeaderMenuButton": True,
                       "suppressHeaderFilterButton": True, "suppressMovable": True},
        dashGridOptions={
            "theme": {"function": _GRID_THEME},
            "rowHeight": ROW_HEIGHT,
            "headerHeight": 34,
            "animateRows": False,
            "suppressNoRowsOverlay": True,
            "suppressCellFocus": True,
            "enableCellTextSelection": True,
            "tooltipShowDelay": 300,
            "getRowClass": {"function": "eventRowClass(params)"},
        },
        filterModel={},
        className="events-grid",
        # Fitted by the grid's API whenever its size changes, not by flex columns: AG Grid keeps a
        # grid with flex columns in its delay-render state (header cells hidden) until the grid is
        # scrolled into view, so below the fold axe read a header row without column headers
        # (aria-required-children), and its first widths ran wider than a narrow card.
        columnSize="responsiveSizeToFit",
        style={"height": "100%", "width": "100%"},
    )
    return dbc.Card([
        dcc.Store(id=Ids.STATE),
        dbc.CardHeader([_("Events "), html.Span(id=ids.EventsLog.COUNT, className="text-secondary fw-normal")]),
        dbc.CardBody([
            filters,
            # LIST holds only the empty-state line: the job switch waits for its update (job_details'
            # PANEL_OUTPUTS), and the grid must never sit inside an output that gets replaced.
            html.Div(id=ids.EventsLog.LIST, className="panel-empty events-message"),
            html.Div(grid, id=Ids.BOX, style={"display": "none"}),
            html.Div([
                dbc.Button(_("Load older"), id=Ids.LOAD_OLDER, color="secondary", outline=True, size="sm",
                           style={"display": "none"}, title=_("Add the {count} events before the oldest shown").format(count=PAGE_SIZE)),
                html.Span(id=Ids.HELD, className="events-held"),
            ], className="d-flex align-items-center gap-3 mt-2"),
        ]),
    ], className="detail-card mb-3")


# -- callback ----------------------------------------------------------------------------------

def _fresh_state(job_id: str, rows: list[dict[str, Any]], has_older: bool) -> dict[str, Any]:
    return {"job_id": job_id, "newest": rows[0]["id"] if rows else None,
            "oldest": rows[-1]["id"] if rows else None, "held": len(rows), "has_older": bool(has_older),
            "counts": tally(rows)}


def events_update(source, job_id: str, state: dict[str, Any] | None, load_older: bool) -> tuple[Any, dict[str, Any]]:
    """(rowData output, new state) for a tick or a "Load older" click; reads pages, never the rows."""
    state = state if state and state.get("job_id") == job_id else None
    if state is None:
        page = source.events_page(job_id, None, PAGE_SIZE)
        rows = shared_page_rows(page)
        return rows, _fresh_state(job_id, rows, page["has_older"])
    if load_older:
        if not state.get("has_older") or state["held"] >= MAX_HELD or not state.get("oldest"):
            return no_update, state
        page = source.events_page(job_id, state["oldest"], min(PAGE_SIZE, MAX_HELD - state["held"]))
        rows = page_rows(page["events"], state["held"])
        patch = Patch()
        patch.extend(rows)
        new_state = {**state, "oldest": rows[-1]["id"] if rows else state["oldest"], "held": state["held"] + len(rows),
                     "has_older": bool(page["has_older"]) and bool(rows), "counts": tally(rows, state["counts"])}
        return patch, new_state
    page = source.events_page(job_id, None, PAGE_SIZE)
    rows = shared_page_rows(page)
    newer = new_rows_since(rows, state.get("newest")) if state.get("newest") else None
    if newer is None or state["held"] + len(newer) > MAX_HELD:
        if state.get("newest") is None and not rows:
            return no_update, state
        return rows, _fresh_state(job_id, rows, page["has_older"])
    if not newer:
        return no_update, state
    patch = Patch()
    for row in reversed(newer):
        patch.prepend(row)
    return patch, {**state, "newest": newer[0]["id"], "held": state["held"] + len(newer),
                   "counts": tally(newer, state["counts"])}


@blueprint.callback(
    Output(Ids.GRID, "rowData"),
    Output(Ids.GRID, "filterModel"),
    Output(Ids.BOX, "style"),
    Output(ids.EventsLog.COUNT, "children"),
    Output(ids.EventsLog.LIST, "children"),
    Output(Ids.LOAD_OLDER, "disabled"),
    Output(Ids.LOAD_OLDER, "style"),
    Output(Ids.HELD, "children"),
    Output(Ids.STATE, "data"),
    Input(ids.JobDetails.SIGNATURE, "data"),
    Input(ids.EventsLog.LEVELS, "value"),
    Input(ids.EventsLog.TYPES, "value"),
    Input(Ids.LOAD_OLDER, "n_clicks"),
    State(Ids.STATE, "data"),
)
def render_events(signature, levels, types, older_clicks, state):
    # The tiny signature store, not the job store, triggers: a tick with news costs one page read.
    # Every call reads the newest page and honours any "Load older" click not yet taken (counted
    # in the state): Dash drops a call's answer when a newer call overtakes it, so no call may
    # count on what triggered it.
    job_id = (signature or {}).get("job_id")
    if not job_id or not (signature or {}).get("signature"):
        return (no_update,) * 9
    clicks = older_clicks or 0
    load_older = (state or {}).get("job_id") == job_id and clicks > (state or {}).get("clicks", 0)
    try:
        rows_out, new_state = events_update(current_source(), job_id, state, load_older)
    except ApiError:
        return (no_update,) * 9  # the last rows stay; the API banner explains
    new_state = {**new_state, "clicks": clicks}
    view = view_outputs(new_state, levels, types)
    return (rows_out, view["filter"], view["grid_style"], view["count"], view["message"],
            view["older_disabled"], view["older_style"], view["held"],
            new_state if new_state != state else no_update)
