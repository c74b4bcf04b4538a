"""Lenient readers of the values the fine-tuning APIs send: numbers that may be strings, bools or
"auto", step numbers, status and level spellings, and which events carry metrics."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

Event = Mapping[str, Any]


def real_number(value: object) -> float | None:
    """``value`` as a float when it is a real number (bools and "auto" strings are not)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def finite_number(value: object) -> float | None:
    value = real_number(value)
    return value if value is not None and math.isfinite(value) else None


def as_step(value: object) -> int | float | None:
    """A finite step number, as int when integral so 10.0 and 10 are the same step."""
    number = finite_number(value)
    if number is None:
        return None
    return int(number) if number.is_integer() else number


def normalize_status(status: object) -> str:
    """Lower-cased status with the US spelling of cancelled folded in; "" for None."""
    text = str(status or "").strip().lower()
    return {"canceled": "cancelled", "validating": "validating_files"}.get(text, text)


def is_metrics_event(event: Event) -> bool:
    # Servers that omit "type" still send metrics; message events never carry metric data.
    return event.get("type") in (None, "metrics") and isinstance(event.get("data"), Mapping)


def metric_events(events: Iterable[Event]) -> Iterable[tuple[int | float, Event]]:
    """(step, event) for each metrics event that carries a numeric step."""
    for event in events or ():
        if not is_metrics_event(event):
            continue
        step = as_step(event["data"].get("step"))
        if step is not None:
            yield step, event


def normalize_level(level: object) -> str:
    """Lower-cased level with OpenAI's "warn" folded into "warning"."""
    text = str(level or "").strip().lower()
    return "warning" if text == "warn" else text
