"""Build the dashboard's Plotly figures from metric curves, styled by the theme's Plotly template
(theme/plotly_templates.py). A drawn figure is updated by the plans of figure_patches.py.

Curves of any length: smoothing runs on the full-resolution series, then each trace is
thinned to at most ``downsample.MAX_POINTS`` points of the visible range (extremes kept).

A little over 400 lines, on purpose: the loss and the accuracy figure share every piece here
(curves, traces, checkpoint and alert marks, notes); split, each half would import the other.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import plotly.graph_objects as go

from fakeai_dash.downsample import MAX_POINTS, MIN_POINTS, select
from fakeai_dash.figure_numbers import axis_numbers, compact_numbers
from fakeai_dash.format import plotly_template_text, plotly_text
from fakeai_dash.i18n import N_, _
from fakeai_dash.metrics import ordered_metric_names
from fakeai_dash.series import MetricHistory, ema_smooth_array
# One palette for CSS and figures: the theme package is its single source.
from fakeai_dash.theme import GREEN, GREEN_LIGHT, TEXT, palette
from fakeai_dash.theme.plotly_templates import register_template, themed

# How a known metric is drawn: colour, dash, and whether it is sparse enough to be markers only.
LINE_STYLES: dict[str, dict[str, Any]] = {
    "train_loss": {"color": GREEN, "dash": "solid", "markers": False},
    "valid_loss": {"color": GREEN_LIGHT, "dash": "dash", "markers": False},
    "full_valid_loss": {"color": TEXT, "dash": "solid", "markers": True},
    "train_accuracy": {"color": GREEN, "dash": "solid", "markers": False},
    "valid_accuracy": {"color": GREEN_LIGHT, "dash": "dash", "markers": False},
    "full_valid_accuracy": {"color": TEXT, "dash": "solid", "markers": True},
}
# OpenAI names accuracy "mean token accuracy": drawn the same way.
for _split in ("train", "valid", "full_valid"):
    LINE_STYLES[f"{_split}_mean_token_accuracy"] = LINE_STYLES[f"{_split}_accuracy"]

RAW_OPACITY = 0.25

CHECKPOINT_TRACE = N_("Checkpoints")


def base_figure(title: str | None, uirevision: str, theme: str = "dark") -> go.Figure:
    figure = go.Figure(layout={"template": register_template(theme), "uirevision": uirevision})
    if title:
        figure.update_layout(title={"text": title})
    return figure


def empty_figure(message: str | None = None, theme: str = "dark") -> go.Figure:
    """A blank themed figure that shows ``message`` where the plot would be."""
    figure = base_figure(None, "empty", theme)
    figure.update_layout(
        xaxis={"visible": False},
        yaxis={"visible": False},
        annotations=[
            {
                "text": message if message is not None else _("No metrics yet"),
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
                "showarrow": False,
                "font": {"color": palette(theme)["text-dim"], "size": 14},
            }
        ],
    )
    return figure


# -------------------------------------------------------------------------- curves


class Curve(NamedTuple):
    """One metric at full resolution: ascending ``steps``, ``times`` (epoch s, NaN unknown), ``values``."""

    steps: np.ndarray
    times: np.ndarray
    values: np.ndarray


def curves(history: MetricHistory) -> dict[str, Curve]:
    """Every non-empty metric of a history, as numpy columns."""
    found = {name: Curve(*history.series(name)) for name in history.metrics}
    return {name: curve for name, curve in found.items() if curve.steps.size}


def _float(value: Any) -> float:
    if value is None or isinstance(value, bool):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def curves_origin(found: Mapping[str, Curve]) -> float | None:
    """Earliest known time of any curve: the zero of the "elapsed" axis ."""
    known = [float(np.nanmin(c.times)) for c in found.values() if np.isfinite(c.times).any()]
    return min(known) if known else None


# -------------------------------------------------------------------------- helpers

# Points per figure, shared by its lines (each at most downsample.MAX_POINTS): a loss chart with
# train and valid, raw and smoothed, draws four lines of 1,500 points. This bounds what one
# update sends (two figures) to about 250 KB however many steps a job has.
FIGURE_POINTS = 6000


def line_budget(n_lines: int, budget: int = MAX_POINTS) -> int:
    """Points per line when ``n_lines`` lines share a figure."""
    return max(MIN_POINTS, min(budget, FIGURE_POINTS // max(n_lines, 1)))


def _line_count(names: Iterable[str], smoothing: float) -> int:
    lines = [n for n in names if not LINE_STYLES.get(n, {}).get("markers")]
    return len(lines) * (2 if smoothing > 0 else 1)


def _x_values(curve: Curve, x: str, origin: float | None) -> np.ndarray:
    """Step numbers, or seconds since ``origin`` (NaN where a point's time is unknown)."""
    if x == "elapsed":
        return curve.times - origin if origin is not None else np.full(curve.times.size, np.nan)
    return curve.steps


def _x_title(x: str) -> str:
    return _("Elapsed (s)") if x == "elapsed" else _("Step")


def _check_x(x: str) -> None:
    if x not in ("step", "elapsed"):
        raise ValueError(f"x must be 'step' or 'elapsed', not {x!r}")


def _hovertemplate(label: str, x: str) -> str:
    # "x unified" hover heads the box with the x value; on the elapsed axis the step is added.
    step = _("step {step}").format(step="%{customdata}") + " · " if x == "elapsed" else ""
    return f"{step}{label} %{{y:.4f}}<extra></extra>"


def _line(**attributes: Any) -> go.Scatter:
    # Our own attributes, thousands of numbers each: plotly's per-element validation would be
    # most of the time a 100,000-step chart takes to build.
    return go.Scatter(_validate=False, **attributes)


def _metric_traces(
    name: str,
    curve: Curve,
    smoothing: float,
    x: str,
    origin: float | None,
    fill: str | None = None,
    x_range: Sequence[float] | None = None,
    budget: int = MAX_POINTS,
    theme: str = "dark",
) -> list[go.Scatter]:
    """The traces for one metric: a faded raw line behind the smoothed one when smoothing.

    Smoothing runs on the full-resolution curve; then both lines are thinned to the same
    ``budget`` points of the visible ``x_range`` (chosen on the raw values, so spikes stay).
    """
    style = LINE_STYLES.get(name, {"color": None, "dash": "solid", "markers": False})
    style = {**style, "color": themed(style["color"], theme)}
    # Metric names are the API's keys: shown as text, never as Plotly markup or template fields.
    name, label = plotly_text(name), plotly_template_text(name)
    xs_full = _x_values(curve, x, origin)
    picked = select(xs_full, curve.values, x_range, budget, by=curve.steps)
    drawn_x = xs_full[picked]
    finite_x = drawn_x[np.isfinite(drawn_x)]
    xs = axis_numbers(drawn_x, float(finite_x.max() - finite_x.min()) if finite_x.size else math.nan)
    raw = compact_numbers(curve.values[picked])
    # On the elapsed axis the main line's hover names the step; the raw line's hover skips it.
    steps = compact_numbers(curve.steps[picked], 12) if x == "elapsed" else None
    if style["markers"]:
        # Full-validation runs are rare and expensive; each one is a point, never a line.
        return [
            _line(
                name=name,
                x=xs,
                y=raw,
                mode="markers",
                marker={
                    "color": style["color"],
                    "size": 9,
                    "symbol": "diamond",
                    "line": {"color": themed(GREEN, theme), "width": 1},
                },
                customdata=steps,
                hovertemplate=_hovertemplate(label, x),
            )
        ]
    line = {"color": style["color"], "dash": style["dash"], "width": 2}
    # A line through one point draws nothing: the first metric of a run shows as a dot.
    mode = "lines" if curve.steps.size > 1 else "lines+markers"
    traces = []
    if smoothing > 0:
        smoothed = compact_numbers(ema_smooth_array(curve.values, smoothing)[picked])
        traces.append(
            _line(
                name=f"{name} (raw)",
                x=xs,
                y=raw,
                mode="lines",
                line={**line, "width": 1},
                opacity=RAW_OPACITY,
                showlegend=False,
                hovertemplate=_hovertemplate(_("{metric} raw").format(metric=label), "step"),
            )
        )
    else:
        smoothed = raw
    traces.append(
        _line(
            name=name,
            x=xs,
            y=smoothed,
            mode=mode,
            line=line,
            fill=fill,
            fillcolor=_fill_color(style["color"]) if fill else None,
            customdata=steps,
            hovertemplate=_hovertemplate(_("{metric} smoothed").format(metric=label) if smoothing > 0 else label, x),
        )
    )
    return traces


def _fill_color(color: str | None) -> str | None:
    if not color or not color.startswith("#") or len(color) != 7:
        return None
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},0.15)"


