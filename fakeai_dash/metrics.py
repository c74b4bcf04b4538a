"""A job's progress and ETA from its events, and the order metric names are shown in.

The metric curves themselves live in one place, series.MetricHistory (numpy columns); the
stage timeline is stages.py, the cost cost.py, the checkpoint picks checkpoint_metrics.py.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable, Mapping
from typing import Any

from fakeai_dash.series import NON_METRIC_KEYS
from fakeai_dash.stages import TERMINAL_STATUSES
from fakeai_dash.wire_values import as_step, finite_number, is_metrics_event, metric_events, normalize_status

Job = Mapping[str, Any]
Event = Mapping[str, Any]

# ETA ranges are never narrower than ±25%: one step rate or one server estimate
# does not justify more precision than that.
MIN_ETA_SPREAD = 0.25
MAX_ETA_SPREAD = 0.9


# ------------------------------------------------------------------ metric names


def _metric_rank(name: str) -> tuple[int, int, str]:
    group = 0 if "loss" in name else 1 if "accuracy" in name else 2
    prefixes = ("train", "valid", "full_valid")
    split = next((i for i, prefix in enumerate(prefixes) if name.startswith(prefix)), len(prefixes))
    return group, split, name


def ordered_metric_names(names: Iterable[str]) -> list[str]:
    """Losses first, then accuracies, then others; train before valid before full_valid.
    ``step`` and ``total_steps`` (OpenAI puts step in checkpoint metrics) are not metrics."""
    return sorted(set(names) - NON_METRIC_KEYS, key=_metric_rank)


# ------------------------------------------------------------------------- progress

_STEP_MESSAGE = re.compile(r"\bstep\s+(\d+)\s*/\s*(\d+)", re.IGNORECASE)


def progress(job: Job, events: Iterable[Event]) -> dict[str, Any]:
    """``{"step", "total_steps", "fraction"}``; fraction is None with no known total, 1.0 once succeeded."""
    step: int | float | None = None
    total: int | float | None = None
    for event in events or ():
        match = _STEP_MESSAGE.search(str(event.get("message") or ""))
        if match:
            step = max(step or 0, int(match.group(1)))
            total = int(match.group(2))
        data = event.get("data") if is_metrics_event(event) else None
        if data:
            data_step = as_step(data.get("step"))
            if data_step is not None:
                step = max(step or 0, data_step)
            data_total = as_step(data.get("total_steps"))
            if data_total:
                total = data_total
    fraction = None
    if normalize_status(job.get("status")) == "succeeded":
        fraction = 1.0
        step = total if total else step
    elif total:
        fraction = min(max((step or 0) / total, 0.0), 1.0)
    return {"step": step, "total_steps": total, "fraction": fraction}


def whole_percent(fraction: float | None) -> int | None:
    """A fraction as the whole percent the list and the details both show (halves round up, as
    the list's estimate does in assets/dashAgGridFunctions.js: 12.5% is 13% on both)."""
    number = finite_number(fraction)
    return None if number is None else int(math.floor(number * 100 + 0.5))


def shown_progress(job: Job, events: Iterable[Event]) -> dict[str, Any]:
    """The one progress rule of the list and the details: ``{"step", "total_steps", "percent"}``
    from the job and its events (with the full history's last step: series.history_event).
    The sync loop publishes it for the list; the details draw their bar from the same call."""
    info = progress(job, events)
    return {"step": info["step"], "total_steps": info["total_steps"], "percent": whole_percent(info["fraction"])}


def estimated_fraction(job: Job, now: float) -> float | None:
    """A running job's share of its expected duration (created → the API's estimated_finish),
    capped at 99%: the list's and the details' rule when no step count is known. Labelled an
    estimate wherever it shows (assets/dashAgGridFunctions.js jobProgress mirrors it)."""
    created, finish = finite_number(job.get("created_at")), finite_number(job.get("estimated_finish"))
    if normalize_status(job.get("status")) != "running" or not created or not finish or finish <= created:
        return None
    return min(max((now - created) / (finish - created), 0.0), 0.99)


# ------------------------------------------------------------------------------ ETA


def _step_times(events: Iterable[Event]) -> list[tuple[int | float, float]]:
    """(step, epoch seconds) for steps after 0, latest event per step, sorted by step."""
    times: dict[int | float, float] = {}
    for step, event in metric_events(events):
        at = finite_number(event.get("created_at"))
        if step > 0 and at is not None:
            times[step] = at
    return sorted(times.items())


def step_rate(events: Iterable[Event]) -> tuple[float, float] | None:
    """(seconds per step, relative spread) measured between metrics events, or None with too little data."""
    points = _step_times(events)
    if len(points) < 2:
        return None
    (first_step, first_t), (last_step, last_t) = points[0], points[-1]
    if last_step <= first_step or last_t <= first_t:
        return None
    per_step = (last_t - first_t) / (last_step - first_step)
    intervals = [(t2 - t1) / (s2 - s1) for (s1, t1), (s2, t2) in zip(points, points[1:]) if s2 > s1]
    spread = statistics.pstdev(intervals) / per_step if len(intervals) >= 2 else 0.0
    return per_step, spread


def eta_range(job: Job, events: Iterable[Event], now: float) -> tuple[float, float] | None:
    """Seconds until the job should finish, as a (low, high) range; None when finished or unknowable.

    A server ``estimated_finish`` wins; otherwise the measured step rate is applied to
    the remaining steps. The range is at least ±25% and wider when step times vary.
    """
    status = normalize_status(job.get("status"))
    if status in TERMINAL_STATUSES or status == "paused":
        return None
    events = list(events or ())
    estimate = finite_number(job.get("estimated_finish"))
    if estimate is not None and estimate > now:
        return _spread_range(estimate - now, MIN_ETA_SPREAD)
    measured = _rate_eta(job, events, now)
    if measured is not None:
        return measured
    # The server's estimate has passed but the job is not done: it is due any moment.
    return (0.0, 0.0) if estimate is not None else None


def _rate_eta(job: Job, events: list[Event], now: float) -> tuple[float, float] | None:
    rate = step_rate(events)
    info = progress(job, events)
    points = _step_times(events)
    if rate is None or not info["total_steps"] or not points:
        return None
    per_step, variation = rate
    last_step, last_t = points[-1]
    remaining_steps = max(info["total_steps"] - max(last_step, info["step"] or 0), 0)
    # Time since the last metrics event has already been spent on the remaining steps.
    centre = max(remaining_steps * per_step - max(now - last_t, 0.0), 0.0)
    return _spread_range(centre, min(max(MIN_ETA_SPREAD, variation), MAX_ETA_SPREAD))


def _spread_range(centre: float, spread: float) -> tuple[float, float]:
    return (centre * (1 - spread), centre * (1 + spread))
