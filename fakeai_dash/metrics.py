"""Derived numbers of a fine-tuning job: status stages, progress, ETA, cost, checkpoint picks.

The metric curves themselves live in one place, series.MetricHistory (numpy columns).
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable, Mapping
from typing import Any

from fakeai_dash.api.models import FINISHED_STATUSES
from fakeai_dash.i18n import N_
from fakeai_dash.pricing import price_per_1k_tokens, training_cost
from fakeai_dash.series import NON_METRIC_KEYS

Job = Mapping[str, Any]
Event = Mapping[str, Any]
Checkpoint = Mapping[str, Any]

# The wire module owns the status vocabulary.
TERMINAL_STATUSES = tuple(sorted(FINISHED_STATUSES))
PRE_TERMINAL_STAGES = ("validating_files", "queued", "running")
KNOWN_STATUSES = (*PRE_TERMINAL_STAGES, "paused", *TERMINAL_STATUSES)

STAGE_LABELS = {
    "validating_files": N_("Validating files"),
    "queued": N_("Queued"),
    "running": N_("Running"),
    "paused": N_("Paused"),
    "succeeded": N_("Succeeded"),
    "failed": N_("Failed"),
    "cancelled": N_("Cancelled"),
}


# Token counters some servers put in metrics data; tried in this order.
TOKEN_DATA_KEYS = ("trained_tokens", "elapsed_tokens", "tokens")

# ETA ranges are never narrower than ±25%: one step rate or one server estimate
# does not justify more precision than that.
MIN_ETA_SPREAD = 0.25
MAX_ETA_SPREAD = 0.9


# --------------------------------------------------------------------------- helpers


def _number(value: object) -> float | None:
    """``value`` as a float when it is a real number (bools and "auto" strings are not)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _finite(value: object) -> float | None:
    number = _number(value)
    return number if number is not None and math.isfinite(number) else None


def _as_step(value: object) -> int | float | None:
    """A finite step number, as int when integral so 10.0 and 10 are the same step."""
    number = _finite(value)
    if number is None:
        return None
    return int(number) if number.is_integer() else number


def normalize_status(status: object) -> str:
    """Lower-cased status with the US spelling of cancelled folded in; "" for None."""
    text = str(status or "").strip().lower()
    return {"canceled": "cancelled", "validating": "validating_files"}.get(text, text)


def _is_metrics_event(event: Event) -> bool:
    # Servers that omit "type" still send metrics; message events never carry metric data.
    return event.get("type") in (None, "metrics") and isinstance(event.get("data"), Mapping)


def _metric_events(events: Iterable[Event]) -> Iterable[tuple[int | float, Event]]:
    """(step, event) for each metrics event that carries a numeric step."""
    for event in events or ():
        if not _is_metrics_event(event):
            continue
        step = _as_step(event["data"].get("step"))
        if step is not None:
            yield step, event


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
        data = event.get("data") if _is_metrics_event(event) else None
        if data:
            data_step = _as_step(data.get("step"))
            if data_step is not None:
                step = max(step or 0, data_step)
            data_total = _as_step(data.get("total_steps"))
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
    number = _finite(fraction)
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
    created, finish = _finite(job.get("created_at")), _finite(job.get("estimated_finish"))
    if normalize_status(job.get("status")) != "running" or not created or not finish or finish <= created:
        return None
    return min(max((now - created) / (finish - created), 0.0), 0.99)


# ------------------------------------------------------------------ stage timeline

_STAGE_PATTERNS = {
    "validating_files": re.compile(r"\bvalidating\b|job created|created fine-tuning job", re.I),
    "queued": re.compile(
        r"\bfiles? (were |have been )?validated|validation (passed|succeeded|complete)|\bqueued\b", re.I
    ),
    "running": re.compile(
        r"training started|started training|(fine-tuning )?job started|training (is )?running"
        r"|\bstep\s+\d+\s*/\s*\d+",
        re.I,
    ),
    "paused": re.compile(r"\bpaused\b", re.I),
    "resumed": re.compile(r"\bresum(ed|ing)\b", re.I),
    "succeeded": re.compile(
        r"completed successfully|successfully completed|\bsucceeded\b|training (has )?(completed|finished)"
        r"|(fine-tuning )?job (has )?(completed|finished)",
        re.I,
    ),
    "failed": re.compile(r"\bfail(ed|ure)\b", re.I),
    "cancelled": re.compile(r"\bcancel(l)?ed\b|\bcancellation\b", re.I),
}


def _stage_marks(job: Job, events: Iterable[Event]) -> dict[str, float]:
    """Epoch seconds at which each stage was first seen, from job fields and event messages."""
    marks: dict[str, float] = {}
    for event in events or ():
        at = _finite(event.get("created_at"))
        if at is None:
            continue
        message = str(event.get("message") or "")
        for stage, pattern in _STAGE_PATTERNS.items():
            if stage not in marks and pattern.search(message):
                marks[stage] = at
        # FakeAI logs a step-0 metrics event at creation, so only later steps prove training ran.
        if "running" not in marks and _is_metrics_event(event):
            if (_as_step(event["data"].get("step")) or 0) > 0:
                marks["running"] = at
    created = _finite(job.get("created_at"))
    if created is not None:
        marks["validating_files"] = created
    finished = _finite(job.get("finished_at"))
    status = normalize_status(job.get("status"))
    if status in TERMINAL_STATUSES and finished is not None:
        marks[status] = finished
    return marks


