"""Training-health alerts on screen: the alerts map the list's badges and the notifications
read, and the banner on a job's details (the rules themselves are fakeai_dash/alerts.py).

The sync loop computes alerts where it updates a job's curves; these callbacks only read its
picture, never the API.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, html, no_update

from fakeai_dash.server.blueprint import Blueprint
from fakeai_dash import ids
from fakeai_dash.auth.wording import localized
from fakeai_dash.i18n import _
from fakeai_dash.format import number as fmt_number
from fakeai_dash.data import current_source

# This component's callbacks: create_app registers them on the app it builds (server/blueprint.py).
blueprint = Blueprint()

# The banner's colour by kind: a broken run is an error, the rest are warnings.
ALERT_COLORS = {"nan": "danger", "divergence": "danger"}


@blueprint.callback(Output(ids.Alerts.STORE, "data"), Input(ids.Page.INTERVAL, "n_intervals"),
          Input(ids.Push.LIST_SIGNAL, "data"),  # pushed: the list (and its alerts) changed
          State(ids.Alerts.STORE, "data"))
def fetch_alerts(_ticks, _pushed, shown):
    # A small map (only jobs with alerts), read from the picture: a tick costs the API nothing.
    alerts = current_source().alerts()
    return alerts if alerts != (shown or {}) else no_update


def alert_text(alert: dict[str, Any]) -> str:
    """The alert's sentence in the page's language (from its parts; the stored English otherwise)."""
    return localized(alert.get("message"), alert.get("message_parts"))


def where_text(alert: dict[str, Any]) -> str | None:
    step = alert.get("step")
    if step is None or alert.get("kind") in ("budget",):
        return None
    if alert.get("kind") == "stall":
        return _("Last step seen: {step}.").format(step=fmt_number(step))
    return _("Marked on the loss chart at step {step}.").format(step=fmt_number(step))


def alert_banner(alerts: list[dict[str, Any]] | None) -> list[dbc.Alert] | None:
    """One alert box per training-health alert: its title, its one sentence and where it starts."""
    boxes = []
    for alert in alerts or []:
        if not isinstance(alert, dict) or not isinstance(alert.get("kind"), str):
            continue
        where = where_text(alert)
        boxes.append(dbc.Alert([
            html.Strong(f"⚠ {_(alert.get('title') or alert['kind'])}: ", className="me-1"),
            html.Span(alert_text(alert)),
            html.Span(f" {where}", className="text-secondary") if where else None,
        ], color=ALERT_COLORS.get(alert["kind"], "warning"),
            className=f"job-alert-banner alert-kind-{alert['kind']} mb-2 py-2"))
    return boxes or None


@blueprint.callback(Output(ids.Alerts.BANNER, "children"), Input(ids.JobDetails.SUMMARY, "data"))
def render_alert_banner(store):
    if not (store or {}).get("job"):
        return no_update
    status = store["job"].get("status")
    # A stall is about a running job; the picture may still hold one from its last running round.
    alerts = [a for a in store.get("alerts") or [] if a.get("kind") != "stall" or status == "running"]
    return alert_banner(alerts)
