"""Training-health alerts: pure rules over a job's metric curves (no Dash, no I/O).

The sync loop (sync/job_sync.py) runs them whenever it updates a job's history and keeps the
result in the picture, where the list's badges, the details' banner and the browser's
notifications read it. Each alert is a small dict::

    {"kind", "title", "message" (one sentence), "step" (where it started, or None),
     "at" (epoch s of that step, or None), "checkpoint" (overfitting: the one to use)}

Thresholds come from :class:`AlertRules` (settings FAKEAI_DASH_ALERT_*).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fakeai_dash.api.models import FINISHED_STATUSES
from fakeai_dash.i18n import for_scripts
from fakeai_dash.series import MetricHistory, ema_smooth_array

ALERT_KINDS = ("nan", "divergence", "overfitting", "stall", "budget")
# Stored in English (the sync loop has no reader's language); the page translates them where shown.
ALERT_TITLES = {"nan": for_scripts("Loss is not a number"), "divergence": for_scripts("Training diverging"),
                "overfitting": for_scripts("Overfitting"), "stall": for_scripts("Stalled"),
                "budget": for_scripts("Over budget")}
TRAIN_LOSS = "train_loss"
VALID_LOSSES = ("valid_loss", "full_valid_loss")
LOSS_NAMES = (TRAIN_LOSS, *VALID_LOSSES)
ACTIVE_FOR_STALL = ("running",)
MIN_PACE_POINTS = 6  # fewer timed points say too little about a job's pace to call it stalled  # queued/validating jobs wait on the provider, not on training


@dataclass(frozen=True)
class AlertRules:
    # Divergence: the EMA-smoothed train loss stays this fraction above its running minimum
    # for ``divergence_window`` reported points in a row, up to the newest one.
    smoothing: float = 0.9
    divergence_rise: float = 0.5
    divergence_window: int = 10
    # Overfitting: the lightly smoothed valid loss rose at each of the last ``overfit_evals``
    # evaluations (or more), by this fraction in all, while the smoothed train loss fell.
    overfit_evals: int = 4
    overfit_min_rise: float = 0.05
    valid_smoothing: float = 0.3
    # Stall: a running job silent for ``stall_factor`` times its own seconds per step
    # (never less than ``stall_min_s``; a job too young to have a rate is never stalled).
    stall_factor: float = 10.0
    stall_min_s: float = 120.0
    # Budget (USD): a job whose projected total passes it; None: no per-job budget.
    job_budget: float | None = None


def rules_from_settings(settings: Any) -> AlertRules:
    """AlertRules from Settings (or anything with the same attributes; missing ones keep defaults)."""
    defaults = AlertRules()
    return AlertRules(**{name: getattr(settings, f"alert_{name}", getattr(defaults, name))
                         for name in ("smoothing", "divergence_rise", "divergence_window", "overfit_evals",
                                      "overfit_min_rise", "stall_factor", "stall_min_s")},
                      job_budget=getattr(settings, "budget_per_job_usd", None))


# Alert sentences, registered for the page's script catalog at import (every worker serves pages,
# whichever one computed the alert).
NAN_TRAIN_TEXT = for_scripts("The train loss became NaN or infinite at step {step}: training has broken down (learning "
                             "rate too high or bad data), and further steps cost money for nothing.")
NAN_VALID_TEXT = for_scripts("The validation loss became NaN or infinite at step {step}: training has broken down "
                             "(learning rate too high or bad data), and further steps cost money for nothing.")
DIVERGENCE_TEXT = for_scripts("The smoothed train loss has risen from its best {best} to {last} since "
                              "step {step} and has not come back: training is diverging.")
USE_CHECKPOINT_TEXT = for_scripts(" Use checkpoint {checkpoint}, the one with the best validation loss.")
BEST_AT_TEXT = for_scripts(" The best validation loss was at step {step}.")
OVERFITTING_TEXT = for_scripts("Validation loss has risen for {count} evaluations since step {step} "
                               "({best} → {last}) while the train loss kept falling: the model is "
                               "overfitting.")
STALL_TEXT = for_scripts("No new event for {silent}, though this job has been taking about {pace} "
                         "per step: it may be stuck.")
BUDGET_SPENT_TEXT = for_scripts("This job cost {cost}, over its budget of {budget}.")
BUDGET_PROJECTED_TEXT = for_scripts("This job is projected to cost {cost}, over its budget of {budget}.")


def _alert(kind: str, message: list[tuple[str, dict[str, str]]], step: float | None = None, at: float | None = None,
           checkpoint: str | None = None) -> dict[str, Any]:
    # The message as English text, and as (msgid, {name: text}) parts the page translates where it
    # shows them (training_alerts.py, notifications.js): the sync loop has no reader's language.
    parts = [[msgid, args] for msgid, args in message]
    text = "".join(msgid.format(**args) for msgid, args in parts)
    return {"kind": kind, "title": ALERT_TITLES[kind], "message": text, "message_parts": parts,
            "step": None if step is None else _tidy(step), "at": at if at is None or math.isfinite(at) else None,
            "checkpoint": checkpoint}


def _tidy(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def _step_text(step: float) -> str:
    return f"{_tidy(step):,}"


# -- not a number -------------------------------------------------------------------------------

def first_non_finite(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The earliest step (as ``{"metric", "step", "at"}``) whose train or valid loss was reported
    as NaN or infinite, in metric rows as the sync loop merges them.

    Needed apart from the history because a NaN there means "not reported at this step"."""
    found = None
    for row in rows:
        step = _float(row.get("step"))
        if step is None or not math.isfinite(step):
            continue
        for name in LOSS_NAMES:
            if name not in row or row[name] is None or row[name] == "":
                continue
            value = _float(row[name])
            if value is None or not math.isfinite(value):
                if found is None or step < found["step"]:
                    found = {"metric": name, "step": step, "at": _float(row.get("time"))}
                break
    return found