def _checkpoint_y(checkpoint: Mapping[str, Any], found: Mapping[str, Curve]) -> float | None:
    """The checkpoint's own loss, else the train-loss curve's value at its step."""
    metrics = checkpoint.get("metrics") if isinstance(checkpoint.get("metrics"), Mapping) else {}
    for name in ("train_loss", "valid_loss", "full_valid_loss"):
        value = metrics.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    step = _float(checkpoint.get("step_number"))
    for name in ("train_loss", "valid_loss"):
        curve = found.get(name)
        if curve is None or math.isnan(step):
            continue
        at = int(np.searchsorted(curve.steps, step))
        if at < curve.steps.size and curve.steps[at] == step:
            return float(curve.values[at])
    return None


def _checkpoint_trace(
    checkpoints: Iterable[Mapping[str, Any]],
    found: Mapping[str, Curve],
    x: str,
    origin: float | None,
    theme: str = "dark",
) -> go.Scatter | None:
    xs, ys, custom = [], [], []
    for checkpoint in checkpoints:
        step = checkpoint.get("step_number")
        y = _checkpoint_y(checkpoint, found)
        if step is None or y is None:
            continue
        created = checkpoint.get("created_at")
        xs.append(step if x == "step" else (None if created is None or origin is None else created - origin))
        ys.append(y)
        # The checkpoint's model name comes from the API: hover text shows it, never renders it.
        model = checkpoint.get("fine_tuned_model_checkpoint") or checkpoint.get("id") or ""
        custom.append([step, y, plotly_text(model)])
    if not xs:
        return None
    return go.Scatter(
        name=_(CHECKPOINT_TRACE),
        x=xs,
        y=ys,
        mode="markers",
        marker={"color": palette(theme)["surface-0"], "size": 11, "symbol": "circle",
                "line": {"color": palette(theme)["text-primary"], "width": 2}},
        customdata=custom,
        hovertemplate=_("checkpoint at step {step}<br>loss {loss}").format(step="%{customdata[0]}",
                                                                        loss="%{customdata[1]:.4f}")
        + f"<br>%{{customdata[2]}}<extra>{_(CHECKPOINT_TRACE)}</extra>",
    )


