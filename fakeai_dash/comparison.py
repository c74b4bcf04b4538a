"""Pure logic of the job comparison: the picks in the URL query, what is kept per compared job,
the table rows and the figure.

Nothing here imports Dash: the JobComparison component calls these functions and draws what they return.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode

import plotly.graph_objects as go

from fakeai_dash.api.models import FINISHED_STATUSES
from fakeai_dash import format as fmt
from fakeai_dash.downsample import downsample_indices
from fakeai_dash.figures import base_figure, empty_figure
from fakeai_dash.format import plotly_template_text, plotly_text
from fakeai_dash.i18n import N_, _
from fakeai_dash.checkpoint_metrics import best_checkpoint, metric_direction
from fakeai_dash.wire_values import normalize_status
from fakeai_dash.pricing import training_cost
from fakeai_dash.series import MetricHistory, ema_smooth_array, history_from_events
from fakeai_dash.theme import GREEN, GREEN_DARK, GREEN_LIGHT, TEXT_MUTED, status_label
from fakeai_dash.theme.plotly_templates import COLORWAY, themed

QUERY_KEY = "compare"
MAX_PICKS = 4
# The loss curves the chart overlays (train solid, valid dashed) and the metrics whose last point the table shows.
LOSS_SERIES = ("train_loss", "valid_loss")
FINAL_METRICS = ("train_loss", "valid_loss", "train_accuracy", "valid_accuracy")
METHOD_LABELS = {"supervised": N_("Supervised"), "dpo": "DPO", "reinforcement": N_("Reinforcement")}
NOT_FOUND = "not found"


# -- the URL query -----------------------------------------------------------------------------

def picks_from_query(search: str | None) -> list[str]:
    """Job ids in ``?compare=id1,id2`` (empty items dropped, order kept)."""
    raw = dict(parse_qsl((search or "").lstrip("?"))).get(QUERY_KEY, "")
    return [item.strip() for item in raw.split(",") if item.strip()]


def query_with_picks(search: str | None, picks: Sequence[str]) -> str:
    """``search`` with ``compare`` set to ``picks`` (dropped when empty); every other key is kept as it was."""
    pairs = [(k, v) for k, v in parse_qsl((search or "").lstrip("?"), keep_blank_values=True) if k != QUERY_KEY]
    if picks:
        pairs.append((QUERY_KEY, ",".join(picks)))
    # Commas stay readable: a shared link shows compare=ftjob-a,ftjob-b.
    return f"?{urlencode(pairs, safe=',')}" if pairs else ""


def clean_picks(picks: Iterable[Any] | None, selected: str | None) -> list[str]:
    """At most MAX_PICKS distinct job ids, in order, without the selected job (it is always shown)."""
    kept: list[str] = []
    for pick in picks or ():
        if isinstance(pick, str) and pick and pick != selected and pick not in kept:
            kept.append(pick)
    return kept[:MAX_PICKS]


# -- what the store keeps per job --------------------------------------------------------------

def best_valid_loss(checkpoints: Iterable[Mapping[str, Any]]) -> float | None:
    """Validation loss of the best checkpoint (as the Checkpoints panel picks it), if it reports one."""
    checkpoints = list(checkpoints or ())
    best = best_checkpoint(checkpoints)
    for checkpoint in checkpoints:
        if best is not None and checkpoint.get("id") == best:
            metrics = checkpoint.get("metrics") if isinstance(checkpoint.get("metrics"), Mapping) else {}
            value = metrics.get("valid_loss", metrics.get("full_valid_loss"))
            return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    return None


# Points per compared curve: up to five jobs share one chart, and the store carries them.
COMPARE_POINTS = 1000


def history_loss_series(history: MetricHistory) -> dict[str, list[list[float]]]:
    """The loss curves of a complete history, downsampled (extremes kept) to COMPARE_POINTS each."""
    curves = {}
    for name in LOSS_SERIES:
        steps, _, values = history.series(name)
        keep = downsample_indices(steps, values, COMPARE_POINTS)
        curves[name] = [[_plain(steps[i]), float(values[i])] for i in keep]
    return curves


def _plain(step: float) -> int | float:
    return int(step) if float(step).is_integer() else float(step)


def job_summary(job: Mapping[str, Any], events: Iterable[Mapping[str, Any]],
                checkpoints: Iterable[Mapping[str, Any]], history: MetricHistory | None = None) -> dict[str, Any]:
    """One compared job as the card draws it: table fields, loss series, last metric values, best
    checkpoint. With the job's complete ``history`` its curves are whole (downsampled) and its
    last values are the history's; ``events`` alone give what they hold."""
    hp = job.get("hyperparameters") or {}
    if history is None or not len(history):
        history = history_from_events(events or ())
    final = {}
    for name in FINAL_METRICS:
        values = history.series(name)[2]
        if values.size:
            final[name] = float(values[-1])
    return {
        "id": job.get("id"),
        **{key: job.get(key) for key in ("status", "model", "suffix", "method_type", "trained_tokens",
                                         "created_at", "finished_at")},
        **{key: hp.get(key) for key in ("n_epochs", "batch_size", "learning_rate_multiplier")},
        "series": history_loss_series(history),
        "final": final,
        "best_valid_loss": best_valid_loss(checkpoints),
    }


