"""CheckpointManager: the job's checkpoints newest first, every metric, copyable model names, the best one badged."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, dcc, html, no_update

from fakeai_dash.server.blueprint import Blueprint
from fakeai_dash import format as fmt
from fakeai_dash import ids
from fakeai_dash.i18n import N_, _
from fakeai_dash.checkpoint_metrics import best_checkpoint
from fakeai_dash.metrics import ordered_metric_names

# This component's callbacks: create_app registers them on the app it builds (server/blueprint.py).
blueprint = Blueprint()

EMPTY_TEXT = N_("No checkpoints yet. The API saves one at intervals while the job trains "
              "(FakeAI: at steps 25, 50, 75 and 100; OpenAI: at the end of each of the last epochs).")


def layout() -> dbc.Card:
    return dbc.Card([
        dbc.CardHeader([_("Checkpoints "), html.Span(id=ids.Checkpoints.COUNT, className="text-secondary fw-normal")]),
        dbc.CardBody(id=ids.Checkpoints.BODY, className="p-0"),
    ], className="detail-card mb-3")


def metric_text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return fmt.MISSING if value is None else str(value)
    return f"{value:.4f}"


def checkpoint_rows(checkpoints: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """(metric column names, rows newest first) with ``best`` set on the best-by-validation-loss row."""
    names = ordered_metric_names(name for c in checkpoints for name in (c.get("metrics") or {}))
    best = best_checkpoint(checkpoints)
    ordered = sorted(checkpoints, key=lambda c: (c.get("step_number") or 0, c.get("created_at") or 0), reverse=True)
    rows = [{**c, "best": c.get("id") == best and best is not None} for c in ordered]
    return names, rows


def _row(checkpoint: dict[str, Any], names: list[str], index: int) -> html.Tr:
    name = checkpoint.get("fine_tuned_model_checkpoint") or checkpoint.get("id") or ""
    metrics = checkpoint.get("metrics") or {}
    step = [html.Span(str(checkpoint.get("step_number")), className="checkpoint-step")]
    if checkpoint["best"]:
        step.append(html.Span(_("best"), className="best-badge ms-2", title=_("Lowest validation loss")))
    return html.Tr([
        html.Td(step, className="text-nowrap"),
        html.Td(fmt.clock(checkpoint.get("created_at")), title=fmt.absolute_time(checkpoint.get("created_at")),
                className="text-nowrap"),
        *[html.Td(metric_text(metrics.get(n)), className="num") for n in names],
        html.Td(html.Div([
            html.Span(name, className="mono checkpoint-name", id=f"checkpoint-name-{index}"),
            dcc.Clipboard(content=name, title=_("Copy the checkpoint model name"), className="copy-button"),
        ], className="d-flex align-items-center gap-2")),
    ], className="checkpoint-row best-row" if checkpoint["best"] else "checkpoint-row")


@blueprint.callback(Output(ids.Checkpoints.BODY, "children"), Output(ids.Checkpoints.COUNT, "children"),
          Input(ids.JobDetails.SUMMARY, "data"))
def render_checkpoints(store):
    if not (store or {}).get("job"):
        return no_update, no_update
    checkpoints = store.get("checkpoints") or []
    if not checkpoints:
        return html.Div(_(EMPTY_TEXT), className="panel-empty"), "(0)"
    names, rows = checkpoint_rows(checkpoints)
    head = html.Thead(html.Tr([html.Th(_("Step")), html.Th(_("Created (UTC)")), *[html.Th(n, className="num") for n in names],
                               html.Th(_("Checkpoint model"))]))
    body = html.Tbody([_row(row, names, i) for i, row in enumerate(rows)])
    table = dbc.Table([head, body], size="sm", hover=True, responsive=True, className="detail-table mb-0",
                      id="checkpoints-table")
    return table, f"({len(checkpoints)})"
