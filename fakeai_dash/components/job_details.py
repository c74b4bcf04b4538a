"""JobDetails: the right panel for the selected job (header for now; panels come next)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, callback, html

from fakeai_dash import ids
from fakeai_dash.theme import status_class, status_label


def layout() -> html.Div:
    return html.Div(id=ids.JobDetails.CONTAINER, children=_placeholder())


def _placeholder(text: str = "Select a job to see its details") -> dbc.Card:
    return dbc.Card(dbc.CardBody(text, className="details-placeholder"))


@callback(Output(ids.JobDetails.CONTAINER, "children"),
          Input(ids.JobDetails.SELECTED, "data"), Input(ids.JobsList.STORE, "data"))
def render_details(job_id, rows):
    if not job_id:
        return _placeholder()
    job = next((row for row in rows or [] if row.get("id") == job_id), None)
    if job is None:
        return _placeholder("Loading job…" if rows is None else f"Job {job_id} was not found")
    return dbc.Card([
        dbc.CardHeader(html.Div([
            html.Span(job["id"], className="mono me-2", id="detail-job-id"),
            html.Span(status_label(job["status"]), className=f"status-badge {status_class(job['status'])}"),
        ])),
        dbc.CardBody([html.Div(["Model: ", html.Strong(job.get("model"))]),
                      html.Div(["Fine-tuned model: ", html.Span(job.get("fine_tuned_model") or "—", className="mono")])]),
    ])
