"""Build the dashboard's Plotly figures from metric curves, styled by the "nvidia" template
(dark) or "nvidia_light": one template per theme, the theme's line colours with it.

Curves of any length: smoothing runs on the full-resolution series, then each trace is
thinned to at most ``downsample.MAX_POINTS`` points of the visible range (extremes kept).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from fakeai_dash.downsample import MAX_POINTS, MIN_POINTS, select
from fakeai_dash.format import plotly_template_text, plotly_text
from fakeai_dash.i18n import N_, _
from fakeai_dash.metrics import ordered_metric_names
from fakeai_dash.series import MetricHistory, ema_smooth_array
# One palette for CSS and figures: theme.py is its single source.
from fakeai_dash.theme import (
    GREEN,
    GREEN_DARK,
    GREEN_LIGHT,
    TEXT,
    TEXT_MUTED,
    normalize_theme,
    palette,
)

TEMPLATE_NAME = "nvidia"
TEMPLATE_NAMES = {"dark": TEMPLATE_NAME, "light": "nvidia_light"}

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
# OpenAI names accuracy "mean token accuracy": drawn the same way.
for _split in ("train", "valid", "full_valid"):
    LINE_STYLES[f"{_split}_mean_token_accuracy"] = LINE_STYLES[f"{_split}_accuracy"]

RAW_OPACITY = 0.25

# The light theme draws the same roles darker: the brand green is 2.4:1 on white, and a chart's
# lines and marks need 3:1 (WCAG 1.4.11). Unlisted colours are drawn as they are.
LIGHT_COLORS = {GREEN: "#3f6b00", GREEN_LIGHT: "#669900", GREEN_DARK: "#4f8a00", TEXT: "#111111",
                TEXT_MUTED: "#4d4d4d", "#4da3ff": "#1f6fd1", "#ffb000": "#a15c00", "#e5484d": "#c62828",
                "#a78bfa": "#7c3aed"}


def themed(color: str | None, theme: str = "dark") -> str | None:
    """``color`` (a dark-palette colour) as the ``theme`` draws it."""
    return LIGHT_COLORS.get(color, color) if normalize_theme(theme) == "light" and color else color


CHECKPOINT_TRACE = N_("Checkpoints")


# ------------------------------------------------------------------------- template


def _axis(colors: dict[str, str]) -> dict[str, Any]:
    return {
        "gridcolor": colors["surface-2"],
        "linecolor": colors["border"],
        "zerolinecolor": colors["border"],
        "tickcolor": colors["border"],
        "title": {"font": {"color": colors["text-secondary"]}},
        "automargin": True,
    }


def register_template(theme: str = "dark") -> str:
    """Register the ``theme``'s template (``plotly.io.templates["nvidia"]`` for dark,
    ``["nvidia_light"]`` for light; once, or again if it was removed) and return its name."""
    theme = normalize_theme(theme)
    name = TEMPLATE_NAMES[theme]
    if name not in pio.templates:
        pio.templates[name] = _template(theme)
    return name


def _template(theme: str = "dark") -> go.layout.Template:
    colors = palette(theme)
    layout = go.Layout(
        paper_bgcolor=colors["surface-1"],
        plot_bgcolor=colors["surface-0"],
        font={"family": FONT_FAMILY, "color": colors["text-secondary"], "size": 12},
        title={"font": {"color": colors["text-primary"], "size": 15}, "x": 0.0, "xanchor": "left"},
        colorway=[themed(color, theme) for color in COLORWAY],
        xaxis=_axis(colors),
        yaxis=_axis(colors),
        legend={"bgcolor": "rgba(0,0,0,0)", "bordercolor": colors["border"], "font": {"color": colors["text-secondary"]}},
        hoverlabel={
            "bgcolor": colors["surface-2"],
            "bordercolor": colors["border"],
            "font": {"color": colors["text-primary"], "family": FONT_FAMILY},
        },
        hovermode="x unified",
        margin={"l": 56, "r": 16, "t": 40, "b": 44},
    )
    return go.layout.Template(layout=layout)


def _base_figure(title: str | None, uirevision: str, theme: str = "dark") -> go.Figure:
    figure = go.Figure(layout={"template": register_template(theme), "uirevision": uirevision})
    if title:
        figure.update_layout(title={"text": title})
    return figure


def empty_figure(message: str | None = None, theme: str = "dark") -> go.Figure:
    """A blank themed figure that shows ``message`` where the plot would be."""
    figure = _base_figure(None, "empty", theme)
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


# Six significant digits: far below what a plot or its 4-decimal hover can show, and a third
# of the bytes of a full float repr. What a 100,000-step job sends stays well under 300 KB.
SIGNIFICANT_DIGITS = 6


def compact_numbers(values: np.ndarray, digits: int = SIGNIFICANT_DIGITS) -> list[Any]:
    """``values`` rounded to ``digits`` significant digits as short JSON numbers; NaN/inf -> None,
    integral values -> int."""
    values = np.asarray(values, dtype=np.float64)
    out = values.copy()
    finite = np.isfinite(values)
    nonzero = finite & (values != 0)
    if nonzero.any():
        v = values[nonzero]
        decimals = (digits - 1 - np.floor(np.log10(np.abs(v)))).astype(np.int64)
        scale = 10.0 ** np.abs(decimals)
        # Dividing an integral float by an exact power of ten rounds correctly, so the JSON
        # repr is the short decimal, not 0.30000000000000004.
        out[nonzero] = np.where(decimals >= 0, np.round(v * scale) / scale, np.round(v / scale) * scale)
    if finite.all() and np.all(out == np.round(out)) and np.all(np.abs(out) < 2**53):
        return out.astype(np.int64).tolist()
    listed = out.tolist()
    if not finite.all():
        listed = [value if ok else None for value, ok in zip(listed, finite.tolist())]
    return listed


def _x_values(curve: Curve, x: str, origin: float | None) -> np.ndarray:
    """Step numbers, or seconds since ``origin`` (NaN where a point's time is unknown)."""
    if x == "elapsed":
        return curve.times - origin if origin is not None else np.full(curve.times.size, np.nan)
    return curve.steps


def _axis_numbers(values: np.ndarray, span: float) -> list[Any]:
    """x values as short JSON: to 1/10,000 of the drawn span (a 2,000 px plot shows 1/2,000);
    a zoomed range is drawn with a finer grain."""
    if not math.isfinite(span) or span <= 0:
        return compact_numbers(values, 9)
    exponent = math.floor(math.log10(span / 10_000))
    scale = 10.0 ** abs(exponent)
    rounded = np.round(values * scale) / scale if exponent < 0 else np.round(values / scale) * scale
    return compact_numbers(rounded, 12)


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
    xs = _axis_numbers(drawn_x, float(finite_x.max() - finite_x.min()) if finite_x.size else math.nan)
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
    figure = _base_figure(_("Loss"), loss_uirevision(uirevision, x, log_y), theme)
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
    figure = _base_figure(_("Accuracy"), accuracy_uirevision(uirevision, x), theme)
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


# ------------------------------------------------------------------ incremental updates

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


# ---------------------------------------------------------------------- job comparison

# The selected job keeps the brand green; compared jobs take the colorway's non-green, non-grey
# colours, so no compared curve can be mistaken for the selected one.
COMPARE_COLORS = [color for color in COLORWAY if color not in (GREEN, GREEN_LIGHT, GREEN_DARK, TEXT_MUTED)]
COMPARE_LINES = (("train_loss", "solid", N_("train")), ("valid_loss", "dash", N_("valid")))


def comparison_color(index: int, theme: str = "dark") -> str:
    """Colour of the ``index``-th job of a comparison (0 is the selected job), as ``theme`` draws it."""
    return themed(GREEN if index == 0 else COMPARE_COLORS[(index - 1) % len(COMPARE_COLORS)], theme)


def comparison_figure(
    runs: Sequence[Mapping[str, Any]], smoothing: float = 0.0, uirevision: str = "compare", theme: str = "dark"
) -> go.Figure:
    """Train (solid) and valid (dashed) loss of several jobs on one step axis, one colour per job.

    ``runs`` is ``[{"id", "name", "series": {"train_loss": [[step, value], ...], "valid_loss": ...}}]``
    with the selected job first; a run's optional "color" overrides :func:`comparison_color`. Both lines of a job share a legend group (the job id), so one
    legend click hides the job. Smoothing is the TrainingProgress EMA, so curves read the same.
    """
    figure = _base_figure(_("Loss by job"), uirevision, theme)
    for index, run in enumerate(runs):
        color = run.get("color") or comparison_color(index, theme)
        for metric, dash, label in COMPARE_LINES:
            points = run.get("series", {}).get(metric) or []
            if not points:
                continue
            raw = [float(p[1]) for p in points]
            ys = ema_smooth_array(raw, smoothing).tolist() if smoothing > 0 else raw
            # A run's name is built from the API's suffix, model and id: text, not markup.
            name = f"{plotly_text(run['name'])} · {_(label)}"
            hover_name = f"{plotly_template_text(run['name'])} · {_(label)}"
            figure.add_trace(go.Scatter(
                name=name, x=[p[0] for p in points], y=ys, legendgroup=run["id"], meta=run["id"],
                mode="lines" if len(points) > 1 else "lines+markers",
                line={"color": color, "dash": dash, "width": 2.5 if index == 0 else 1.8},
                customdata=[[p[0], r] for p, r in zip(points, raw)],
                hovertemplate=f"%{{y:.4f}} ({_('raw')} %{{customdata[1]:.4f}})<extra>{hover_name}</extra>",
            ))
    if not figure.data:
        return empty_figure(_("No loss metrics yet for these jobs"), theme)
    figure.update_layout(
        xaxis_title=_("Step"), yaxis={"title": {"text": _("Loss")}},
        # Below the plot: up to ten entries would squeeze a side legend's plot in a narrow panel.
        legend={"orientation": "h", "x": 0, "y": -0.3, "yanchor": "top"},
        margin={"b": 20},
    )
    return figure
