"""What a job costs: tokens trained so far (reported, or estimated from progress), dollars by the
price table, and a projection for an unfinished job (CostTracker draws it, budgets read it)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fakeai_dash.metrics import progress
from fakeai_dash.pricing import price_per_1k_tokens, training_cost
from fakeai_dash.stages import TERMINAL_STATUSES, stage_marks
from fakeai_dash.wire_values import finite_number, metric_events, normalize_status

Job = Mapping[str, Any]
Event = Mapping[str, Any]

# Token counters some servers put in metrics data; tried in this order.
TOKEN_DATA_KEYS = ("trained_tokens", "elapsed_tokens", "tokens")


def estimate_total_tokens(training_file_bytes: float | None, n_epochs: object) -> int | None:
    """FakeAI's own token estimate for a whole run: ~1 token per 4 bytes, times epochs ("auto" = 3)."""
    size = finite_number(training_file_bytes)
    epochs = 3 if n_epochs == "auto" else finite_number(n_epochs)
    if size is None or epochs is None or size < 0 or epochs <= 0:
        return None
    return int(size // 4 * epochs)


def _fraction_for_cost(job: Job, events: list[Event], now: float) -> float | None:
    """Progress fraction, falling back to elapsed time against ``estimated_finish``."""
    fraction = progress(job, events)["fraction"]
    if fraction is not None:
        return fraction
    estimate = finite_number(job.get("estimated_finish"))
    marks = stage_marks(job, events)
    start = marks.get("running", marks.get("validating_files"))
    if estimate is None or start is None or estimate <= start:
        return None
    return min(max((now - start) / (estimate - start), 0.0), 1.0)


def _data_tokens(events: list[Event]) -> float | None:
    for _, event in reversed(list(metric_events(events))):
        for key in TOKEN_DATA_KEYS:
            tokens = finite_number(event["data"].get(key))
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
    expected = finite_number(expected_total_tokens)

    tokens = finite_number(job.get("trained_tokens"))
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
