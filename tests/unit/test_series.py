"""MetricHistory: merging by step, result files plain or base64, one column per curve."""

from __future__ import annotations

import base64
import math

import numpy as np

from fakeai_dash.api.models import Event
from fakeai_dash.series import MetricHistory, history_from_events, rows_from_result_csv

CSV = ("step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n"
       "1,2.0,0.50,,\n2,1.5,0.55,1.6,0.52\n3,1.2,0.60,,\n")


def wire_event(step: int, **metrics) -> dict:
    """An event as the client hands it on: parsed by the wire model (OpenAI's names folded)."""
    raw = {"id": f"e{step}", "created_at": 100 + step, "type": "metrics", "data": {"step": step, **metrics}}
    return Event.model_validate(raw).model_dump()


def test_series001_events_and_the_result_file_fill_the_same_columns():
    history = history_from_events([wire_event(3, train_loss=1.25, train_mean_token_accuracy=0.61)])
    merged = history.merge_rows(rows_from_result_csv(CSV))
    assert sorted(merged.metrics) == ["train_accuracy", "train_loss", "valid_accuracy", "valid_loss"]
    assert merged.steps.tolist() == [1, 2, 3]
    assert merged.series("valid_accuracy")[0].tolist() == [2]
    assert merged.metrics["train_loss"][2] == 1.2  # the file, read later, wins for the step it has
    assert merged.times[2] == 103  # the event's time stays: the file has none


def test_series002_base64_result_files_read_the_same():
    plain = rows_from_result_csv(CSV)
    assert rows_from_result_csv(base64.b64encode(CSV.encode())) == plain
    assert rows_from_result_csv(base64.encodebytes(CSV.encode()).decode()) == plain  # with line breaks


def test_series003_merging_keeps_steps_unique_and_sorted_and_round_trips():
    history = MetricHistory().merge_rows([{"step": 5, "train_loss": 1.0}, {"step": 2, "train_loss": 3.0}])
    history = history.merge_rows([{"step": 3, "train_loss": 2.0}, {"step": 5, "train_loss": 0.9}])
    assert history.steps.tolist() == [2, 3, 5] and history.metrics["train_loss"].tolist() == [3.0, 2.0, 0.9]
    again = MetricHistory.from_dict(history.to_dict())
    assert again.steps.tolist() == [2, 3, 5] and np.array_equal(again.metrics["train_loss"],
                                                                history.metrics["train_loss"])


def test_series004_unreadable_rows_and_cells_are_skipped_not_fatal():
    rows = rows_from_result_csv("step,train_loss\nx,1\n2,abc\n3,0.5\n")
    assert rows == [{"step": 2.0}, {"step": 3.0, "train_loss": 0.5}]
    assert math.isnan(MetricHistory().merge_rows(rows).metrics["train_loss"][0])
