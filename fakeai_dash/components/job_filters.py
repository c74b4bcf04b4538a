"""Job filters in the header: model and created-period pickers, "Clear filters", and the filters kept in the URL.

The filtering itself happens in the grid, in the browser (jobs_list.grid_filter_model): the
server only turns the picks into a filter model and a query string, never sees the job list.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

import dash_bootstrap_components as dbc
from dash import (
    Input,
    Output,
    State,
    ctx,
    dcc,
    html,
    no_update,
)

from fakeai_dash.server.blueprint import Blueprint
from fakeai_dash import format as fmt
from fakeai_dash import ids
from fakeai_dash.api.models import KNOWN_STATUSES
from fakeai_dash.i18n import N_, _
from fakeai_dash.i18n import options as translated
from fakeai_dash.stages import STAGE_LABELS

# This component's callbacks: create_app registers them on the app it builds (server/blueprint.py).
blueprint = Blueprint()

# The documented statuses, labelled as the timeline labels its stages.
STATUS_FILTER_OPTIONS = [
    {"label": N_("All statuses"), "value": "all"},
    {"label": N_("Active"), "value": "active"},
    *({"label": STAGE_LABELS[status], "value": status} for status in KNOWN_STATUSES),
    {"label": N_("With alerts"), "value": "alerts"},  # training-health or budget alerts (alerts.py)
]
_STATUS_VALUES = {option["value"] for option in STATUS_FILTER_OPTIONS}

# Preset periods, in seconds back from the moment they are picked.
PERIODS = {"1h": 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400}
# A start that came with a link (or is no longer "the last N" of anything): shown, not pickable.
CUSTOM = "custom"
PERIOD_OPTIONS = [
    {"label": N_("Any time"), "value": "any"},
    {"label": N_("Last hour"), "value": "1h"},
    {"label": N_("Last 24 hours"), "value": "24h"},
    {"label": N_("Last 7 days"), "value": "7d"},
    {"label": N_("Last 30 days"), "value": "30d"},
    {"label": N_("Custom start"), "value": CUSTOM, "disabled": True},
]

# The query keys this module owns; every other key (the charts' smoothing/log/x, compare…) is
# someone else's and is carried through untouched.
QUERY_KEYS = ("q", "status", "model", "since")
EMPTY_FILTERS = {"q": "", "status": "all", "models": [], "since": None}


# -- pure helpers ------------------------------------------------------------------------------

def created_after_for(period: str | None, now: float) -> int | None:
    """The absolute start of a preset period picked at ``now`` (None for "any time").

    Rounded down to the minute, so the caption's minute-precise stamp is the exact bound.
    """
    seconds = PERIODS.get(period or "")
    if seconds is None:
        return None
    return int(now // 60 * 60) - seconds


def options_with(options: list[dict] | None, picked: list[str]):
    """``options`` plus any pick they lack (``no_update`` when none is missing).

    Dash 4's Dropdown drops a value missing from its options, so picks restored from a link must
    arrive with their options in the same response; the clientside options callback then
    rebuilds the whole list, with counts, because the value changed.
    """
    known = {option["value"] for option in options or []}
    missing = [model for model in picked if model not in known]
    if not missing:
        return no_update
    return [*(options or []), *({"label": model, "value": model} for model in missing)]


def normalize_filters(q: Any = "", status: Any = "all", models: Any = None, since: Any = None) -> dict[str, Any]:
    """Filter values in one canonical shape, whatever a control or a hand-edited link sent."""
    if isinstance(models, str):
        models = models.split(",")
    clean_models = list(dict.fromkeys(m.strip() for m in models or [] if isinstance(m, str) and m.strip()))
    try:
        since = int(float(since)) if since not in (None, "") else None
    except (TypeError, ValueError):
        since = None
    return {"q": (q or "").strip() if isinstance(q, str) else "",
            "status": status if status in _STATUS_VALUES else "all",
            "models": clean_models,
            "since": since if since and since > 0 else None}


def filters_from_query(search: str | None) -> dict[str, Any]:
    """The filters in a URL query such as ``?status=failed&model=a,b&since=1790000000``."""
    query = dict(parse_qsl((search or "").lstrip("?")))
    return normalize_filters(query.get("q"), query.get("status", "all"), query.get("model"), query.get("since"))


def query_with_filters(filters: dict[str, Any], search: str | None = None) -> str:
    """``search`` with this module's keys rewritten (empty filters dropped), other keys kept in order.

    Several models go in one comma-joined ``model`` key (commas left readable): the chart view's
    writer rebuilds the query through a dict, which would keep only the last of repeated keys.
    """
    pairs = [(k, v) for k, v in parse_qsl((search or "").lstrip("?"), keep_blank_values=True) if k not in QUERY_KEYS]
    filters = normalize_filters(filters.get("q"), filters.get("status"), filters.get("models"), filters.get("since"))
    if filters["q"]:
        pairs.append(("q", filters["q"]))
    if filters["status"] != "all":
        pairs.append(("status", filters["status"]))
    if filters["models"]:
        pairs.append(("model", ",".join(filters["models"])))
    if filters["since"]:
        pairs.append(("since", str(filters["since"])))
    return f"?{urlencode(pairs, safe=',')}" if pairs else ""


def filters_active(filters: dict[str, Any]) -> bool:
    return normalize_filters(**filters) != EMPTY_FILTERS


def period_caption(since: int | None) -> str:
    return _("created since {time}").format(time=fmt.short_time(since)) if since else ""


# -- layout ------------------------------------------------------------------------------------

def layout() -> list:
    """The filter controls, laid out inline after the search box."""
    return [
        html.Label(_("Filter by status"), htmlFor=ids.Header.STATUS_FILTER, className="visually-hidden"),
        dbc.Select(id=ids.Header.STATUS_FILTER, options=translated(STATUS_FILTER_OPTIONS), value="all", size="sm",
                   style={"width": "9.5rem"}),
        html.Label(_("Filter by base model"), htmlFor=ids.Header.MODEL_FILTER, className="visually-hidden"),
        dcc.Dropdown(id=ids.Header.MODEL_FILTER, options=[], value=[], multi=True, placeholder=_("All models"),
                     className="model-filter", style={"width": "16rem"}),
        html.Label(_("Filter by creation time"), htmlFor=ids.Header.PERIOD_FILTER, className="visually-hidden"),
        dbc.Select(id=ids.Header.PERIOD_FILTER, options=translated(PERIOD_OPTIONS), value="any", size="sm",
                   style={"width": "9rem"}),
        dcc.Store(id=ids.Header.CREATED_AFTER),
        html.Span(id=ids.Header.PERIOD_CAPTION, className="period-caption"),
        dbc.Button(_("✕ Clear filters"), id=ids.Header.CLEAR_FILTERS, color="link", size="sm",
                   className="clear-filters d-none", title=_("Show every job again")),
    ]


# -- callbacks ---------------------------------------------------------------------------------

def _changed(new, old):
    return new if new != old else no_update


@blueprint.callback(
    Output(ids.Page.LOCATION, "search", allow_duplicate=True),
    Output(ids.Header.SEARCH, "value"),
    Output(ids.Header.STATUS_FILTER, "value"),
    Output(ids.Header.MODEL_FILTER, "value"),
    Output(ids.Header.PERIOD_FILTER, "value"),
    Output(ids.Header.CREATED_AFTER, "data"),
    Output(ids.Header.MODEL_FILTER, "options", allow_duplicate=True),
    Input(ids.Page.LOCATION, "search"),
    Input(ids.Header.SEARCH, "value"),
    Input(ids.Header.STATUS_FILTER, "value"),
    Input(ids.Header.MODEL_FILTER, "value"),
    Input(ids.Header.PERIOD_FILTER, "value"),
    Input(ids.Header.CLEAR_FILTERS, "n_clicks"),
    State(ids.Header.CREATED_AFTER, "data"),
    State(ids.Header.MODEL_FILTER, "options"),
    # The charts' sync_view_with_url owns url.search; this one rewrites only QUERY_KEYS and must
    # also run on load to restore the filters from a shared link.
    prevent_initial_call="initial_duplicate",
)
def sync_filters_with_url(search, q, status, models, period, _clear, created_after, options):
    # One callback both ways, like the charts' view: the controls write the URL, and the URL
    # (on load, back/forward, or rewritten by the charts) sets the controls.
    trigger = ctx.triggered_id
    current = normalize_filters(q, status, models, created_after)
    if trigger == ids.Header.CLEAR_FILTERS:
        return (_changed(query_with_filters(EMPTY_FILTERS, search), search or ""),
                _changed("", q or ""), _changed("all", status), _changed([], models or []),
                _changed("any", period), _changed(None, created_after), no_update)
    if trigger in (ids.Header.SEARCH, ids.Header.STATUS_FILTER, ids.Header.MODEL_FILTER, ids.Header.PERIOD_FILTER):
        since = created_after
        if trigger == ids.Header.PERIOD_FILTER and period != CUSTOM:
            # Fixed now, so the list does not silently drift as the page stays open.
            since = created_after_for(period, time.time())
        query = query_with_filters({**current, "since": since}, search)
        return (_changed(query, search or ""), no_update, no_update, no_update, no_update,
                _changed(since, created_after), no_update)
    wanted = filters_from_query(search)
    since_out = _changed(wanted["since"], created_after)
    # A start from a link is not "the last N" of anything any more: show it as a custom start.
    period_out = no_update if since_out is no_update else _changed(CUSTOM if wanted["since"] else "any", period)
    return (no_update, _changed(wanted["q"], current["q"]), _changed(wanted["status"], current["status"]),
            _changed(wanted["models"], current["models"]), period_out, since_out,
            options_with(options, wanted["models"]))


@blueprint.callback(
    Output(ids.Header.CLEAR_FILTERS, "className"),
    Output(ids.Header.PERIOD_CAPTION, "children"),
    Input(ids.Header.SEARCH, "value"),
    Input(ids.Header.STATUS_FILTER, "value"),
    Input(ids.Header.MODEL_FILTER, "value"),
    Input(ids.Header.CREATED_AFTER, "data"),
)
def show_active_filters(q, status, models, created_after):
    active = filters_active({"q": q, "status": status, "models": models, "since": created_after})
    return "clear-filters" + ("" if active else " d-none"), period_caption(created_after)


# Options: the distinct base models in the jobs store with their counts, sorted, plus any pick
# the store lacks (the Dropdown would drop it). Built in the browser: a server callback would
# upload the whole job list once more on every store change and every pick.
blueprint.clientside_callback(
    """function (rows, picked) {
        const counts = new Map();
        (rows || []).forEach((row) => {
            if (row.model) { counts.set(row.model, (counts.get(row.model) || 0) + 1); }
        });
        (picked || []).forEach((model) => { if (!counts.has(model)) { counts.set(model, 0); } });
        const label = (model) => rows ? model + " (" + counts.get(model).toLocaleString("en-US") + ")" : model;
        return [...counts.keys()].sort().map((model) => ({label: label(model), value: model}));
    }""",
    Output(ids.Header.MODEL_FILTER, "options"),
    Input(ids.JobsList.STORE, "data"),
    Input(ids.Header.MODEL_FILTER, "value"),
)