def earliest(first: dict[str, Any] | None, second: dict[str, Any] | None) -> dict[str, Any] | None:
    """The earlier of two first_non_finite answers (either may be None)."""
    if first is None or second is None:
        return first or second
    return first if first["step"] <= second["step"] else second


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan if isinstance(value, str) else None


def nan_alert(non_finite: Mapping[str, Any] | None, history: MetricHistory | None = None) -> dict[str, Any] | None:
    """NaN or infinite loss: from the rows seen (``non_finite``) or an infinite value kept in the history."""
    found = dict(non_finite) if non_finite else None
    if history is not None:
        for name in LOSS_NAMES:
            steps, times, values = history.series(name)
            bad = np.flatnonzero(np.isinf(values))
            if bad.size and (found is None or steps[bad[0]] < found["step"]):
                found = {"metric": name, "step": float(steps[bad[0]]), "at": float(times[bad[0]])}
    if not found:
        return None
    message = NAN_TRAIN_TEXT if found["metric"] == TRAIN_LOSS else NAN_VALID_TEXT
    return _alert("nan", [(message, {"step": _step_text(found["step"])})], found["step"], found.get("at"))


# -- divergence ---------------------------------------------------------------------------------

def divergence_alert(history: MetricHistory, rules: AlertRules = AlertRules()) -> dict[str, Any] | None:
    """The smoothed train loss stays ``divergence_rise`` above its running minimum for the last
    ``divergence_window`` points (or more); the alert starts at the first point of that run."""
    steps, times, values = history.series(TRAIN_LOSS)
    finite = np.isfinite(values)
    steps, times, values = steps[finite], times[finite], values[finite]
    if values.size < rules.divergence_window + 1:
        return None
    smooth = ema_smooth_array(values, rules.smoothing)
    running_min = np.minimum.accumulate(smooth)
    # Relative to the minimum, with a floor so a loss near zero does not alarm on tiny wiggles.
    floor = max(float(np.max(np.abs(smooth))) * 1e-3, 1e-9)
    above = smooth > running_min + np.maximum(np.abs(running_min), floor) * rules.divergence_rise
    if not above[-1]:
        return None
    below = np.flatnonzero(~above)
    start = int(below[-1]) + 1 if below.size else 0
    if values.size - start < rules.divergence_window:
        return None
    best = float(running_min[start])
    return _alert("divergence", [(DIVERGENCE_TEXT,
                                  {"best": f"{best:.4g}", "last": f"{float(smooth[-1]):.4g}",
                                   "step": _step_text(steps[start])})], steps[start], float(times[start]))


# -- overfitting --------------------------------------------------------------------------------

def _valid_series(history: MetricHistory) -> tuple[str | None, np.ndarray, np.ndarray, np.ndarray]:
    for name in VALID_LOSSES:
        steps, times, values = history.series(name)
        finite = np.isfinite(values)
        if finite.sum() >= 2:
            return name, steps[finite], times[finite], values[finite]
    return None, np.empty(0), np.empty(0), np.empty(0)


def overfitting_alert(history: MetricHistory, checkpoints: Sequence[Mapping[str, Any]] = (),
                      rules: AlertRules = AlertRules()) -> dict[str, Any] | None:
    """Valid loss (lightly smoothed: evaluations are noisy) rising at each of the last
    ``overfit_evals`` evaluations or more, to ``overfit_min_rise`` above where the rise began,
    while the smoothed train loss fell over the same steps. Names the checkpoint with the best
    valid loss."""
    name, steps, times, values = _valid_series(history)
    if name is None or values.size < rules.overfit_evals + 2:
        return None
    smooth = ema_smooth_array(values, rules.valid_smoothing)
    falls = np.flatnonzero(np.diff(smooth) <= 0)
    start = int(falls[-1]) + 1 if falls.size else 0  # where the current run of rises began
    if smooth.size - 1 - start < rules.overfit_evals:
        return None
    if smooth[-1] < smooth[start] + abs(smooth[start]) * rules.overfit_min_rise:
        return None
    best = int(np.argmin(values[:start + 1]))
    if not _train_fell(history, steps[best], steps[-1], rules.smoothing):
        return None
    checkpoint = _best_checkpoint(checkpoints, steps[best])
    use = ((USE_CHECKPOINT_TEXT,
            {"checkpoint": str(checkpoint['label'])})
           if checkpoint else (BEST_AT_TEXT,
                               {"step": _step_text(steps[best])}))
    return _alert("overfitting", [(OVERFITTING_TEXT,
                                   {"count": str(smooth.size - 1 - start), "step": _step_text(steps[best]),
                                    "best": f"{values[best]:.4g}", "last": f"{values[-1]:.4g}"}), use],
                  steps[best], float(times[best]), checkpoint["id"] if checkpoint else None)