NOTE_NAME = "history-note"


def _add_note(figure: go.Figure, note: str | None, theme: str = "dark") -> None:
    """A caption in the title row, centred (the title is on the left, the mode bar on the right):
    e.g. "Loading history 40%"."""
    if note:
        figure.add_annotation(text=note, name=NOTE_NAME, xref="paper", yref="paper", x=0.5, y=1.02,
                              xanchor="center", yanchor="bottom", showarrow=False,
                              font={"color": palette(theme)["text-secondary"], "size": 12})


# -------------------------------------------------------------------------- figures


def loss_figure(
    series: MetricHistory,
    smoothing: float = 0.0,
    log_y: bool = False,
    x: str = "step",
    checkpoints: Iterable[Mapping[str, Any]] = (),
    uirevision: str = "loss",
    origin: float | None = None,
    x_range: Sequence[float] | None = None,
    budget: int = MAX_POINTS,
    note: str | None = None,
    alerts: Iterable[Mapping[str, Any]] | None = None,
    theme: str = "dark",
) -> go.Figure:
    """Loss curves: train solid green, valid dashed light green, full-valid as markers, plus checkpoints.

    ``series`` is the job's :class:`MetricHistory`. With ``smoothing`` > 0 each line is a
    debiased EMA of the full-resolution curve drawn over its faded raw curve ("<name> (raw)").
    Each line holds at most ``budget`` points of the visible ``x_range`` (all of it when None),
    fewer when many lines share the figure (:func:`line_budget`).
    ``uirevision`` keeps the user's zoom across refreshes; pass the job id so a different job
    starts unzoomed. ``note`` is a caption over the plot ("Loading history 40%").
    """
    _check_x(x)
    found = curves(series)
    names = [n for n in ordered_metric_names(found) if "loss" in n]
    if not names:
        return empty_figure(note or _("No loss metrics yet"), theme)
    origin = curves_origin(found) if origin is None else origin
    figure = base_figure(_("Loss"), loss_uirevision(uirevision, x, log_y), theme)
    budget = line_budget(_line_count(names, smoothing), budget)
    for name in names:
        figure.add_traces(_metric_traces(name, found[name], smoothing, x, origin, None, x_range, budget, theme))
    marker_trace = _checkpoint_trace(checkpoints or (), found, x, origin, theme)
    if marker_trace is not None:
        figure.add_trace(marker_trace)
    figure.update_layout(
        xaxis_title=_x_title(x),
        yaxis={"title": {"text": _("Loss")}, "type": "log" if log_y else "linear"},
    )
    _add_note(figure, note, theme)
    _add_alert_marks(figure, alerts or (), x, origin, theme)
    return figure


