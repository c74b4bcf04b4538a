"""Checkpoint picks: the best checkpoint by validation loss, and the first-versus-last comparison
of their metrics (CheckpointManager and ModelComparison draw them)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fakeai_dash.metrics import ordered_metric_names
from fakeai_dash.series import NON_METRIC_KEYS
from fakeai_dash.wire_values import as_step, finite_number

Checkpoint = Mapping[str, Any]


BEST_CHECKPOINT_METRICS = ("valid_loss", "full_valid_loss", "train_loss")


def _checkpoint_step(checkpoint: Checkpoint) -> int | float | None:
    return as_step(checkpoint.get("step_number"))


def _checkpoint_metric(checkpoint: Checkpoint, name: str) -> float | None:
    metrics = checkpoint.get("metrics")
    return finite_number(metrics.get(name)) if isinstance(metrics, Mapping) else None


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
        and finite_number(first_metrics[name]) is not None and finite_number(last_metrics.get(name)) is not None
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