def stage_timeline(job: Job, events: Iterable[Event], now: float) -> list[dict[str, Any]]:
    """Ordered stages ``{"name","label","state","start","end","duration"}``.

    Stages run validating_files → queued → running → (paused, if ever seen) →
    terminal. State is "done", "current", "pending" or "skipped" (stages a finished
    job never reached). An unrecognised status becomes the current stage under its
    raw name, placed after the last stage the events prove was reached.
    """
    events = list(events or ())
    raw_status = str(job.get("status") or "unknown")
    status = normalize_status(raw_status)
    marks = _stage_marks(job, events)
    names = list(PRE_TERMINAL_STAGES)
    if status == "paused" or "paused" in marks:
        names.append("paused")
    if status not in KNOWN_STATUSES:
        reached = [i for i, name in enumerate(names) if name in marks]
        names.insert(max(reached, default=0) + 1, status)
    names.append(status if status in TERMINAL_STATUSES else "succeeded")

    states = _stage_states(names, status, marks)
    stages = []
    for index, name in enumerate(names):
        state = states[index]
        start = marks.get(name) if state in ("done", "current") else None
        label = STAGE_LABELS.get(name, raw_status if name == status else name)
        stages.append(
            {"name": name, "label": label, "state": state, "start": start, "end": None, "duration": None}
        )
    _fill_ends(stages, marks, now)
    return stages


def _stage_states(names: list[str], status: str, marks: Mapping[str, float]) -> list[str]:
    terminal_index = len(names) - 1
    if status in TERMINAL_STATUSES:
        last_reached = max((i for i, n in enumerate(names[:-1]) if n in marks), default=0)
        return ["done" if i <= last_reached or i == terminal_index else "skipped" for i in range(len(names))]
    current = names.index(status)
    states = []
    for index, name in enumerate(names):
        if index < current:
            states.append("done")
        elif index == current:
            states.append("current")
        elif name == "paused" and "resumed" in marks:
            # A pause that was resumed already happened even though it sorts after running.
            states.append("done")
        else:
            states.append("pending")
    return states


def _fill_ends(stages: list[dict[str, Any]], marks: Mapping[str, float], now: float) -> None:
    for index, stage in enumerate(stages):
        start = stage["start"]
        if stage["state"] == "current":
            stage["duration"] = max(0.0, now - start) if start is not None else None
            continue
        if stage["state"] != "done":
            continue
        if index == len(stages) - 1:
            stage["end"] = start  # the terminal stage is an instant, not a span
            continue
        end = marks.get("resumed") if stage["name"] == "paused" else None
        if end is None:
            following = next((s for s in stages[index + 1 :] if s["state"] != "skipped"), None)
            end = following["start"] if following else None
        stage["end"] = end
        if start is not None and end is not None:
            stage["duration"] = max(0.0, end - start)


# ------------------------------------------------------------------------------ ETA


def _step_times(events: Iterable[Event]) -> list[tuple[int | float, float]]:
    """(step, epoch seconds) for steps after 0, latest event per step, sorted by step."""
    times: dict[int | float, float] = {}
    for step, event in _metric_events(events):
        at = _finite(event.get("created_at"))
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
    estimate = _finite(job.get("estimated_finish"))
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


# ----------------------------------------------------------------------------- cost


