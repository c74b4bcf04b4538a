"""CostTracker: tokens trained (or estimated so far), their cost from the settings' price table, and a projection."""

from __future__ import annotations

import time
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, html, no_update
from flask import current_app

from fakeai_dash.server.blueprint import Blueprint
from fakeai_dash import format as fmt
from fakeai_dash import ids
from fakeai_dash.i18n import _
from fakeai_dash.data import current_source
from fakeai_dash.cost import cost_summary

# This component's callbacks: create_app registers them on the app it builds (server/blueprint.py).
blueprint = Blueprint()


def layout() -> dbc.Card:
    return dbc.Card([dbc.CardHeader(_("Cost")), dbc.CardBody(id=ids.CostTracker.BODY)],
                    className="detail-card h-100")


def price_table() -> dict[str, float] | None:
    settings = current_app.config.get("FAKEAI_DASH_SETTINGS")
    return getattr(settings, "price_per_1k_tokens", None)


def cost_rows(summary: dict[str, Any], budget: float | None = None) -> list[tuple[str, Any, str | None]]:
    """(label, text, note) rows for the panel from :func:`cost.cost_summary` output."""
    estimated = summary["estimated"] and summary["tokens"] is not None
    tokens_label = _("Tokens so far") if summary["estimated"] else _("Trained tokens")
    rows = [
        (tokens_label, fmt.tokens(summary["tokens"]), _("estimate from progress") if estimated else None),
        (_("Cost so far") if summary["estimated"] else _("Cost"),
         fmt.money(summary["cost"]) if summary["tokens"] is not None else fmt.MISSING,
         _("estimate") if estimated else None),
    ]
    if summary["projected_tokens"] is not None:
        rows.append((_("Projected total"), fmt.money(summary["projected_cost"]),
                     _("{tokens} tokens").format(tokens=fmt.tokens(summary['projected_tokens']))))
    rows.append((_("Price"), _("{price} / 1K tokens").format(price=fmt.price(summary['price_per_1k'])), None))
    if budget is not None:
        rows.append((_("Budget"), fmt.money(budget), budget_note(summary, budget)))
    return rows


def budget_note(summary: dict[str, Any], budget: float) -> str:
    """How the job stands against its budget: the projection while it runs, the cost once done."""
    amount = summary["projected_cost"] if summary["projected_cost"] is not None else summary["cost"]
    if amount is None:
        return _("per job")
    return (_("over by {amount}").format(amount=fmt.money(amount - budget)) if amount > budget
            else _("{amount} left").format(amount=fmt.money(budget - amount)))


@blueprint.callback(Output(ids.CostTracker.BODY, "children"), Input(ids.JobDetails.STORE, "data"))
def render_cost(store):
    job = (store or {}).get("job")
    if not job:
        return no_update
    summary = cost_summary(job, store.get("events") or [], price_table(), time.time(),
                           expected_total_tokens=job.get("expected_tokens"))
    items = []
    settings = current_app.config.get("FAKEAI_DASH_SETTINGS")
    for label, text, note in cost_rows(summary, getattr(settings, "budget_per_job_usd", None)):
        items.append(html.Dt(label))
        items.append(html.Dd([text, html.Span(note, className="estimate-note ms-2") if note else None]))
    month_budget = getattr(settings, "budget_per_month_usd", None)
    if month_budget is not None:  # only then is the whole list read (every job's cost this month)
        spent = current_source().month_spend(price_table(), time.time())
        items += [html.Dt(_("This month")), html.Dd([_("{spent} of {budget}").format(spent=fmt.money(spent), budget=fmt.money(month_budget)),
                                                 html.Span(_("all jobs"), className="estimate-note ms-2")])]
    children = [html.Dl(items, className="kv-grid mb-0")]
    if summary["tokens"] is None:
        children.append(html.Div(_("The API has not reported trained tokens for this job."), className="text-dim small mt-2"))
    return children
