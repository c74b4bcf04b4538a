"""Unit tests of the job comparison's pure logic: URL picks, per-job summaries, table rows and the figure."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from fakeai_dash import comparison as c
from fakeai_dash.components import training_progress
from fakeai_dash.theme import GREEN
from tests.support.histories import reference_ema

T0 = 1_790_000_000


def metrics_event(step, **data):
    return {"id": f"e{step}", "created_at": T0 + step, "level": "info", "type": "metrics",
            "message": f"Step {step}/100 completed", "data": {"step": step, **data}}


def job(job_id="ftjob-aaaaaa111111", status="succeeded", n_epochs=3, trained_tokens=10_000, **extra):
    return {"id": job_id, "model": "meta-llama/Llama-3.1-8B-Instruct", "status": status, "suffix": None,
            "method_type": "supervised", "created_at": T0, "finished_at": T0 + 95 if status == "succeeded" else None,
            "trained_tokens": trained_tokens,
            "hyperparameters": {"n_epochs": n_epochs, "batch_size": 4, "learning_rate_multiplier": 0.1}, **extra}


EVENTS = [
    {"id": "m0", "created_at": T0, "level": "info", "type": "message", "message": "Job started", "data": None},
    metrics_event(20, train_loss=2.0, valid_loss=2.3, train_accuracy=0.5),
    metrics_event(10, train_loss=2.4, valid_loss=2.6, train_accuracy=0.4),
    metrics_event(30, train_loss=1.5, valid_loss=1.9, train_accuracy=0.7, valid_accuracy=0.65),
]
CHECKPOINTS = [
    {"id": "ck-25", "step_number": 25, "metrics": {"train_loss": 1.8, "valid_loss": 2.1}},
    {"id": "ck-50", "step_number": 50, "metrics": {"train_loss": 1.2, "valid_loss": 1.4}},
    {"id": "ck-75", "step_number": 75, "metrics": {"train_loss": 1.0, "valid_loss": 1.6}},
]


def summary(job_id="ftjob-aaaaaa111111", events=EVENTS, checkpoints=CHECKPOINTS, **job_fields):
    return c.job_summary(job(job_id, **job_fields), events, checkpoints)


def row(rows, key):
    return next(r for r in rows if r["key"] == key)


# -- URL query ---------------------------------------------------------------------------------

def test_picks_round_trip_keeps_other_keys_and_readable_commas():
    search = "?smoothing=0.9&log=1"
    query = c.query_with_picks(search, ["ftjob-a", "ftjob-b"])
    assert query == "?smoothing=0.9&log=1&compare=ftjob-a,ftjob-b"
    assert c.picks_from_query(query) == ["ftjob-a", "ftjob-b"]
    assert training_progress.view_from_query(query) == {"smoothing": 0.9, "log": True, "x": "step"}
    # The chart view's own writer leaves the picks in place, and dropping the picks leaves the view.
    view = {"smoothing": 0.3, "log": False, "x": "elapsed"}
    rewritten = training_progress.query_from_view(view, query)
    assert c.picks_from_query(rewritten) == ["ftjob-a", "ftjob-b"] and "compare=ftjob-a,ftjob-b" in rewritten
    assert parse_qs(c.query_with_picks(rewritten, []).lstrip("?")) == {"smoothing": ["0.3"], "x": ["elapsed"]}
    assert c.query_with_picks("?compare=ftjob-a", []) == ""
    assert c.query_with_picks("", []) == ""


def test_picks_from_query_tolerates_junk_and_encoded_commas():
    assert c.picks_from_query(None) == []
    assert c.picks_from_query("?compare=") == []
    assert c.picks_from_query("?compare=ftjob-a%2C%2C+ftjob-b,") == ["ftjob-a", "ftjob-b"]
    assert c.picks_from_query("?x=step") == []


def test_clean_picks_drops_selected_duplicates_and_caps_at_four():
    assert c.clean_picks(["a", "sel", "a", "", None, "b"], "sel") == ["a", "b"]
    assert c.clean_picks(["a", "b", "c", "d", "e"], None) == ["a", "b", "c", "d"]
    assert c.clean_picks(None, "sel") == []


# -- what is kept per job ----------------------------------------------------------------------

def test_job_summary_keeps_only_drawn_fields_series_sorted_and_last_points():
    s = summary()
    assert s["series"] == {"train_loss": [[10, 2.4], [20, 2.0], [30, 1.5]],
                           "valid_loss": [[10, 2.6], [20, 2.3], [30, 1.9]]}
    assert s["final"] == {"train_loss": 1.5, "valid_loss": 1.9, "train_accuracy": 0.7, "valid_accuracy": 0.65}
    assert s["best_valid_loss"] == 1.4  # ck-50: the lowest valid loss, not the last checkpoint
    assert (s["n_epochs"], s["batch_size"], s["learning_rate_multiplier"]) == (3, 4, 0.1)
    assert "events" not in s and "hyperparameters" not in s and "checkpoints" not in s


def test_job_summary_without_metrics_or_checkpoints():
    s = summary(events=[], checkpoints=[], status="queued")
    assert s["series"] == {"train_loss": [], "valid_loss": []} and s["final"] == {} and s["best_valid_loss"] is None
    assert not c.is_settled(s)
    assert c.is_settled({"id": "x", "missing": True}) and c.is_settled(summary())


def test_short_name_tells_jobs_apart():
    assert c.short_name({"id": "ftjob-123456abcdef", "model": "org/Model-7B", "suffix": None}) == "Model-7B …abcdef"
    assert c.short_name({"id": "ftjob-123456abcdef", "model": "org/Model-7B", "suffix": "run-a"}) == "run-a …abcdef"


# -- the table ---------------------------------------------------------------------------------

def test_rows_flag_only_cells_that_differ_from_the_selected_job():
    this = summary("ftjob-this00000001", n_epochs=3)
    other = summary("ftjob-other0000002", n_epochs=5)
    rows = c.comparison_rows([this, other], None, T0 + 1000)
    epochs = row(rows, "n_epochs")["cells"]
    assert [cell["text"] for cell in epochs] == ["3", "5"]
    assert [cell["differs"] for cell in epochs] == [False, True]
    assert row(rows, "batch_size")["cells"][1]["differs"] is False
    assert row(rows, "status")["cells"][1] == {"text": "succeeded", "differs": False, "better": None}
    assert [r["label"] for r in rows][:3] == ["Status", "Base model", "Method"]


def test_rows_judge_metrics_by_direction_against_the_selected_job():
    this = summary("ftjob-this00000001")
    better = summary("ftjob-better000002", events=[metrics_event(30, train_loss=1.0, valid_loss=2.5,
                                                                 train_accuracy=0.9, valid_accuracy=0.65)],
                     checkpoints=[])
    rows = c.comparison_rows([this, better], None, T0)
    assert row(rows, "final_train_loss")["cells"][1]["better"] is True       # lower loss is better
    assert row(rows, "final_valid_loss")["cells"][1]["better"] is False      # higher valid loss is worse
    assert row(rows, "final_train_accuracy")["cells"][1]["better"] is True   # higher accuracy is better
    assert row(rows, "final_valid_accuracy")["cells"][1]["better"] is None   # equal: no verdict
    assert row(rows, "best_valid_loss")["cells"][1]["better"] is None        # no checkpoints: nothing to judge
    assert row(rows, "best_valid_loss")["cells"][1]["text"] == "—"
    assert all(r["cells"][0]["better"] is None and not r["cells"][0]["differs"] for r in rows)
    assert c.judge(2, 1, "lower") is False and c.judge(2, 1, "higher") is True and c.judge(2, None, "lower") is None
    assert c.row_direction("n_epochs") is None and c.row_direction("best_valid_loss") == "lower"


def test_rows_cost_duration_and_a_missing_job():
    this = summary("ftjob-this00000001", trained_tokens=10_000)
    running = summary("ftjob-run000000002", status="running", trained_tokens=None)
    missing = {"id": "ftjob-gone00000003", "missing": True}
    rows = c.comparison_rows([this, running, missing], {"default": 0.01}, T0 + 200)
    assert [cell["text"] for cell in row(rows, "cost")["cells"]] == ["$0.1000", "—", "—"]
    assert [cell["text"] for cell in row(rows, "duration")["cells"]] == ["1 min 35 s", "3 min 20 s so far", "—"]
    assert row(rows, "status")["cells"][2] == {"text": "not found", "differs": False, "better": None}
    assert all(not r["cells"][2]["differs"] for r in rows)


def test_rows_leave_out_metrics_no_job_reports():
    no_valid = [metrics_event(10, train_loss=2.0)]
    rows = c.comparison_rows([summary("ftjob-a00000000001", events=no_valid, checkpoints=[]),
                              summary("ftjob-b00000000002", events=no_valid, checkpoints=[])], None, T0)
    keys = [r["key"] for r in rows]
    assert "final_train_loss" in keys and "n_epochs" in keys
    assert not {"final_valid_loss", "final_valid_accuracy", "best_valid_loss"} & set(keys)


# -- the figure --------------------------------------------------------------------------------

def test_comparison_figure_one_colour_per_job_train_solid_valid_dashed():
    runs = [{"id": "this", "name": "a (this job)", "series": summary()["series"]},
            {"id": "other", "name": "b", "series": {"train_loss": [[10, 3.0], [20, 2.0]], "valid_loss": []}}]
    figure = c.comparison_figure(runs, smoothing=0.6)
    assert [(t.legendgroup, t.line.dash) for t in figure.data] == [("this", "solid"), ("this", "dash"), ("other", "solid")]
    assert figure.data[0].line.color == GREEN and figure.data[1].line.color == GREEN
    assert figure.data[2].line.color == c.COMPARE_COLORS[0] != GREEN
    assert [t.name for t in figure.data] == ["a (this job) · train", "a (this job) · valid", "b · train"]
    assert list(figure.data[0].y) == pytest.approx(reference_ema([2.4, 2.0, 1.5], 0.6), rel=1e-12)   # the TrainingProgress smoothing
    assert list(c.comparison_figure(runs, smoothing=0).data[0].y) == [2.4, 2.0, 1.5]
    assert figure.layout.template.layout.paper_bgcolor is not None and figure.layout.xaxis.title.text == "Step"


def test_comparison_figure_without_losses_is_the_empty_figure():
    figure = c.comparison_figure([{"id": "x", "name": "x", "series": {"train_loss": [], "valid_loss": []}}])
    assert not figure.data and "No loss metrics" in figure.layout.annotations[0].text


def test_comparison_curves_come_from_the_whole_history_downsampled_with_extremes():
    import numpy as np

    from fakeai_dash.comparison import COMPARE_POINTS, job_summary
    from fakeai_dash.series import MetricHistory

    steps = np.arange(1, 20_001, dtype=np.float64)
    loss = 2.0 - steps / 20_000
    loss[9_999] = 25.0  # a one-step spike at step 10,000
    history = MetricHistory(steps, steps, {"train_loss": loss, "valid_loss": np.full(steps.size, np.nan)})
    summary = job_summary({"id": "ftjob-x", "status": "succeeded"}, [], [], history)
    curve = summary["series"]["train_loss"]
    assert len(curve) <= COMPARE_POINTS and curve[0][0] == 1 and curve[-1][0] == 20_000
    assert [10_000, 25.0] in curve  # the spike survives downsampling
    assert summary["final"]["train_loss"] == loss[-1]
