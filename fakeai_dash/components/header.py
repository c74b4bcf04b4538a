"""Header: title, auto-refresh switch, refresh and create buttons, search and filters, stats."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, callback, html

from fakeai_dash import ids
from fakeai_dash.components import job_filters


def layout() -> html.Header:
    title = html.Div([
        html.H1(["Fine-Tuning ", html.Span("Dashboard", className="accent")], className="app-title"),
        html.P("Watch, launch and cancel LLM fine-tuning jobs", className="app-subtitle"),
    ])
    controls = html.Div([
        dbc.Switch(id=ids.Header.AUTO_REFRESH, label="Auto-refresh", value=True, className="mb-0 me-2"),
        dbc.Button("↻ Refresh", id=ids.Header.REFRESH, color="secondary", outline=True, size="sm",
                   className="me-2", title="Fetch the latest jobs now"),
        dbc.Button("+ Create fine-tuning job", id=ids.Header.CREATE, color="primary", size="sm"),
    ], className="d-flex align-items-center flex-wrap gap-1")
    filters = html.Div([
        html.Label("Search jobs", htmlFor=ids.Header.SEARCH, className="visually-hidden"),
        dbc.Input(id=ids.Header.SEARCH, type="search", debounce=0.3, size="sm",
                  placeholder="Search id, model, suffix, fine-tuned model…", style={"width": "20rem"}),
        *job_filters.layout(),
    ], className="job-filters d-flex align-items-center gap-2 flex-wrap mt-2")
    stats = html.Div(id=ids.Header.STATS, className="d-flex gap-2 flex-wrap")
    # Stats sit beside the title so the filters get a row of their own without the header
    # growing taller (the grid's height is the viewport minus the header).
    return html.Header([
        html.Div([title, stats, controls], className="d-flex justify-content-between align-items-center flex-wrap gap-2"),
        filters,
    ], className="app-header")


def _stat(value: int | str, label: str, kind: str) -> html.Div:
    return html.Div([html.Div(value, className="stat-value"), html.Div(label, className="stat-label")],
                    className=f"stat-card stat-{kind}", id=f"stat-{kind}")


@callback(Output(ids.Header.STATS, "children"), Input(ids.JobsList.STATS, "data"))
def render_stats(stats: dict[str, int] | None) -> list[html.Div]:
    # Every job counts here, whatever the filters hide in the grid (jobs_list.job_stats).
    if stats is None:
        return [_stat("…", label, kind) for kind, label in _STAT_LABELS]
    return [_stat(stats.get(kind, 0), label, kind) for kind, label in _STAT_LABELS]


_STAT_LABELS = (("total", "Total"), ("active", "Active"), ("succeeded", "Succeeded"),
                ("failed", "Failed / cancelled"))


@callback(Output(ids.Page.INTERVAL, "disabled"), Input(ids.Header.AUTO_REFRESH, "value"))
def toggle_polling(auto_refresh: bool) -> bool:
    # Disabling the Interval stops the ticks themselves: no request leaves the browser.
    return not auto_refresh