ALERT_MARK_NAME = "alert-mark"
ALERT_COLOR = "#ffb000"  # the colourway's amber: apart from the greens of the curves


def _add_alert_marks(figure: go.Figure, alerts: Iterable[Mapping[str, Any]], x: str, origin: float | None,
                     theme: str = "dark") -> None:
    """A dotted line where each training-health alert started (alerts.py), labelled at the top."""
    color = themed(ALERT_COLOR, theme)
    for alert in alerts:
        if not isinstance(alert, Mapping):
            continue
        where = alert.get("at") if x == "elapsed" else alert.get("step")
        if x == "elapsed":
            where = where - origin if isinstance(where, (int, float)) and origin is not None else None
        if not isinstance(where, (int, float)) or isinstance(where, bool) or not math.isfinite(where):
            continue
        figure.add_shape(type="line", xref="x", yref="paper", x0=where, x1=where, y0=0, y1=1, name=ALERT_MARK_NAME,
                         line={"color": color, "width": 1.5, "dash": "dot"})
        figure.add_annotation(text=plotly_text(f"⚠ {_(alert.get('title') or alert.get('kind'))}"), name=ALERT_MARK_NAME,
                              xref="x", yref="paper", x=where, y=1, xanchor="left", yanchor="top", showarrow=False,
                              font={"color": color, "size": 11})


def loss_uirevision(uirevision: str, x: str, log_y: bool) -> str:
    """The loss chart's uirevision: a new one (another job, axis or scale) drops the user's zoom."""
    return f"{uirevision}:{x}:{'log' if log_y else 'linear'}"


def accuracy_uirevision(uirevision: str, x: str) -> str:
    return f"{uirevision}:{x}"


def accuracy_figure(
    series: MetricHistory,
    smoothing: float = 0.0,
    x: str = "step",
    uirevision: str = "accuracy",
    origin: float | None = None,
    x_range: Sequence[float] | None = None,
    budget: int = MAX_POINTS,
    note: str | None = None,
    theme: str = "dark",
) -> go.Figure:
    """Accuracy curves as filled areas (``fill="tozeroy"``), shown as percentages when in [0, 1]."""
    _check_x(x)
    found = curves(series)
    names = [n for n in ordered_metric_names(found) if "accuracy" in n]
    if not names:
        return empty_figure(note or _("No accuracy metrics yet"), theme)
    origin = curves_origin(found) if origin is None else origin
    figure = base_figure(_("Accuracy"), accuracy_uirevision(uirevision, x), theme)
    budget = line_budget(_line_count(names, smoothing), budget)
    for name in names:
        figure.add_traces(_metric_traces(name, found[name], smoothing, x, origin, "tozeroy", x_range, budget, theme))
    values = np.concatenate([found[n].values for n in names])
    values = values[np.isfinite(values)]
    fractional = bool(np.all((values >= 0.0) & (values <= 1.0)))
    yaxis: dict[str, Any] = {"title": {"text": _("Accuracy")}}
    if fractional:
        yaxis.update(tickformat=".0%", range=[0, 1])
    figure.update_layout(xaxis_title=_x_title(x), yaxis=yaxis)
    _add_note(figure, note, theme)
    return figure
