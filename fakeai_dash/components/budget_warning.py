"""The create dialog's budget warning: shown under the cost estimate when the job would pass
its budget or the month's remaining budget. It warns; the submit button stays enabled."""

from __future__ import annotations

import time
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, html
from flask import current_app

from fakeai_dash.server.blueprint import Blueprint
from fakeai_dash import ids
from fakeai_dash.i18n import _
from fakeai_dash.budgets import budget_warnings
from fakeai_dash.components.create_job_form import estimated_cost
from fakeai_dash.data import current_source

# This component's callbacks: create_app registers them on the app it builds (server/blueprint.py).
blueprint = Blueprint()

C = ids.CreateJob


def warning_view(warnings: list[str]) -> Any:
    if not warnings:
        return None
    return dbc.Alert([html.Strong(_("Over budget. ")), *(html.Div(text) for text in warnings),
                      html.Div(_("You can still create the job."), className="text-secondary")],
                     color="warning", className="budget-warning mb-0 py-1 px-2 small", id="create-job-budget-alert")


@blueprint.callback(Output(ids.Budget.WARNING, "children"), Input(C.DATASET, "data"), Input(C.FIELDS["n_epochs"], "value"),
          Input(C.FIELDS["model"], "value"), Input(C.FIELDS["training_file"], "value"))
def show_budget_warning(dataset, n_epochs, model, training_file):
    settings = current_app.config["FAKEAI_DASH_SETTINGS"]
    job_budget, month_budget = settings.budget_per_job_usd, settings.budget_per_month_usd
    if job_budget is None and month_budget is None:
        return None
    model = model if isinstance(model, str) else None
    training_file = training_file if isinstance(training_file, str) else None
    projected = estimated_cost(dataset if isinstance(dataset, dict) else None, n_epochs, model, training_file,
                               settings.price_per_1k_tokens)
    if projected is None:
        return None
    spent = current_source().month_spend(settings.price_per_1k_tokens, time.time()) if month_budget is not None else 0.0
    return warning_view(budget_warnings(projected, job_budget, month_budget, spent))
