"""Build the dashboard's Plotly figures from metric series, styled by the "nvidia" template."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

from fakeai_dash.metrics import ema_smooth, ordered_metric_names, series_origin
# One palette for CSS and figures: theme.py is its single source.
from fakeai_dash.theme import (
    BORDER,
    GREEN,
    GREEN_DARK,
    GREEN_LIGHT,
    SURFACE_0,
    SURFACE_1,
    SURFACE_2,
    TEXT,
    TEXT_DIM,
    TEXT_MUTED,
)

TEMPLATE_NAME = "nvidia"

# Greens first (the brand), then colours distinct enough for extra metric lines.
COLORWAY = [GREEN, GREEN_LIGHT, GREEN_DARK, TEXT_MUTED, "#4da3ff", "#ffb000", "#e5484d", "#a78bfa"]

FONT_FAMILY = "Inter, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"

# How a known metric is drawn: colour, dash, and whether it is sparse enough to be markers only.
LINE_STYLES: dict[str, dict[str, Any]] = {
    "train_loss": {"color": GREEN, "dash": "solid", "markers": False},
    "valid_loss": {"color": GREEN_LIGHT, "dash": "dash", "markers": False},
    "full_valid_loss": {"color": TEXT, "dash": "solid", "markers": True},
    "train_accuracy": {"color": GREEN, "dash": "solid", "markers": False},
    "valid_accuracy": {"color": GREEN_LIGHT, "dash": "dash", "markers": False},
    "full_valid_accuracy": {"color": TEXT, "dash": "solid", "markers": True},
}

RAW_OPACITY = 0.25
CHECKPOINT_TRACE = "Checkpoints"


# ------------------------------------------------------------------------- template


def _axis() -> dict[str, Any]:
    return {
        "gridcolor": SURFACE_2,
        "linecolor": BORDER,
        "zerolinecolor": BORDER,
        "tickcolor": BORDER,
        "title": {"font": {"color": TEXT_MUTED}},
        "automargin": True,
    }


def register_template() -> str:
    """Register (or refresh) ``plotly.io.templates["nvidia"]`` and return its name."""
    layout = go.Layout(
        paper_bgcolor=SURFACE_1,
        plot_bgcolor=SURFACE_0,
        font={"family": FONT_FAMILY, "color": TEXT_MUTED, "size": 12},
        title={"font": {"color": TEXT, "size": 15}, "x": 0.0, "xanchor": "left"},
        colorway=COLORWAY,
        xaxis=_axis(),
        yaxis=_axis(),
        legend={"bgcolor": "rgba(0,0,0,0)", "bordercolor": BORDER, "font": {"color": TEXT_MUTED}},
        hoverlabel={
            "bgcolor": SURFACE_2,
            "bordercolor": BORDER,
            "font": {"color": TEXT, "family": FONT_FAMILY},
        },
        hovermode="x unified",
        margin={"l": 56, "r": 16, "t": 40, "b": 44},
    )
    pio.templates[TEMPLATE_NAME] = go.layout.Template(layout=layout)
    return TEMPLATE_NAME


def _base_figure(title: str | None, uirevision: str) -> go.Figure:
    figure = go.Figure(layout={"template": register_template(), "uirevision": uirevision})
    if title:
        figure.update_layout(title={"text": title})
    return figure


def empty_figure(message: str = "No metrics yet") -> go.Figure:
    """A blank themed figure that shows ``message`` where the plot would be."""
    figure = _base_figure(None, "empty")
    figure.update_layout(
        xaxis={"visible": False},
        yaxis={"visible": False},
        annotations=[
            {
                "text": message,
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
                "showarrow": False,
                "font": {"color": TEXT_DIM, "size": 14},
            }
        ],
    )
    return figure


# -------------------------------------------------------------------------- helpers


def _xs(points: Sequence[Sequence[Any]], x: str, origin: float | None) -> list[Any]:
    """Step numbers, or seconds since ``origin`` (points may be tuples or JSON lists)."""
    if x == "elapsed":
        return [None if p[2] is None or origin is None else p[2] - origin for p in points]
    return [p[0] for p in points]


def _x_title(x: str) -> str:
    return "Elapsed (s)" if x == "elapsed" else "Step"


def _check_x(x: str) -> None:
    if x not in ("step", "elapsed"):
        raise ValueError(f"x must be 'step' or 'elapsed', not {x!r}")


def _hovertemplate(name: str, smoothed: bool) -> str:
    lines = ["step %{customdata[0]}", "raw %{customdata[1]:.4f}"]
    if smoothed:
        lines.append("smoothed %{customdata[2]:.4f}")
    return "<br>".join(lines) + f"<extra>{name}</extra>"


def _metric_traces(
    name: str,
    points: Sequence[Sequence[Any]],
    smoothing: float,
    x: str,
    origin: float | None,
    fill: str | None = None,
) -> list[go.Scatter]:
    """The traces for one metric: a faded raw line behind the smoothed one when smoothing."""
    style = LINE_STYLES.get(name, {"color": None, "dash": "solid", "markers": False})
    xs = _xs(points, x, origin)
    raw = [float(p[1]) for p in points]
    steps = [p[0] for p in points]
    if style["markers"]:
        # Full-validation runs are rare and expensive; each one is a point, never a line.
        return [
            go.Scatter(
                name=name,
                x=xs,
                y=raw,
                mode="markers",
                marker={
                    "color": style["color"],
                    "size": 9,
                    "symbol": "diamond",
                    "line": {"color": GREEN, "width": 1},
                },
                customdata=[[s, v, v] for s, v in zip(steps, raw)],
                hovertemplate=_hovertemplate(name, False),
            )
        ]
    smoothed = ema_smooth(raw, smoothing) if smoothing > 0 else raw
    line = {"color": style["color"], "dash": style["dash"], "width": 2}
    # A line through one point draws nothing: the first metric of a run shows as a dot.
    mode = "lines" if len(points) > 1 else "lines+markers"
    traces = []
    if smoothing > 0:
        traces.append(
            go.Scatter(
                name=f"{name} (raw)",
                x=xs,
                y=raw,
                mode="lines",
                line={**line, "width": 1},
                opacity=RAW_OPACITY,
                showlegend=False,
                hoverinfo="skip",
            )
        )
    traces.append(
        go.Scatter(
            name=name,
            x=xs,
            y=smoothed,
            mode=mode,
            line=line,
            fill=fill,
            fillcolor=_fill_color(style["color"]) if fill else None,
            customdata=[[s, r, m] for s, r, m in zip(steps, raw, smoothed)],
            hovertemplate=_hovertemplate(name, smoothing > 0),
        )
    )
    return traces


def _fill_color(color: str | None) -> str | None:
    if not color or not color.startswith("#") or len(color) != 7:
        return None
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},0.15)"


def _checkpoint_y(
    checkpoint: Mapping[str, Any], series: Mapping[str, Sequence[Sequence[Any]]]
) -> float | None:
    """The checkpoint's own loss, else the train-loss curve's value at its step."""
    metrics = checkpoint.get("metrics") if isinstance(checkpoint.get("metrics"), Mapping) else {}
    for name in ("train_loss", "valid_loss", "full_valid_loss"):
        value = metrics.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    step = checkpoint.get("step_number")
    for name in ("train_loss", "valid_loss"):
        for point in series.get(name, ()):
            if point[0] == step:
                return float(point[1])
    return None


def _checkpoint_trace(
    checkpoints: Iterable[Mapping[str, Any]],
    series: Mapping[str, Sequence[Sequence[Any]]],
    x: str,
    origin: float | None,
) -> go.Scatter | None:
    xs, ys, custom = [], [], []
    for checkpoint in checkpoints:
        step = checkpoint.get("step_number")
        y = _checkpoint_y(checkpoint, series)
        if step is None or y is None:
            continue
        created = checkpoint.get("created_at")
        xs.append(step if x == "step" else (None if created is None or origin is None else created - origin))
        ys.append(y)
        custom.append([step, y, checkpoint.get("fine_tuned_model_checkpoint") or checkpoint.get("id") or ""])
    if not xs:
        return None
    return go.Scatter(
        name=CHECKPOINT_TRACE,
        x=xs,
        y=ys,
        mode="markers",
        marker={"color": SURFACE_0, "size": 11, "symbol": "circle", "line": {"color": TEXT, "width": 2}},
        customdata=custom,
        hovertemplate="checkpoint at step %{customdata[0]}<br>loss %{customdata[1]:.4f}<br>%{customdata[2]}"
        f"<extra>{CHECKPOINT_TRACE}</extra>",
    )


# -------------------------------------------------------------------------- figures


def loss_figure(
    series: Mapping[str, Sequence[Sequence[Any]]],
    smoothing: float = 0.0,
    log_y: bool = False,
    x: str = "step",
    checkpoints: Iterable[Mapping[str, Any]] = (),
    uirevision: str = "loss",
    origin: float | None = None,
) -> go.Figure:
    """Loss curves: train solid green, valid dashed light green, full-valid as markers, plus checkpoints.

    ``series`` is :func:`fakeai_dash.metrics.metric_series` output (JSON-round-tripped
    lists work too). With ``smoothing`` > 0 each line is a debiased EMA drawn over
    its faded raw curve ("<name> (raw)"). ``uirevision`` keeps the user's zoom across
    refreshes; pass the job id so a different job starts unzoomed.
    """
    _check_x(x)
    names = [n for n in ordered_metric_names(series) if "loss" in n and series[n]]
    if not names:
        return empty_figure("No loss metrics yet")
    origin = series_origin(series) if origin is None else origin
    figure = _base_figure("Loss", f"{uirevision}:{x}:{'log' if log_y else 'linear'}")
    for name in names:
        figure.add_traces(_metric_traces(name, series[name], smoothing, x, origin))
    marker_trace = _checkpoint_trace(checkpoints or (), series, x, origin)
    if marker_trace is not None:
        figure.add_trace(marker_trace)
    figure.update_layout(
        xaxis_title=_x_title(x),
        yaxis={"title": {"text": "Loss"}, "type": "log" if log_y else "linear"},
    )
    return figure


def accuracy_figure(
    series: Mapping[str, Sequence[Sequence[Any]]],
    smoothing: float = 0.0,
    x: str = "step",
    uirevision: str = "accuracy",
    origin: float | None = None,
) -> go.Figure:
    """Accuracy curves as filled areas (``fill="tozeroy"``), shown as percentages when in [0, 1]."""
    _check_x(x)
    names = [n for n in ordered_metric_names(series) if "accuracy" in n and series[n]]
    if not names:
        return empty_figure("No accuracy metrics yet")
    origin = series_origin(series) if origin is None else origin
    figure = _base_figure("Accuracy", f"{uirevision}:{x}")
    for name in names:
        figure.add_traces(_metric_traces(name, series[name], smoothing, x, origin, fill="tozeroy"))
    values = [float(p[1]) for n in names for p in series[n]]
    fractional = all(0.0 <= v <= 1.0 for v in values if math.isfinite(v))
    yaxis: dict[str, Any] = {"title": {"text": "Accuracy"}}
    if fractional:
        yaxis.update(tickformat=".0%", range=[0, 1])
    figure.update_layout(xaxis_title=_x_title(x), yaxis=yaxis)
    return figure


# ------------------------------------------------------------------ incremental updates

_APPENDABLE = ("x", "y", "customdata")


def trace_shape(figure: go.Figure) -> dict[str, list[Any]]:
    """What a drawn figure holds, small enough for a store: trace names, lengths, first/last x."""
    names, lengths, ends, modes = [], [], [], []
    for trace in figure.data:
        xs = list(trace.x or ())
        names.append(trace.name)
        modes.append(trace.mode)
        lengths.append(len(xs))
        ends.append([xs[0], xs[-1]] if xs else None)
    return {"names": names, "lengths": lengths, "ends": ends, "modes": modes}


def append_plan(drawn: Mapping[str, Any] | None, figure: go.Figure) -> list[tuple[int, dict[str, list[Any]]]] | None:
    """The points to append to each trace of the ``drawn`` figure to turn it into ``figure``.

    Returns ``[(trace_index, {"x": tail, "y": tail, "customdata": tail}), ...]`` (only
    traces that grew), or None when ``figure`` is not ``drawn`` plus new points at the
    end of its traces (other traces or modes, a shrunk trace, a moved first or last point), in
    which case the caller must send the whole figure. The debiased EMA only looks
    backwards, so appending raw points appends smoothed points and never moves old ones.
    """
    if not drawn:
        return None
    shape = trace_shape(figure)
    if shape["names"] != list(drawn.get("names") or []) or not shape["names"]:
        return None
    if shape["modes"] != list(drawn.get("modes") or []):
        return None  # a style changed (a lone point became a line): only a rebuild shows it
    plan = []
    for index, (trace, old_length, old_ends) in enumerate(zip(figure.data, drawn["lengths"], drawn["ends"])):
        xs = list(trace.x or ())
        if len(xs) < old_length:
            return None
        if old_length and [xs[0], xs[old_length - 1]] != list(old_ends or []):
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


def _plain(value: Any) -> Any:
    # Plotly hands back tuples; a Patch carries JSON, where lists are the honest shape.
    return list(value) if isinstance(value, tuple) else value


# ---------------------------------------------------------------------- job comparison

# The selected job keeps the brand green; compared jobs take the colorway's non-green, non-grey
# colours, so no compared curve can be mistaken for the selected one.
COMPARE_COLORS = [color for color in COLORWAY if color not in (GREEN, GREEN_LIGHT, GREEN_DARK, TEXT_MUTED)]
COMPARE_LINES = (("train_loss", "solid", "train"), ("valid_loss", "dash", "valid"))


def comparison_color(index: int) -> str:
    """Colour of the ``index``-th job of a comparison (0 is the selected job)."""
    return GREEN if index == 0 else COMPARE_COLORS[(index - 1) % len(COMPARE_COLORS)]


def comparison_figure(
    runs: Sequence[Mapping[str, Any]], smoothing: float = 0.0, uirevision: str = "compare"
) -> go.Figure:
    """Train (solid) and valid (dashed) loss of several jobs on one step axis, one colour per job.

    ``runs`` is ``[{"id", "name", "series": {"train_loss": [[step, value], ...], "valid_loss": ...}}]``
    with the selected job first; a run's optional "color" overrides :func:`comparison_color`. Both lines of a job share a legend group (the job id), so one
    legend click hides the job. Smoothing is the TrainingProgress EMA, so curves read the same.
    """
    figure = _base_figure("Loss by job", uirevision)
    for index, run in enumerate(runs):
        color = run.get("color") or comparison_color(index)
        for metric, dash, label in COMPARE_LINES:
            points = run.get("series", {}).get(metric) or []
            if not points:
                continue
            raw = [float(p[1]) for p in points]
            ys = ema_smooth(raw, smoothing) if smoothing > 0 else raw
            name = f"{run['name']} · {label}"
            figure.add_trace(go.Scatter(
                name=name, x=[p[0] for p in points], y=ys, legendgroup=run["id"], meta=run["id"],
                mode="lines" if len(points) > 1 else "lines+markers",
                line={"color": color, "dash": dash, "width": 2.5 if index == 0 else 1.8},
                customdata=[[p[0], r] for p, r in zip(points, raw)],
                hovertemplate=f"%{{y:.4f}} (raw %{{customdata[1]:.4f}})<extra>{name}</extra>",
            ))
    if not figure.data:
        return empty_figure("No loss metrics yet for these jobs")
    figure.update_layout(
        xaxis_title="Step", yaxis={"title": {"text": "Loss"}},
        # Below the plot: up to ten entries would squeeze a side legend's plot in a narrow panel.
        legend={"orientation": "h", "x": 0, "y": -0.22, "yanchor": "top"},
        margin={"b": 20},
    )
    return figure
