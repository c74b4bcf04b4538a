"""FirstList: every page arrives with the jobs list drawn (issue #22, item 4).

The list used to appear three steps after the layout: the fetch callback's round trip, then the
rows' render in the browser, then the grid. The layout is built per request (layout.py), so it
is filled in here from the server's picture, as a job's page is (first_view.py): the list's
stores, the grid's rows and the header's counts drawn from them.

Dash then leaves them be: on page load it runs a server callback fed only by other callbacks'
outputs (the header's counts) only once those outputs change, and the fetch, finding the list's
signature and a good API status in place, answers no_update. (The model filter's choices and the
selected row are still set by their own callbacks on load: tests/browser/test_first_list.py
shows the page right with every callback request blocked.) The live fields of
active jobs are left out on purpose: the fetch's first answer carries them, and their render
patches the rows in place (jobs_list.py).

A list the picture does not hold yet (a worker's first seconds), a shared store that is down or
an API in trouble give the ordinary page, whose callbacks load the list and say why, as before.
"""

from __future__ import annotations

import logging
from typing import Any

from dash import html

from fakeai_dash import ids
from fakeai_dash.components import header
from fakeai_dash.components.jobs_list import job_stats
from fakeai_dash.data import current_source

log = logging.getLogger(__name__)

_HIDDEN = {"display": "none"}


def list_settings(snapshot: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """Every (component id, property, value) the layout gets for the list ``snapshot``."""
    rows = snapshot["rows"]
    stats = job_stats(rows)
    settings = [
        (ids.JobsList.STORE, "data", rows), (ids.JobsList.SIGNATURE, "data", snapshot["signature"]),
        (ids.JobsList.STATS, "data", stats),
        # What the fetch would say of a good picture: with it in place, its first call is a quiet tick.
        (ids.Page.API_STATUS, "data", {"ok": True, "last_good": snapshot.get("at")}),
        (ids.Header.STATS, "children", header.render_stats(stats)),
        (ids.JobsList.LOADING, "style", _HIDDEN),
    ]
    if rows:
        # The rows as stored; the browser's render adds alert badges when the alerts arrive.
        settings += [(ids.JobsList.GRID, "rowData", rows), (ids.JobsList.GRID_WRAPPER, "style", {})]
    else:
        settings += [(ids.JobsList.EMPTY, "style", {})]
    return settings


def fill_jobs_list(root: html.Div) -> html.Div:
    """``root`` (the page's layout) with the jobs list drawn in, when the picture holds it."""
    try:
        source = current_source()
        # A page whose list is stale or unreachable loads it the ordinary way: the fetch
        # callback then says why in the banner, which this layout does not draw.
        if source.problem() or source.store_down_since():
            return root
        snapshot = source.jobs_snapshot_now()
        if snapshot is None:
            return root
        settings = list_settings(snapshot)
    except Exception:  # noqa: BLE001 — the page must load whatever this meets; the callbacks take over
        log.exception("could not draw the jobs list into the page; it loads as usual")
        return root
    for component_id, prop, value in settings:
        setattr(root[component_id], prop, value)
    return root


__all__ = ["fill_jobs_list", "list_settings"]
