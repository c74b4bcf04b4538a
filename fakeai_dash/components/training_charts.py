"""TrainingProgress's two charts: what a refresh, a control or a zoom sends to each graph.

A figure is built from the job's complete history (smoothed at full resolution, then thinned to
the visible range) once per history version per worker, shared by every viewer; what travels is
the difference from what the browser holds: nothing, points appended (a live job), points
replaced (a zoom, a curve thinned anew), or the whole figure (another job, axis or set of traces).
"""

from __future__ import annotations

import json
import math
from typing import Any

from dash import Patch, no_update

from fakeai_dash.figure_patches import append_plan, figure_notes, replace_plan, trace_shape
from fakeai_dash.figures import accuracy_figure, accuracy_uirevision, loss_figure, loss_uirevision
from fakeai_dash.i18n import _
from fakeai_dash import i18n
from fakeai_dash.series import MetricHistory
from fakeai_dash.shared_results import shared_results


def figure_update(drawn: dict[str, Any] | None, figure):
    """The figure to send: ``no_update`` when nothing changed, a Patch appending new points or
    replacing the points of the traces that changed (a zoom, a re-thinned curve), or the whole
    figure when its traces themselves changed."""
    plan, extend = append_plan(drawn, figure), True
    if plan is None:
        plan, extend = replace_plan(drawn, figure), False
        if plan is None:
            return figure
    notes = figure_notes(figure)
    notes_changed = list(drawn.get("notes") or []) != notes
    if not plan and not notes_changed:
        return no_update
    patch = Patch()
    for index, values in plan:
        for attribute, value in values.items():
            if extend:
                patch["data"][index][attribute].extend(value)
            else:
                patch["data"][index][attribute] = value
    if notes_changed:
        patch["layout"]["annotations"] = [a.to_plotly_json() for a in figure.layout.annotations or ()]
        patch["layout"]["shapes"] = [shape.to_plotly_json() for shape in figure.layout.shapes or ()]
    return patch


def relayout_x_range(relayout: dict[str, Any] | None) -> tuple[str, list[float] | None]:
    """What a graph's relayoutData says of its x axis: ``("range", [low, high])`` after a zoom
    or pan, ``("auto", None)`` after a reset (double-click), ``("none", None)`` for anything
    else (a y-only zoom, a resize, the first draw)."""
    relayout = relayout or {}
    bounds = relayout.get("xaxis.range")
    if not isinstance(bounds, (list, tuple)) or len(bounds) != 2:
        bounds = [relayout.get("xaxis.range[0]"), relayout.get("xaxis.range[1]")]
    try:
        low, high = (float(value) for value in bounds)
    except (TypeError, ValueError):
        low = high = None
    if low is not None and math.isfinite(low) and math.isfinite(high) and low != high:
        return "range", sorted([low, high])
    if relayout.get("xaxis.autorange") is True:
        return "auto", None
    return "none", None


def loading_note(loaded: float | None) -> str | None:
    """"Loading history 40%" while the server still fetches older history; None once complete."""
    if loaded is None or loaded >= 1:
        return None
    return _("Loading history {percent}%").format(percent=max(0, min(99, int(loaded * 100))))


GRAPHS = ("loss", "accuracy")
# The graphs' x-axis changes, as zoom_from_relayout keeps them: {graph: {"relayout": {...}, "seq": n}}.
# Not an id of ids.py yet (it belongs in ids.TrainingProgress).