def _train_fell(history: MetricHistory, from_step: float, to_step: float, smoothing: float) -> bool:
    steps, _, values = history.series(TRAIN_LOSS)
    finite = np.isfinite(values)
    steps, values = steps[finite], values[finite]
    if values.size < 2:
        return False
    smooth = ema_smooth_array(values, smoothing)
    at_best = np.flatnonzero(steps <= from_step)
    at_end = np.flatnonzero(steps <= to_step)
    if not at_best.size or not at_end.size or at_end[-1] <= at_best[-1]:
        return False
    return bool(smooth[at_end[-1]] < smooth[at_best[-1]])


def _best_checkpoint(checkpoints: Sequence[Mapping[str, Any]], best_step: float) -> dict[str, Any] | None:
    """The checkpoint with the lowest reported valid loss; else the one nearest the best step."""
    scored = []
    for checkpoint in checkpoints or ():
        metrics = checkpoint.get("metrics") or {}
        for name in VALID_LOSSES:
            value = _float(metrics.get(name))
            if value is not None and math.isfinite(value):
                scored.append((value, _float(checkpoint.get("step_number")) or 0.0, checkpoint))
                break
    if scored:
        chosen = min(scored, key=lambda item: (item[0], item[1]))[2]
    else:
        stepped = [c for c in checkpoints or () if _float(c.get("step_number")) is not None]
        if not stepped:
            return None
        chosen = min(stepped, key=lambda c: abs(_float(c["step_number"]) - best_step))
    step = _float(chosen.get("step_number"))
    name = chosen.get("fine_tuned_model_checkpoint") or chosen.get("id")
    label = f"{name} (step {_tidy(step):,})" if step is not None else str(name)
    return {"id": chosen.get("id"), "label": label}


# -- stall --------------------------------------------------------------------------------------

def seconds_per_step(history: MetricHistory, recent: int = 50) -> float | None:
    """The job's own pace over its newest ``recent`` timed points (None with too little data)."""
    known = np.isfinite(history.times)
    steps, times = history.steps[known][-recent:], history.times[known][-recent:]
    if steps.size < MIN_PACE_POINTS or steps[-1] <= steps[0] or times[-1] <= times[0]:
        return None
    return float((times[-1] - times[0]) / (steps[-1] - steps[0]))


def stall_alert(history: MetricHistory, status: str | None, last_event_at: float | None, now: float,
                rules: AlertRules = AlertRules()) -> dict[str, Any] | None:
    """A running job with no new event for ``stall_factor`` × its seconds per step (at least ``stall_min_s``)."""
    if status not in ACTIVE_FOR_STALL or last_event_at is None:
        return None
    pace = seconds_per_step(history)
    if pace is None:
        return None
    limit = max(rules.stall_factor * pace, rules.stall_min_s)
    silent = now - last_event_at
    if silent <= limit:
        return None
    last_step = history.last_step
    return _alert("stall", [(STALL_TEXT,
                             {"silent": _duration(silent), "pace": _duration(pace)})], last_step, last_event_at)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


# -- budget -------------------------------------------------------------------------------------

def budget_alert(projected_cost: float | None, budget: float | None, step: float | None = None,
                 finished: bool = False) -> dict[str, Any] | None:
    """The job's projected total (its cost, once finished) passes its budget."""
    if budget is None or projected_cost is None or projected_cost <= budget:
        return None
    message = BUDGET_SPENT_TEXT if finished else BUDGET_PROJECTED_TEXT
    return _alert("budget", [(message, {"cost": f"${projected_cost:,.2f}", "budget": f"${budget:,.2f}"})], step)


# -- all of them --------------------------------------------------------------------------------

def job_alerts(history: MetricHistory, *, status: str | None, checkpoints: Sequence[Mapping[str, Any]] = (),
               non_finite: Mapping[str, Any] | None = None, last_event_at: float | None = None,
               projected_cost: float | None = None, now: float, rules: AlertRules = AlertRules()) -> list[dict]:
    """Every alert that holds for the job now, in ALERT_KINDS order.

    A loss that turned NaN makes divergence and overfitting moot (the curves end there)."""
    alerts = [nan_alert(non_finite, history)]
    if alerts[0] is None:
        alerts += [divergence_alert(history, rules), overfitting_alert(history, checkpoints, rules)]
    alerts += [stall_alert(history, status, last_event_at, now, rules),
               budget_alert(projected_cost, rules.job_budget, history.last_step, status in FINISHED_STATUSES)]
    return [alert for alert in alerts if alert is not None]
