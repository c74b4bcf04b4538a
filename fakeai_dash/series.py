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

from fakeai_dash.api.models import METRIC_ALIASES

# One name per curve whichever source it came from: result files say "valid_mean_token_accuracy"
# where the wire models (api.models) already call it "valid_accuracy".
RESULT_COLUMN_NAMES = METRIC_ALIASES
# Keys in a metrics event's data that describe position, not a measured metric.
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
    # The sync loop's label of this content ("" when unknown): equal versions, equal columns.
    version: str = field(default="", compare=False)

    @property
    def nbytes(self) -> int:
        """Bytes of its arrays (what a cache of decoded histories holds)."""
        return self.steps.nbytes + self.times.nbytes + sum(column.nbytes for column in self.metrics.values())

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
                   {k: column(v) for k, v in (data.get("metrics") or {}).items()}, data.get("total_steps"),
                   str(data.get("version") or ""))


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


def history_event(history: MetricHistory | None) -> list[dict[str, Any]]:
    """The history's last step and announced total as one metrics event, for metrics.progress
    (the picture's events may be only the newest few, or none)."""
    if history is None or history.last_step is None:
        return []
    step = history.last_step
    data: dict[str, Any] = {"step": int(step) if float(step).is_integer() else step}
    if history.total_steps:
        data["total_steps"] = history.total_steps
    return [{"type": "metrics", "data": data}]


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
    """The history that ``events`` alone hold (a job the sync loop keeps no history for)."""
    rows, total = rows_from_events(events)
    return MetricHistory().merge_rows(rows).with_total(total)


# -- column maths for charts and export (pure numpy) -------------------------------------------

# The smoothing slider's top: at 0.99 a curve already averages ~100 points.
EMA_MAX_WEIGHT = 0.99
# exp(600) is far from float64's limit (exp(709)): a block keeps weight**-k finite.
_EMA_BLOCK_EXPONENT = 600.0


def ema_smooth_array(values: Any, weight: float) -> np.ndarray:
    """TensorBoard's debiased exponential moving average of a column, vectorised.

    ``weight`` clamped to [0, 0.99], 0 (or a non-number) returns the values;
    non-finite values pass through unchanged and do not advance the average; a constant
    series is returned as it is. The recurrence ``last = last * w + (1 - w) * v`` is solved
    with cumulative sums in blocks short enough that ``w ** -k`` stays finite, so 100,000
    points cost a few numpy passes instead of a Python loop; the blocks always start at the
    first point, so appending values never changes the earlier results.
    """
    raw = np.array(values, dtype=np.float64, copy=True).reshape(-1)
    try:
        weight = float(weight)
    except (TypeError, ValueError):
        weight = 0.0
    weight = min(max(weight, 0.0), EMA_MAX_WEIGHT) if math.isfinite(weight) else 0.0
    finite = np.flatnonzero(np.isfinite(raw))
    if weight == 0 or not finite.size or np.all(raw[finite] == raw[finite[0]]):
        return raw
    log_weight = math.log(weight)  # exp(k * log w): numpy's float power is ten times slower
    if -log_weight > _EMA_BLOCK_EXPONENT:
        # A weight under exp(-600) (smoothing=1e-300 in a URL) moves no value by a float's
        # precision, and dividing by it would overflow: the raw values are the answer.
        return raw
    kept = raw[finite]
    block = max(1, int(_EMA_BLOCK_EXPONENT / -log_weight))
    block_powers = np.exp(np.arange(1, min(block, kept.size) + 1) * log_weight)
    smoothed = np.empty_like(kept)
    last = 0.0
    for start in range(0, kept.size, block):
        chunk = kept[start:start + block]
        powers = block_powers[:chunk.size]  # w**(k+1) for the k-th value of the block
        # last_k = w**(k+1) * last_before + (1 - w) * sum_j w**(k-j) * v_j
        running = np.cumsum(chunk / powers) * (1 - weight)
        ema = powers * (last + running)
        smoothed[start:start + chunk.size] = ema
        last = float(ema[-1])
    with np.errstate(under="ignore"):
        smoothed /= 1 - np.exp(np.arange(1, kept.size + 1) * log_weight)
    raw[finite] = smoothed
    return raw


def history_csv(history: MetricHistory, names: Iterable[str] | None = None) -> str:
    """CSV text ``step,elapsed_s,<metrics>``, one row per step, empty cells where a step did not
    report a metric: the dashboard's one metrics export.

    ``elapsed_s`` counts from the earliest known time; ``names`` orders the metric columns.
    """
    names = list(history.metrics) if names is None else [n for n in names if n in history.metrics]
    known = history.times[np.isfinite(history.times)]
    elapsed = history.times - known.min() if known.size else np.full(len(history), np.nan)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["step", "elapsed_s", *names])
    columns = [history.steps, elapsed, *(history.metrics[name] for name in names)]
    for step, seconds, *values in zip(*(column.tolist() for column in columns)):
        writer.writerow([_tidy(step), _tidy(seconds), *("" if math.isnan(v) else v for v in values)])
    return buffer.getvalue()


def _tidy(value: float) -> Any:
    if math.isnan(value):
        return ""
    return int(value) if value.is_integer() else value
