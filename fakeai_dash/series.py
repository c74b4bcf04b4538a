"""MetricHistory: a job's complete metric curves as columns (one row per step), cheap at 100,000 steps.

The sync loop builds it incrementally from events (or in one go from a finished job's result
file) and keeps it server-side; charts downsample it for the visible range, the CSV export
writes it whole. Pure logic: no Dash, no I/O.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Result files name accuracy "train_accuracy" while events say "train_mean_token_accuracy":
# one name per curve, the events' one, so both sources land in the same column.
RESULT_COLUMN_NAMES = {"train_accuracy": "train_mean_token_accuracy"}
NON_METRIC_KEYS = frozenset({"step", "total_steps"})


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            return float(value) if isinstance(value, str) and value.strip() else math.nan
        except ValueError:
            return math.nan
    return float(value)


@dataclass
class MetricHistory:
    """Columns of equal length: ``steps`` ascending and unique, ``times`` (epoch s, NaN unknown),
    and one float column per metric (NaN where a step did not report it)."""

    steps: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.float64))
    times: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.float64))
    metrics: dict[str, np.ndarray] = field(default_factory=dict)
    total_steps: int | None = None

    def __len__(self) -> int:
        return int(self.steps.size)

    @property
    def last_step(self) -> float | None:
        return float(self.steps[-1]) if self.steps.size else None

    def merge_rows(self, rows: Iterable[Mapping[str, Any]]) -> MetricHistory:
        """A new history with ``rows`` (``{"step", "time", <metric>: value}``) merged in; a row
        for a known step overwrites the values it carries (the newer source wins)."""
        rows = [row for row in rows if math.isfinite(_number(row.get("step")))]
        if not rows:
            return self
        names = sorted({*self.metrics, *(k for row in rows for k in row if k not in ("step", "time"))})
        new_steps = np.array([_number(row["step"]) for row in rows], dtype=np.float64)
        steps = np.union1d(self.steps, new_steps)
        old_at = np.searchsorted(steps, self.steps)
        new_at = np.searchsorted(steps, new_steps)
        times = np.full(steps.size, np.nan)
        times[old_at] = self.times
        new_times = np.array([_number(row.get("time")) for row in rows])
        known = np.isfinite(new_times)
        times[new_at[known]] = new_times[known]
        metrics = {}
        for name in names:
            column = np.full(steps.size, np.nan)
            if name in self.metrics:
                column[old_at] = self.metrics[name]
            values = np.array([_number(row.get(name)) for row in rows])
            present = np.array([name in row and row[name] is not None for row in rows], dtype=bool)
            column[new_at[present]] = values[present]
            metrics[name] = column
        return MetricHistory(steps, times, metrics, self.total_steps)

    def with_total(self, total_steps: int | None) -> MetricHistory:
        if total_steps and total_steps != self.total_steps:
            return MetricHistory(self.steps, self.times, self.metrics, int(total_steps))
        return self

    def series(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(steps, times, values) of one metric, only where it was reported."""
        column = self.metrics.get(name)
        if column is None:
            empty = np.empty(0)
            return empty, empty, empty
        present = ~np.isnan(column)
        return self.steps[present], self.times[present], column[present]

    # -- serialisation: plain data (msgpack/JSON-safe), never pickles --------------------------

    def to_dict(self) -> dict[str, Any]:
        return {"steps": self.steps.astype("<f8").tobytes(), "times": self.times.astype("<f8").tobytes(),
                "metrics": {k: v.astype("<f8").tobytes() for k, v in self.metrics.items()},
                "total_steps": self.total_steps}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MetricHistory:
        def column(raw: bytes) -> np.ndarray:
            return np.frombuffer(raw, dtype="<f8").copy()

        return cls(column(data["steps"]), column(data["times"]),
                   {k: column(v) for k, v in (data.get("metrics") or {}).items()}, data.get("total_steps"))


def rows_from_events(events: Iterable[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], int | None]:
    """Metric rows from metrics events, and the largest ``total_steps`` they announce."""
    rows, total = [], None
    for event in events:
        data = event.get("data")
        if event.get("type") not in (None, "metrics") or not isinstance(data, Mapping):
            continue
        step = _number(data.get("step"))
        if not math.isfinite(step):
            continue
        row: dict[str, Any] = {"step": step, "time": _number(event.get("created_at"))}
        for key, value in data.items():
            if key not in NON_METRIC_KEYS and not isinstance(value, bool) and isinstance(value, (int, float)):
                row[key] = float(value)
        announced = _number(data.get("total_steps"))
        if math.isfinite(announced) and announced > 0:
            total = max(total or 0, int(announced))
        rows.append(row)
    return rows, total


def decode_result_file(content: bytes | str) -> str:
    """A result file's text; some deployments base64-encode the CSV, accept both."""
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    head = text.lstrip()[:64]
    if head.lower().startswith("step"):
        return text
    try:
        decoded = base64.b64decode("".join(text.split()), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return text
    return decoded if decoded.lstrip()[:64].lower().startswith("step") else text


def rows_from_result_csv(content: bytes | str) -> list[dict[str, Any]]:
    """Rows of ``step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy`` (and any
    other numeric column); empty cells mean "not reported at this step"."""
    reader = csv.DictReader(io.StringIO(decode_result_file(content)))
    rows = []
    for record in reader:
        step = _number((record.get("step") or "").strip())
        if not math.isfinite(step):
            continue
        row: dict[str, Any] = {"step": step}
        for key, raw in record.items():
            if key is None or key == "step" or raw is None or not raw.strip():
                continue
            value = _number(raw.strip())
            if not math.isnan(value) or raw.strip().lower() == "nan":
                row[RESULT_COLUMN_NAMES.get(key.strip(), key.strip())] = value
        rows.append(row)
    return rows


def history_from_events(events: Iterable[Mapping[str, Any]]) -> MetricHistory:
    rows, total = rows_from_events(events)
    return MetricHistory().merge_rows(rows).with_total(total)
