"""JobStatusTimeline: the job's stages with their times and durations, total elapsed time and an ETA range."""

from __future__ import annotations

import time
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, html, no_update

from fakeai_dash.server.blueprint import Blueprint
from fakeai_dash import format as fmt
from fakeai_dash import ids
from fakeai_dash.i18n import _
from fakeai_dash.metrics import eta_range
from fakeai_dash.stages import TERMINAL_STATUSES, stage_timeline
from fakeai_dash.wire_values import normalize_status

# This component's callbacks: create_app registers them on the app it builds (server/blueprint.py).
blueprint = Blueprint()


def layout() -> dbc.Card:
    return dbc.Card([
        dbc.CardHeader(html.Div([
            html.Span(_("Status timeline")),
            html.Div([html.Span(id=ids.StatusTimeline.ELAPSED), html.Span(id=ids.StatusTimeline.ETA)],
                     className="timeline-summary"),
        ], className="d-flex justify-content-between align-items-center flex-wrap gap-2")),
        dbc.CardBody(html.Ol(id=ids.StatusTimeline.BODY, className="stage-track")),
    ], className="detail-card mb-3")


def summary(job: dict[str, Any], events: list[dict[str, Any]], now: float) -> dict[str, str | None]:
    """Total elapsed text, and the ETA text for unfinished jobs (None when finished or unknowable)."""
    status = normalize_status(job.get("status"))
    start = job.get("created_at")
    end = job.get("finished_at") if status in TERMINAL_STATUSES else None
    elapsed = None
    if start:
        elapsed = (end or now) - start if (end or status not in TERMINAL_STATUSES) else None
    eta = eta_range(job, events, now)
    eta_text = None
    if eta is not None:
        eta_text = _("finishing now") if eta[1] <= 0 else fmt.duration_range(*eta)
    return {"elapsed": None if elapsed is None else fmt.duration(elapsed), "eta": eta_text}


def stage_item(stage: dict[str, Any]) -> html.Li:
    state = stage["state"]
    detail = []
    if stage["start"] is not None:
        detail.append(html.Div(fmt.clock(stage["start"]), className="stage-time", title=fmt.absolute_time(stage["start"])))
    if stage["duration"] is not None and stage["name"] not in TERMINAL_STATUSES:
        text = _("for {duration}") if state == "current" else "{duration}"
        detail.append(html.Div(text.format(duration=fmt.duration(stage["duration"])), className="stage-duration"))
    elif state == "skipped":
        detail.append(html.Div(_("skipped"), className="stage-duration"))
    return html.Li([html.Span(className="stage-dot"), html.Div(_(stage["label"]), className="stage-label"), *detail],
                   className=f"stage stage-{state} stage-name-{stage['name']}",
                   **{"data-stage": stage["name"], "data-state": state})


@blueprint.callback(
    Output(ids.StatusTimeline.BODY, "children"),
    Output(ids.StatusTimeline.ELAPSED, "children"),
    Output(ids.StatusTimeline.ETA, "children"),
    Input(ids.JobDetails.STORE, "data"),
)
def render_timeline(store):
    job = (store or {}).get("job")
    if not job:
        return no_update, no_update, no_update
    now = time.time()
    events = store.get("events") or []
    stages = stage_timeline(job, events, now)
    info = summary(job, events, now)
    finished = normalize_status(job.get("status")) in TERMINAL_STATUSES
    elapsed = [html.Span(_("Total ") if finished else _("Elapsed "), className="detail-label"), info["elapsed"]] \
        if info["elapsed"] else None
    eta = [html.Span(_("ETA "), className="detail-label"), info["eta"]] if info["eta"] else None
    return [stage_item(stage) for stage in stages], elapsed, eta