def estimate_total_tokens(training_file_bytes: float | None, n_epochs: object) -> int | None:
    """FakeAI's own token estimate for a whole run: ~1 token per 4 bytes, times epochs ("auto" = 3)."""
    size = _finite(training_file_bytes)
    epochs = 3 if n_epochs == "auto" else _finite(n_epochs)
    if size is None or epochs is None or size < 0 or epochs <= 0:
        return None
    return int(size // 4 * epochs)


def _fraction_for_cost(job: Job, events: list[Event], now: float) -> float | None:
    """Progress fraction, falling back to elapsed time against ``estimated_finish``."""
    fraction = progress(job, events)["fraction"]
    if fraction is not None:
        return fraction
    estimate = _finite(job.get("estimated_finish"))
    marks = _stage_marks(job, events)
    start = marks.get("running", marks.get("validating_files"))
    if estimate is None or start is None or estimate <= start:
        return None
    return min(max((now - start) / (estimate - start), 0.0), 1.0)


def _data_tokens(events: list[Event]) -> float | None:
    for _, event in reversed(list(_metric_events(events))):
        for key in TOKEN_DATA_KEYS:
            tokens = _finite(event["data"].get(key))
            if tokens is not None:
                return tokens
    return None


def cost_summary(
    job: Job,
    events: Iterable[Event],
    price_table: Mapping[str, float] | None,
    now: float,
    expected_total_tokens: float | None = None,
) -> dict[str, Any]:
    """Tokens and dollars so far, plus a projection for unfinished jobs.

    Returns ``{"tokens", "estimated", "cost", "projected_tokens", "projected_cost",
    "price_per_1k", "fraction"}``. ``tokens`` is the job's ``trained_tokens`` when
    present (``estimated=False``); otherwise, for unfinished jobs, a token counter in
    the metrics data or ``expected_total_tokens`` × progress (``estimated=True``).
    Projections (tokens so far / fraction) exist only for unfinished jobs.
    """
    events = list(events or ())
    model = job.get("model")
    status = normalize_status(job.get("status"))
    finished = status in TERMINAL_STATUSES
    fraction = 1.0 if status == "succeeded" else _fraction_for_cost(job, events, now)
    expected = _finite(expected_total_tokens)

    tokens = _finite(job.get("trained_tokens"))
    estimated = False
    if tokens is None and not finished:
        estimated = True
        tokens = _data_tokens(events)
        if tokens is None and expected is not None and fraction is not None:
            tokens = expected * fraction

    projected = None
    if not finished:
        if tokens and fraction:
            projected = tokens / fraction
        elif expected is not None:
            projected = expected

    def dollars(count: float | None) -> float | None:
        return None if count is None else training_cost(count, model, price_table)

    tokens_out = None if tokens is None else int(round(tokens))
    projected_out = None if projected is None else int(round(projected))
    return {
        "tokens": tokens_out,
        "estimated": estimated,
        "cost": dollars(tokens_out),
        "projected_tokens": projected_out,
        "projected_cost": dollars(projected_out),
        "price_per_1k": price_per_1k_tokens(model, price_table),
        "fraction": fraction,
    }


# ---------------------------------------------------------------------- checkpoints

BEST_CHECKPOINT_METRICS = ("valid_loss", "full_valid_loss", "train_loss")


def _checkpoint_step(checkpoint: Checkpoint) -> int | float | None:
    return _as_step(checkpoint.get("step_number"))


def _checkpoint_metric(checkpoint: Checkpoint, name: str) -> float | None:
    metrics = checkpoint.get("metrics")
    return _finite(metrics.get(name)) if isinstance(metrics, Mapping) else None


def best_checkpoint(checkpoints: Iterable[Checkpoint]) -> str | None:
    """Id of the checkpoint with the lowest valid_loss (else full_valid_loss, else train_loss).

    One metric is chosen for all checkpoints (the first any of them reports), since
    comparing one checkpoint's train loss with another's validation loss is meaningless.
    Ties go to the earlier step.
    """
    checkpoints = list(checkpoints or ())
    for name in BEST_CHECKPOINT_METRICS:
        scored = [
            (value, _checkpoint_step(c) or 0, c.get("id"))
            for c in checkpoints
            if (value := _checkpoint_metric(c, name)) is not None
        ]
        if scored:
            return min(scored, key=lambda item: (item[0], item[1]))[2]
    return None


def metric_direction(name: str) -> str | None:
    """Which way is better for metric ``name``: "lower" (losses), "higher" (accuracies) or None."""
    if "loss" in name:
        return "lower"
    if "accuracy" in name:
        return "higher"
    return None


def compare_checkpoints(checkpoints: Iterable[Checkpoint]) -> dict[str, Any] | None:
    """First vs last checkpoint by step; None with fewer than two checkpoints.

    Returns ``{"first_id", "first_step", "last_id", "last_step", "metrics": [row]}``
    where each row is ``{"metric", "first", "last", "change", "pct_change",
    "improved"}``. ``pct_change`` is a fraction (-0.25 means 25% lower; None when the
    first value is 0) and ``improved`` is None for metrics without a direction.
    """
    ordered = sorted(
        (c for c in checkpoints or () if _checkpoint_step(c) is not None), key=_checkpoint_step
    )
    if len(ordered) < 2:
        return None
    first, last = ordered[0], ordered[-1]
    first_metrics = first.get("metrics") if isinstance(first.get("metrics"), Mapping) else {}
    last_metrics = last.get("metrics") if isinstance(last.get("metrics"), Mapping) else {}
    shared = [
        name
        for name in first_metrics
        if name not in NON_METRIC_KEYS
        and _finite(first_metrics[name]) is not None and _finite(last_metrics.get(name)) is not None
    ]
    rows = [
        _compare_row(name, float(first_metrics[name]), float(last_metrics[name]))
        for name in ordered_metric_names(shared)
    ]
    return {
        "first_id": first.get("id"),
        "first_step": _checkpoint_step(first),
        "last_id": last.get("id"),
        "last_step": _checkpoint_step(last),
        "metrics": rows,
    }


def _compare_row(name: str, first: float, last: float) -> dict[str, Any]:
    direction = metric_direction(name)
    improved = None
    if direction == "lower":
        improved = last < first
    elif direction == "higher":
        improved = last > first
    return {
        "metric": name,
        "first": first,
        "last": last,
        "change": last - first,
        "pct_change": (last - first) / abs(first) if first else None,
        "improved": improved,
    }


# --------------------------------------------------------------------------- events


def normalize_level(level: object) -> str:
    """Lower-cased level with OpenAI's "warn" folded into "warning"."""
    text = str(level or "").strip().lower()
    return "warning" if text == "warn" else text
