"""ModelComparison: first vs last checkpoint for every shared metric, with % change coloured by improvement."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, html, no_update

from fakeai_dash.server.blueprint import Blueprint
from fakeai_dash import format as fmt
from fakeai_dash import ids
from fakeai_dash.i18n import N_, _
from fakeai_dash.checkpoint_metrics import compare_checkpoints

# This component's callbacks: create_app registers them on the app it builds (server/blueprint.py).
blueprint = Blueprint()

TOO_FEW = N_("Comparison needs at least two checkpoints; it appears once the job has saved a second one.")


def layout() -> dbc.Card:
    return dbc.Card([dbc.CardHeader(_("Model comparison: first vs last checkpoint")),
                     dbc.CardBody(id=ids.ModelComparison.BODY, className="p-0")], className="detail-card mb-3")


def change_class(improved: bool | None) -> str:
    return {True: "improved", False: "worsened"}.get(improved, "neutral")


def change_text(row: dict) -> str:
    # The arrow says which way the number moved; the colour says whether that was good.
    arrow = "▲ " if row["change"] > 0 else "▼ " if row["change"] < 0 else ""
    if row["pct_change"] is None:
        return f"{arrow}{row['change']:+.4f}"
    return f"{arrow}{fmt.percent(row['pct_change'], 1, signed=True)}"


@blueprint.callback(Output(ids.ModelComparison.BODY, "children"), Input(ids.JobDetails.SUMMARY, "data"))
def render_comparison(store):
    if not (store or {}).get("job"):
        return no_update
    comparison = compare_checkpoints(store.get("checkpoints") or [])
    if comparison is None:
        return html.Div(_(TOO_FEW), className="panel-empty")
    if not comparison["metrics"]:
        return html.Div(_("The first and last checkpoints share no numeric metric."), className="panel-empty")
    head = html.Thead(html.Tr([html.Th(_("Metric")), html.Th(_("Step {step}").format(step=comparison['first_step']), className="num"),
                               html.Th(_("Step {step}").format(step=comparison['last_step']), className="num"),
                               html.Th(_("Change"), className="num")]))
    rows = [html.Tr([
        html.Td(row["metric"]),
        html.Td(f"{row['first']:.4f}", className="num"),
        html.Td(f"{row['last']:.4f}", className="num"),
        html.Td(change_text(row), className=f"num change-{change_class(row['improved'])}",
                title=_("better") if row["improved"] else _("worse") if row["improved"] is False else _("no direction")),
    ], className="comparison-row", **{"data-metric": row["metric"], "data-improved": str(row["improved"]).lower()})
        for row in comparison["metrics"]]
    return dbc.Table([head, html.Tbody(rows)], size="sm", responsive=True, className="detail-table mb-0",
                     id="comparison-table")
