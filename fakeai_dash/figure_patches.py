"""How a drawn figure becomes the next one without resending it: the small shape a browser's
figure is remembered by (trace_shape), and the points to append (append_plan) or the traces to
replace (replace_plan) that a Dash Patch then carries."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import plotly.graph_objects as go

from fakeai_dash.figures import ALERT_MARK_NAME, NOTE_NAME

_APPENDABLE = ("x", "y", "customdata")


def _digest(trace: Any, length: int | None = None) -> str:
    """A short hash of a trace's first ``length`` points (all by default): x, y and customdata."""
    parts = [list(getattr(trace, attribute) or ())[:length] for attribute in _APPENDABLE]
    encoded = json.dumps(parts, separators=(",", ":"), default=_plain)
    return hashlib.blake2b(encoded.encode(), digest_size=8).hexdigest()


def figure_notes(figure: go.Figure) -> list[str]:
    """The texts of the figure's notes (see ``note=``), as trace_shape records them."""
    return [a.text for a in figure.layout.annotations or () if a.name in (NOTE_NAME, ALERT_MARK_NAME)]


def trace_shape(figure: go.Figure) -> dict[str, list[Any]]:
    """What a drawn figure holds, small enough for a store: trace names, modes, lengths, first/last
    x, a digest of each trace's points, and its notes."""
    names, lengths, ends, modes, digests = [], [], [], [], []
    for trace in figure.data:
        xs = list(trace.x or ())
        names.append(trace.name)
        modes.append(trace.mode)
        lengths.append(len(xs))
        ends.append([xs[0], xs[-1]] if xs else None)
        digests.append(_digest(trace))
    return {"names": names, "lengths": lengths, "ends": ends, "modes": modes, "digests": digests,
            "notes": figure_notes(figure)}


def append_plan(drawn: Mapping[str, Any] | None, figure: go.Figure) -> list[tuple[int, dict[str, list[Any]]]] | None:
    """The points to append to each trace of the ``drawn`` figure to turn it into ``figure``.

    Returns ``[(trace_index, {"x": tail, "y": tail, "customdata": tail}), ...]`` (only
    traces that grew), or None when ``figure`` is not ``drawn`` plus new points at the
    end of its traces (other traces or modes, a shrunk trace, a moved or changed old point:
    a downsampled curve that grew is picked anew), in which case the caller must replace the
    traces. The debiased EMA only looks backwards, so appending raw points appends smoothed
    points and never moves old ones.
    """
    if not _same_traces(drawn, figure):
        return None
    digests = drawn.get("digests")
    plan = []
    for index, (trace, old_length, old_ends) in enumerate(zip(figure.data, drawn["lengths"], drawn["ends"])):
        xs = list(trace.x or ())
        if len(xs) < old_length:
            return None
        if old_length and [xs[0], xs[old_length - 1]] != list(old_ends or []):
            return None
        if digests and _digest(trace, old_length) != digests[index]:
            return None
        if len(xs) == old_length:
            continue
        tails = {}
        for attribute in _APPENDABLE:
            values = getattr(trace, attribute)
            if values is not None:
                tails[attribute] = [_plain(v) for v in list(values)[old_length:]]
        plan.append((index, tails))
    return plan


def replace_plan(drawn: Mapping[str, Any] | None, figure: go.Figure) -> list[tuple[int, dict[str, Any]]] | None:
    """The traces of the ``drawn`` figure whose points differ from ``figure``'s, with their new
    ``x``/``y``/``customdata`` in whole, or None when the traces themselves differ (names,
    modes): then only the whole figure will do. A zoom or a re-downsampled curve needs this."""
    if not _same_traces(drawn, figure):
        return None
    digests = drawn.get("digests") or [None] * len(figure.data)
    plan = []
    for index, (trace, digest) in enumerate(zip(figure.data, digests)):
        if digest is not None and _digest(trace) == digest:
            continue
        plan.append((index, {attribute: _plain_list(getattr(trace, attribute)) for attribute in _APPENDABLE}))
    return plan


def _same_traces(drawn: Mapping[str, Any] | None, figure: go.Figure) -> bool:
    if not drawn:
        return False
    shape_names = [trace.name for trace in figure.data]
    if shape_names != list(drawn.get("names") or []) or not shape_names:
        return False
    # A style changed (a lone point became a line): only a rebuild shows it.
    return [trace.mode for trace in figure.data] == list(drawn.get("modes") or [])


def _plain_list(values: Any) -> list[Any] | None:
    return None if values is None else [_plain(v) for v in values]


def _plain(value: Any) -> Any:
    # Plotly hands back tuples; a Patch carries JSON, where lists are the honest shape.
    return list(value) if isinstance(value, tuple) else value
