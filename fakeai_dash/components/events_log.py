"""EventsLogViewer: the job's events newest first, filtered by level and type, with metrics data as expandable JSON."""

from __future__ import annotations

import json
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, callback, html, no_update

from fakeai_dash import format as fmt
from fakeai_dash import ids
from fakeai_dash.metrics import filter_events, normalize_level

LEVELS = ("info", "warning", "error")
TYPES = ("message", "metrics")
# A long OpenAI run logs thousands of events; the newest this many are drawn.
MAX_ROWS = 500


def layout() -> dbc.Card:
    filters = html.Div([
        html.Div([html.Span("Level", className="control-label me-2"),
                  dbc.Checklist(id=ids.EventsLog.LEVELS, inline=True, value=list(LEVELS),
                                options=[{"label": level, "value": level} for level in LEVELS])],
                 className="d-flex align-items-center"),
        html.Div([html.Span("Type", className="control-label me-2"),
                  dbc.Checklist(id=ids.EventsLog.TYPES, inline=True, value=list(TYPES),
                                options=[{"label": kind, "value": kind} for kind in TYPES])],
                 className="d-flex align-items-center"),
    ], className="d-flex gap-4 flex-wrap mb-2")
    return dbc.Card([
        dbc.CardHeader(["Events ", html.Span(id=ids.EventsLog.COUNT, className="text-secondary fw-normal")]),
        dbc.CardBody([filters, html.Div(id=ids.EventsLog.LIST, className="events-list")]),
    ], className="detail-card mb-3")


def effective_filters(levels: list[str] | None, types: list[str] | None,
                      events: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """The filter sets to apply: levels and types the checklists do not name ride along with "info" / "message".

    So an event with a level such as "debug" or a new type is never unreachable.
    """
    levels, types = list(levels or []), list(types or [])
    if "info" in levels:
        levels += [lvl for lvl in {normalize_level(e.get("level")) for e in events} if lvl not in LEVELS]
    if "message" in types:
        types += [t for t in {str(e.get("type") or "").lower() for e in events} if t not in TYPES]
    return levels, types


def level_class(level: Any) -> str:
    level = normalize_level(level)
    return f"level-{level}" if level in LEVELS else "level-other"


def event_row(event: dict[str, Any]) -> html.Div:
    level = normalize_level(event.get("level")) or "info"
    parts = [
        html.Span(fmt.clock(event.get("created_at")), className="event-time",
                  title=fmt.absolute_time(event.get("created_at"))),
        html.Span(level, className=f"event-level {level_class(level)}"),
        html.Span(event.get("type") or "", className="event-type"),
        html.Span(event.get("message") or "", className="event-message"),
    ]
    if event.get("data"):
        parts.append(html.Details([html.Summary("data"),
                                   html.Pre(json.dumps(event["data"], indent=2, sort_keys=True), className="event-json")],
                                  className="event-data"))
    return html.Div(parts, className=f"event-row {level_class(level)}", **{"data-type": event.get("type") or ""})


@callback(
    Output(ids.EventsLog.LIST, "children"),
    Output(ids.EventsLog.COUNT, "children"),
    Input(ids.JobDetails.STORE, "data"),
    Input(ids.EventsLog.LEVELS, "value"),
    Input(ids.EventsLog.TYPES, "value"),
)
def render_events(store, levels, types):
    if not (store or {}).get("job"):
        return no_update, no_update
    events = store.get("events") or []
    levels, types = effective_filters(levels, types, events)
    shown = filter_events(events, levels, types)
    count = f"({len(shown)} of {len(events)} shown)"
    if not shown:
        text = "No events yet." if not events else "No events match the filters."
        return html.Div(text, className="panel-empty"), count
    rows = [event_row(event) for event in shown[:MAX_ROWS]]
    if len(shown) > MAX_ROWS:
        rows.append(html.Div(f"… {len(shown) - MAX_ROWS} older events not drawn", className="panel-empty"))
    return rows, count