def is_settled(summary: Mapping[str, Any]) -> bool:
    """A missing or finished job will not change: no need to fetch it again."""
    return bool(summary.get("missing")) or normalize_status(summary.get("status")) in FINISHED_STATUSES


def short_name(summary: Mapping[str, Any]) -> str:
    """A legend/column name that tells jobs apart: suffix (else model name) and the id's tail."""
    model = str(summary.get("model") or "").rsplit("/", 1)[-1]
    head = summary.get("suffix") or model or "job"
    return f"{head} …{str(summary.get('id') or '')[-6:]}"


# -- the table ---------------------------------------------------------------------------------

def _hyper(value: Any) -> str:
    if value is None or value == "":
        return fmt.MISSING
    return f"{value:g}" if isinstance(value, float) else str(value)


def _metric(value: Any) -> str:
    return fmt.MISSING if value is None else f"{value:.4f}"


def _duration(job: Mapping[str, Any], now: float) -> str:
    start, end = job.get("created_at"), job.get("finished_at")
    if not isinstance(start, (int, float)):
        return fmt.MISSING
    if isinstance(end, (int, float)):
        return fmt.duration(end - start)
    return fmt.MISSING if is_settled(job) else f"{fmt.duration(now - start)} so far"


def _cost(job: Mapping[str, Any], prices: Mapping[str, float] | None) -> str:
    tokens = job.get("trained_tokens")
    return fmt.money(training_cost(tokens, job.get("model"), prices)) if tokens else fmt.MISSING


def _final(name: str):
    return lambda job, prices, now: (job.get("final") or {}).get(name)


# (key, label, value getter, text of the value); metric rows are coloured by direction, the rest by difference.
ROWS: tuple[tuple[str, str, Any, Any], ...] = (
    ("status", N_("Status"), lambda j, p, n: j.get("status"), lambda v: status_label(v)),
    ("model", N_("Base model"), lambda j, p, n: j.get("model"), lambda v: v or fmt.MISSING),
    ("method", N_("Method"), lambda j, p, n: j.get("method_type"),
     lambda v: _(METHOD_LABELS.get(v, str(v))) if v else fmt.MISSING),
    ("n_epochs", N_("Epochs"), lambda j, p, n: j.get("n_epochs"), _hyper),
    ("batch_size", N_("Batch size"), lambda j, p, n: j.get("batch_size"), _hyper),
    ("learning_rate_multiplier", N_("LR multiplier"), lambda j, p, n: j.get("learning_rate_multiplier"), _hyper),
    ("trained_tokens", N_("Trained tokens"), lambda j, p, n: j.get("trained_tokens"), fmt.tokens),
    ("cost", N_("Cost"), lambda j, p, n: _cost(j, p), str),
    ("duration", N_("Duration"), lambda j, p, n: _duration(j, n), str),
    *((f"final_{name}", label, _final(name), _metric) for name, label in zip(FINAL_METRICS, (
        N_("Final train loss"), N_("Final valid loss"), N_("Final train accuracy"), N_("Final valid accuracy")))),
    ("best_valid_loss", N_("Best checkpoint valid loss"), lambda j, p, n: j.get("best_valid_loss"), _metric),
)


def row_direction(key: str) -> str | None:
    """"lower"/"higher" for metric rows (final_*, best_valid_loss), None for the descriptive rows."""
    if key.startswith("final_") or key == "best_valid_loss":
        return metric_direction(key)
    return None


def judge(value: Any, reference: Any, direction: str | None) -> bool | None:
    """True when ``value`` is better than the selected job's ``reference``, False when worse, None otherwise."""
    if direction is None or not isinstance(value, (int, float)) or not isinstance(reference, (int, float)):
        return None
    if value == reference:
        return None
    return value < reference if direction == "lower" else value > reference


def comparison_rows(jobs: Sequence[Mapping[str, Any]], prices: Mapping[str, float] | None,
                    now: float) -> list[dict[str, Any]]:
    """One row per compared field, one cell per job (the selected job first).

    Each cell is ``{"text", "differs", "better"}``: ``differs`` when its text is not the selected
    job's, ``better`` True/False for metric rows (by the metric's direction) and None elsewhere.
    A job that no longer exists (``{"id", "missing": True}``) reads "not found" and is never judged.
    A metric row no job reports (FakeAI sends no valid accuracy) is left out rather than shown empty.
    """
    rows = []
    reference = jobs[0] if jobs else {}
    for key, label, getter, text_of in ROWS:
        direction = row_direction(key)
        ref_value = getter(reference, prices, now)
        ref_text = text_of(ref_value)
        cells = []
        for index, job in enumerate(jobs):
            if job.get("missing"):
                cells.append({"text": NOT_FOUND if key == "status" else fmt.MISSING, "differs": False, "better": None})
                continue
            value = getter(job, prices, now)
            text = text_of(value)
            own = index == 0
            cells.append({"text": text, "differs": not own and text != ref_text,
                          "better": None if own else judge(value, ref_value, direction)})
        if direction and all(cell["text"] == fmt.MISSING for cell in cells):
            continue
        rows.append({"key": key, "label": label, "direction": direction, "cells": cells})
    return rows


# -- the figure --------------------------------------------------------------------------------

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
    figure = base_figure(_("Loss by job"), uirevision, theme)
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
