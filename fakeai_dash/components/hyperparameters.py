"""HyperparametersDisplay: epochs, batch size, learning-rate multiplier, method, DPO beta and seed of the job."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, html, no_update

from fakeai_dash.server.blueprint import Blueprint
from fakeai_dash import format as fmt
from fakeai_dash import ids
from fakeai_dash.i18n import N_, _

# This component's callbacks: create_app registers them on the app it builds (server/blueprint.py).
blueprint = Blueprint()

METHOD_LABELS = {"supervised": N_("Supervised"), "dpo": "DPO", "reinforcement": N_("Reinforcement")}


def layout() -> dbc.Card:
    return dbc.Card([dbc.CardHeader(_("Hyperparameters")), dbc.CardBody(id=ids.Hyperparameters.BODY)],
                    className="detail-card h-100")


def show_value(value: Any) -> str:
    """A hyperparameter as the API meant it: "auto" stays auto, numbers without float noise."""
    if value is None or value == "":
        return fmt.MISSING
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def hyperparameter_rows(job: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, text) pairs in display order; DPO beta only when the job has one."""
    hp = job.get("hyperparameters") or {}
    method = job.get("method_type")
    rows = [
        (_("Method"), _(METHOD_LABELS.get(method, str(method))) if method else fmt.MISSING),
        (_("Epochs"), show_value(hp.get("n_epochs"))),
        (_("Batch size"), show_value(hp.get("batch_size"))),
        (_("Learning-rate multiplier"), show_value(hp.get("learning_rate_multiplier"))),
    ]
    if hp.get("beta") is not None:
        rows.append((_("DPO beta"), show_value(hp.get("beta"))))
    rows.append((_("Seed"), show_value(job.get("seed"))))
    return rows


@blueprint.callback(Output(ids.Hyperparameters.BODY, "children"), Input(ids.JobDetails.SUMMARY, "data"))
def render_hyperparameters(store):
    job = (store or {}).get("job")
    if not job:
        return no_update
    return html.Dl([item for label, text in hyperparameter_rows(job)
                    for item in (html.Dt(label), html.Dd(text, className="auto" if text == "auto" else None))],
                   className="kv-grid mb-0")
