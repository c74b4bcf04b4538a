"""Metric histories for tests, built the way the sync loop builds them (MetricHistory.merge_rows),
and a plain-Python EMA that the vectorised one is checked against."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from fakeai_dash.series import EMA_MAX_WEIGHT, MetricHistory

Point = Sequence[Any]  # (step, value) or (step, value, epoch seconds)


def points(values, start_step=10, every=10, t0=1_790_000_000, seconds_per_point=3) -> list[tuple]:
    """(step, value, time) every ``every`` steps from ``start_step``, ``seconds_per_point`` apart."""
    return [(start_step + i * every, v, t0 + i * seconds_per_point) for i, v in enumerate(values)]


def history_of(curves: Mapping[str, Sequence[Point]], total_steps: int | None = None) -> MetricHistory:
    """A MetricHistory holding ``{metric: [(step, value[, time]), ...]}``."""
    rows = []
    for name, curve in curves.items():
        for point in curve:
            row = {"step": point[0], name: point[1]}
            if len(point) > 2 and point[2] is not None:
                row["time"] = point[2]
            rows.append(row)
    return MetricHistory().merge_rows(rows).with_total(total_steps)


def reference_ema(values: Sequence[float | None], weight: float) -> list[float]:
    """TensorBoard's debiased EMA, one value at a time: the oracle for series.ema_smooth_array.

    Non-finite values pass through and do not advance the average; a constant series is
    returned as it is; ``weight`` is clamped to [0, EMA_MAX_WEIGHT].
    """
    raw = [math.nan if v is None else float(v) for v in values]
    weight = min(max(weight if math.isfinite(weight) else 0.0, 0.0), EMA_MAX_WEIGHT)
    finite = [v for v in raw if math.isfinite(v)]
    if weight == 0 or not finite or all(v == finite[0] for v in finite):
        return raw
    smoothed, last, count = [], 0.0, 0
    for value in raw:
        if not math.isfinite(value):
            smoothed.append(value)
            continue
        last = last * weight + (1 - weight) * value
        count += 1
        smoothed.append(last / (1 - weight ** count))
    return smoothed
