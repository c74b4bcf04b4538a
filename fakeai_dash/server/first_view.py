"""FirstView: a job opened by its URL (a link, a bookmark, a reload) arrives drawn.

Such a page used to wait for three rounds of callbacks before its first chart — the job's data,
then the panels, then the graphs' figures — each round also waiting for the browser's main
thread, busy starting the page. The layout is built per request (layout.py), so for
``…/jobs/<id>`` it is filled in here from the server's picture, by the very functions the
callbacks run: the job's stores, the panels above the charts, the progress bar and the graphs
with their figures. The callbacks then find everything in place (the fetch answers no_update,
the charts are not redrawn: their drawn-state store says what they hold).

The graphs need plotly.js before they mount (a dcc.Graph without it fetches the 4.8 MB full
bundle), so a job's page loads the basic bundle, and its locale, as its first scripts
(``plotly_first``); the list page still loads none.

A job the picture does not hold yet (nobody has watched it: a colleague's link, a notification)
is fetched on the spot, once across workers, within a short deadline (sync/cold.py), after the
interest caps admit it. Past the deadline, an id that is not one, a refused or unknown id, or any
trouble gives the ordinary empty page, whose callbacks load the job (and say why not) as before. The request has
passed the sign-in gate (auth/gate.py) like every other; the page's URL comes from the Referer
(``Referrer-Policy: same-origin`` sends it on the page's own requests) and is untrusted.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import dash
from dash import Patch, html
from flask import has_request_context, request

from fakeai_dash import ids
from fakeai_dash.api.client import ApiError
from fakeai_dash.components import (
    checkpoints,
    cost_tracker,
    hyperparameters,
    job_details,
    model_comparison,
    status_timeline,
    training_alerts,
    training_progress,
)
from fakeai_dash.components.jobs_list import job_id_from_path
from fakeai_dash.data import NotReady, current_source
from fakeai_dash.theme import normalize_theme
from fakeai_dash.validation import is_valid_id

log = logging.getLogger(__name__)

# assets/theme_boot.js keeps the theme it applied in this cookie: the figures are drawn in it.
THEME_COOKIE = "fakeai-dash-theme"
# The vendored plotly.js files (assets/vendor/, dist/ of plotly.js@4.1.1) and their version, as
# assets/chart_loader.js names them (a unit test keeps the two equal).
PLOTLY_VERSION = "4.1.1"
PLOTLY_BUNDLE = "plotly-basic.min.js"
PLOTLY_LOCALE_FILES = {code: file for code, (_name, file) in training_progress.PLOTLY_LOCALES.items()}
PRELOADED_CHUNKS = ("dash/dcc/async-graph.js",)


def plotly_first(app: dash.Dash, path: str, language: str) -> str:
    """The script tags a page at ``path`` loads before Dash's own: plotly.js's basic bundle and
    the language's locale on a job's URL (its graphs are in the first layout), else none."""
    if not job_id_from_path(path):
        return ""
    tags = [f'<script src="{app.get_asset_url("vendor/" + PLOTLY_BUNDLE)}?m={PLOTLY_VERSION}"></script>']
    if language in PLOTLY_LOCALE_FILES:
        source = app.get_asset_url("vendor/" + PLOTLY_LOCALE_FILES[language])
        tags.append(f'<script src="{source}?m={PLOTLY_VERSION}" data-plotly-locale="{language}"></script>')
    # dcc.Graph's own code, an on-demand chunk, as a plain script: fetched by the graph itself, it
    # ran ~200 ms after arriving (Chromium runs a script inserted later at low priority), the
    # chart waiting on it. Run here, it is registered (webpack's chunk array) before dcc starts.
    for chunk in PRELOADED_CHUNKS:
        tags.append(f'<script src="{app.config.requests_pathname_prefix}_dash-component-suites/{chunk}"></script>')
    return "".join(tags)


def page_url() -> tuple[str, str] | None:
    """(path, query) of the page this layout request comes from, or None outside one."""
    if not has_request_context() or not request.referrer:
        return None
    parts = urlsplit(request.referrer)
    return parts.path, parts.query


def fill_job_page(root: html.Div) -> html.Div:
    """``root`` (the page's layout) with the job of the page's URL drawn in, when it can be."""
    where = page_url()
    job_id = job_id_from_path(where[0]) if where else None
    if not job_id or not is_valid_id(job_id):
        return root
    try:
        settings = _job_page(job_id, where[1])
    except (NotReady, ApiError):
        return root  # not in the picture yet, or the API's error: the callbacks load it and say so
    except Exception:  # noqa: BLE001 — the page must load whatever this meets; the callbacks take over
        log.exception("could not draw job %s into its page; it loads as usual", job_id)
        return root
    # Set only once all is computed: never a half-filled page.
    for component_id, prop, value in settings:
        setattr(root[component_id], prop, value)
    return root


def _job_page(job_id: str, query: str) -> list[tuple[str, str, Any]]:
    """Every (component id, property, value) the layout gets for ``job_id``."""
    # The picture's entry, or a cold job fetched on the spot within a short deadline (sync/cold.py);
    # NotReady past it.
    detail = current_source().first_view_detail(job_id)
    store, signature, summary = job_details.detail_stores(job_id, detail)
    settings = [(ids.JobDetails.SELECTED, "data", job_id), (ids.JobDetails.STORE, "data", store),
                (ids.JobDetails.SIGNATURE, "data", signature), (ids.JobDetails.SUMMARY, "data", summary),
                (ids.JobDetails.BODY, "style", {}), (ids.JobDetails.PLACEHOLDER_CARD, "style", {"display": "none"})]
    settings += _panels_drawn_from(store, summary)
    # The chart controls as the URL's query sets them (sync_view_with_url would set them anyway).
    view = training_progress.view_from_query(query)
    progress = ids.TrainingProgress
    settings += [(progress.SMOOTHING, "value", view["smoothing"]), (progress.LOG_Y, "value", view["log"]),
                 (progress.X_AXIS, "value", view["x"])]
    theme = normalize_theme(request.cookies.get(THEME_COOKIE))
    drawn = training_progress.render_progress(store, view["smoothing"], view["log"], view["x"], zoom=None,
                                              _graphs=None, drawn=None, theme=theme)
    outputs = _outputs(training_progress, training_progress.render_progress, drawn)
    figures = {component: value for component, prop, value in outputs if prop == "figure"}
    settings += [entry for entry in outputs if entry[1] != "figure"]
    settings += [(progress.CHARTS, "children", training_progress.drawn_graphs(figures)), (progress.MOUNTED, "data", True)]
    return settings


# The panels drawn from the job's stores alone, each by its own callback's function (its component,
# the function, and which store it reads). On page load Dash runs a callback fed by another's
# outputs only if those changed, and the fetch, finding the stores in place, changes nothing: so
# these are drawn here, or never. test_first_view checks this table against the callbacks.
PANELS_FROM_STORES = (
    (job_details, job_details.render_header, "summary"),
    (job_details, job_details.render_error_banner, "summary"),
    (status_timeline, status_timeline.render_timeline, "store"),
    (hyperparameters, hyperparameters.render_hyperparameters, "summary"),
    (cost_tracker, cost_tracker.render_cost, "store"),
    (training_alerts, training_alerts.render_alert_banner, "summary"),
    (checkpoints, checkpoints.render_checkpoints, "summary"),
    (model_comparison, model_comparison.render_comparison, "summary"),
)


def _panels_drawn_from(store: dict[str, Any], summary: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """Every (component id, property, value) of the PANELS_FROM_STORES."""
    values = {"store": store, "summary": summary}
    settings = []
    for component, render, reads in PANELS_FROM_STORES:
        settings += _outputs(component, render, render(values[reads]))
    return settings


def _outputs(component, render, values: Any) -> list[tuple[str, str, Any]]:
    """``render``'s answer as (component id, property, value), by the Outputs its callback
    declares; no_update and patches left out (they mean "as it is")."""
    declared = component.blueprint.outputs_of(render)
    values = list(values) if len(declared) > 1 else [values]
    return [(output.component_id, output.component_property, value)
            for output, value in zip(declared, values, strict=True)
            if value is not dash.no_update and not isinstance(value, Patch)]