def pending_zooms(zoom: dict[str, Any] | None, drawn: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The zooms the drawn charts have not taken yet: ``{graph: {"action", "range", "seq"}}``.

    Judged by sequence number, not by what triggered the call: Dash drops the answer of a call
    that a newer call of the same callback overtakes, so every call applies whatever zoom the
    graphs hold that the drawn state does not record yet.
    """
    ranges = (drawn or {}).get("ranges") or {}
    pending = {}
    for graph in GRAPHS:
        entry = (zoom or {}).get(graph) or {}
        if entry.get("seq") is None or entry.get("seq") == (ranges.get(graph) or {}).get("seq"):
            continue
        action, x_range = relayout_x_range(entry.get("relayout"))
        pending[graph] = {"action": action, "range": x_range, "seq": entry["seq"]}
    return pending


def chart_updates(store: dict[str, Any], view: dict[str, Any], drawn: dict[str, Any] | None,
                  history: MetricHistory | None, loaded: float = 1.0,
                  zoom: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The two graphs' figure updates and the new drawn-state store.

    ``drawn`` remembers, per graph, what the browser holds (trace shapes) and the x range the
    user zoomed to (with the uirevision it belongs to: another job, axis or scale unzooms, as
    Plotly does). ``zoom`` is the zoom store. Returns ``({graph: figure | Patch | no_update},
    new drawn)``: a graph whose points did not change gets no_update.
    """
    job_id = store["job"]["id"]
    checkpoints = sorted(store.get("checkpoints") or [], key=lambda c: c.get("step_number") or 0)
    # Another theme redraws the whole figure (its template and line colours), as another job does.
    key = {"job": job_id, "x": view["x"], "log": view["log"], "theme": view.get("theme", "dark")}
    same = bool(drawn) and drawn.get("key") == key
    revisions = {"loss": loss_uirevision(job_id, view["x"], view["log"]),
                 "accuracy": accuracy_uirevision(job_id, view["x"])}
    old_ranges = (drawn or {}).get("ranges") or {}
    zooms = pending_zooms(zoom, drawn)
    new_drawn = {"key": key, "ranges": {}}
    outputs = {}
    note = loading_note(loaded)
    series = history if history is not None else MetricHistory()
    for graph in GRAPHS:
        kept = old_ranges.get(graph) or {}
        x_range = kept.get("range") if kept.get("uirevision") == revisions[graph] else None
        seq = kept.get("seq")
        if graph in zooms:
            seq = zooms[graph]["seq"]
            if zooms[graph]["action"] != "none":
                x_range = zooms[graph]["range"]
        new_drawn["ranges"][graph] = {"uirevision": revisions[graph], "range": x_range, "seq": seq}
        outputs[graph], new_drawn[graph] = graph_update(graph, job_id, series, view, checkpoints, x_range, note,
                                                        drawn.get(graph) if same else None, store.get("alerts"))
    return outputs, new_drawn


# Every viewer of a job at one history version gets the same figures, and viewers that hold the
# same drawn figure get the same update: both are computed once per worker (shared_results.py).
# Bounds (per worker): a figure is downsampled to a few thousand points (~250 KB as Python lists,
# measured at 15,000 and 100,000 steps) whatever the history's length, and an update is at most a
# figure's data (a Patch append is a few KB); a live job makes new keys at every event, and its
# old versions fall out least recently used first. 8 MB each: 16 figures, 32 full updates.
_FIGURES = shared_results(16, max_bytes=8 * 1024 * 1024)
_UPDATES = shared_results(64, max_bytes=8 * 1024 * 1024)


def graph_update(graph: str, job_id: str, series: MetricHistory, view: dict[str, Any], checkpoints: list[dict],
                 x_range: list[float] | None, note: str | None, drawn_graph: dict[str, Any] | None,
                 alerts: list[dict] | None = None):
    """One graph's update for a browser that holds ``drawn_graph``, and the new drawn shape."""
    theme = view.get("theme", "dark")

    def build():
        if graph == "loss":
            figure = loss_figure(series, view["smoothing"], view["log"], view["x"], checkpoints,
                                 uirevision=job_id, x_range=x_range, note=note, alerts=alerts, theme=theme)
        else:
            figure = accuracy_figure(series, view["smoothing"], view["x"], uirevision=job_id,
                                     x_range=x_range, note=note, theme=theme)
        return figure, trace_shape(figure)

    if not series.version:  # a history without the sync loop's version label: nothing to share
        figure, shape = build()
        return figure_update(drawn_graph, figure), shape
    # Everything the figure is drawn from; checkpoints and alert marks as canonical JSON (lists are not hashable).
    # The theme and the language are part of the key: figures are built on the server in the
    # viewer's theme (one Plotly template per theme, line colours with it) and language.
    spec = (i18n.current_locale(), graph, job_id, series.version, view["smoothing"], view["log"], view["x"], theme,
            json.dumps([checkpoints, alerts if graph == "loss" else None], sort_keys=True, default=str),
            tuple(x_range) if x_range else None, note)
    figure, shape = _FIGURES(spec, build)
    drawn_key = json.dumps(drawn_graph, sort_keys=True, default=str) if drawn_graph else None
    return _UPDATES((spec, drawn_key), lambda: figure_update(drawn_graph, figure)), shape
