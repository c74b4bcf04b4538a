"""Unit tests for the derived numbers (metrics, stages, cost, checkpoint_metrics) with FakeAI- and OpenAI-shaped events and checkpoints."""

from __future__ import annotations

import csv
import io
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fakeai_dash import checkpoint_metrics as ck
from fakeai_dash import cost, stages
from fakeai_dash import metrics as m
from fakeai_dash import wire_values as wire
from fakeai_dash.series import ema_smooth_array, history_csv, history_from_events

T0 = 1_790_000_000  # job created_at


def event(at, message, *, type_="message", data=None, level="info", id_=None):
    return {
        "id": id_ or f"ev-{at}-{message[:12]}",
        "created_at": at,
        "level": level,
        "message": message,
        "type": type_,
        "data": data,
    }


def fakeai_events(last_step=100, *, finished=True):
    """What FakeAI logs: creation + step-0 metrics, validated at +1 s, started at +2 s,
    metrics every 10 steps (plus 25 and 75) at 0.3 s per step, completion message."""
    events = [
        event(T0, "Fine-tuning job created"),
        event(T0, "Initial training metrics", type_="metrics", data={"step": 0, "train_loss": 2.5, "learning_rate": 0.0001}),
        event(T0 + 1, "Files validated successfully"),
        event(T0 + 2, "Training started"),
    ]
    for step in sorted(set(range(10, last_step + 1, 10)) | {s for s in (25, 75) if s <= last_step}):
        data = {
            "step": step,
            "train_loss": round(2.5 * (1 - step / 100) + 0.1, 4),
            "valid_loss": round(2.5 * (1 - step / 100) + 0.2, 4),
            "train_accuracy": round(0.3 + 0.65 * step / 100, 4),
            "learning_rate": 1e-05,
        }
        events.append(event(T0 + 2 + int(step * 0.3), f"Step {step}/100 completed", type_="metrics", data=data))
    if finished:
        events.append(event(T0 + 32, "Training completed successfully. Fine-tuned model: ft:gpt-4o-mini:org-fakeai::123"))
    return events


def fakeai_job(status="running", **overrides):
    job = {
        "id": "ftjob-fake",
        "model": "gpt-4o-mini-2024-07-18",
        "status": status,
        "created_at": T0,
        "finished_at": T0 + 32 if status in ("succeeded", "failed", "cancelled") else None,
        "fine_tuned_model": None,
        "trained_tokens": None,
        "training_file": "file-train",
        "validation_file": None,
        "hyperparameters": {"n_epochs": 3, "batch_size": 4, "learning_rate_multiplier": 0.1},
        "method_type": "supervised",
        "suffix": None,
        "seed": None,
        "estimated_finish": None,
        "error": None,
        "metadata": None,
    }
    job.update(overrides)
    return job


def openai_events():
    """OpenAI's wording: metrics events carry total_steps and 'Step n/N: ...' messages."""
    events = [
        event(T0, "Created fine-tuning job: ftjob-abc"),
        event(T0 + 5, "Validating training file: file-abc"),
        event(T0 + 60, "Files validated, moving job to queued state"),
        event(T0 + 600, "Fine-tuning job started"),
    ]
    for step in range(1, 21):
        data = {
            "step": step,
            "train_loss": 2.0 - step * 0.05,
            "train_accuracy": 0.5 + step * 0.01,
            "total_steps": 20,
        }
        if step % 10 == 0:
            data.update({"valid_loss": 2.1 - step * 0.05, "valid_accuracy": 0.45 + step * 0.01})
        if step == 20:
            data.update({"full_valid_loss": 1.2, "full_valid_accuracy": 0.7})
        events.append(
            event(T0 + 600 + step * 6, f"Step {step}/20: training loss={data['train_loss']:.2f}", type_="metrics", data=data)
        )
    events += [
        event(T0 + 730, "Checkpoint created at step 10"),
        event(T0 + 731, "Usage policy evaluation slow", level="warn"),
        event(T0 + 735, "New fine-tuned model created: ft:gpt-4o-mini:org::abc"),
        event(T0 + 740, "The job has successfully completed"),
    ]
    return events


# ------------------------------------------------- the metric history from events


def history(events):
    return history_from_events(events)


def curve(found, name):
    steps, times, values = found.series(name)
    return list(zip(steps.tolist(), values.tolist(), times.tolist()))


def test_history_from_fakeai_events():
    found = history(fakeai_events())
    assert set(found.metrics) == {"train_loss", "valid_loss", "train_accuracy", "learning_rate"}
    steps = [p[0] for p in curve(found, "train_loss")]
    assert steps == [0, 10, 20, 25, 30, 40, 50, 60, 70, 75, 80, 90, 100]
    assert curve(found, "train_loss")[0] == (0, 2.5, T0)
    # valid_loss has no step-0 value: FakeAI's initial event does not report one.
    assert curve(found, "valid_loss")[0][0] == 10


def test_history_openai_drops_total_steps_keeps_unknown_keys():
    events = openai_events()
    events[5]["data"]["tokens_per_second"] = 1234.5
    found = history(events)
    assert "total_steps" not in found.metrics and "step" not in found.metrics
    assert found.total_steps == 20
    assert curve(found, "tokens_per_second") == [(2, 1234.5, T0 + 612)]
    assert [p[0] for p in curve(found, "valid_loss")] == [10, 20]
    assert curve(found, "full_valid_loss") == [(20, 1.2, T0 + 720)]


def test_history_sorts_steps_and_latest_duplicate_wins():
    events = [
        event(10, "b", type_="metrics", data={"step": 20, "train_loss": 1.0}),
        event(11, "a", type_="metrics", data={"step": 10, "train_loss": 2.0}),
        event(12, "dup", type_="metrics", data={"step": 20.0, "train_loss": 0.5}),
    ]
    assert curve(history(events), "train_loss") == [(10, 2.0, 11), (20, 0.5, 12)]


def test_history_skips_events_without_numeric_step_and_non_numeric_values():
    events = [
        event(1, "no step", type_="metrics", data={"train_loss": 9.0}),
        event(3, "bool step", type_="metrics", data={"step": True, "train_loss": 9.0}),
        event(4, "no data", type_="metrics", data=None),
        event(5, "message with data", type_="message", data={"step": 5, "train_loss": 9.0}),
        event(6, "ok", type_="metrics", data={"step": 7, "train_loss": 1.5, "note": "warmup", "flag": True}),
    ]
    found = history(events)
    assert list(found.metrics) == ["train_loss"]
    assert curve(found, "train_loss") == [(7, 1.5, 6)]


def test_history_of_nothing_is_empty():
    assert len(history([])) == 0 and history([]).metrics == {}


# --------------------------------------------------------------------- names / CSV


def test_ordered_metric_names_losses_then_accuracies_then_others():
    names = ["learning_rate", "valid_accuracy", "full_valid_loss", "train_accuracy", "valid_loss", "train_loss", "alpha"]
    assert m.ordered_metric_names(names) == [
        "train_loss",
        "valid_loss",
        "full_valid_loss",
        "train_accuracy",
        "valid_accuracy",
        "alpha",
        "learning_rate",
    ]


def export(events):
    found = history(events)
    return history_csv(found, m.ordered_metric_names(found.metrics))


def test_metrics_csv_round_trips_through_csv_reader():
    text = export(fakeai_events(last_step=30, finished=False))
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    assert header == ["step", "elapsed_s", "train_loss", "valid_loss", "train_accuracy", "learning_rate"]
    rows = list(reader)
    assert [r[0] for r in rows] == ["0", "10", "20", "25", "30"]
    # Step 0 is FakeAI's creation-time event: no valid loss, so the cell is empty.
    assert rows[0] == ["0", "0", "2.5", "", "", "0.0001"]
    # Step 10 arrives at T0 + 2 + 3 s.
    assert rows[1][:4] == ["10", "5", "2.35", "2.45"]
    assert float(rows[-1][2]) == pytest.approx(1.85)


def test_metrics_csv_of_openai_events_has_every_step_and_empty_cells():
    rows = list(csv.DictReader(io.StringIO(export(openai_events()))))
    assert len(rows) == 20
    assert rows[0]["step"] == "1" and rows[0]["elapsed_s"] == "0"
    assert rows[0]["valid_loss"] == ""
    assert float(rows[9]["valid_loss"]) == pytest.approx(1.6)
    assert rows[19]["elapsed_s"] == str(19 * 6)


def test_metrics_csv_of_no_events_is_the_header():
    assert export([]) == "step,elapsed_s\n"


# ------------------------------------------------------------------------ EMA


def ema(values, weight):
    return ema_smooth_array(values, weight).tolist()


def test_ema_hand_computed():
    # w=0.5: last=0.5 -> 0.5/0.5=1; last=1.25 -> 1.25/0.75=5/3; last=2.125 -> 2.125/0.875=17/7
    assert ema([1, 2, 3], 0.5) == pytest.approx([1.0, 5 / 3, 17 / 7])


def test_ema_weight_zero_returns_raw_values():
    assert ema([3.0, 1.0, 2.0], 0.0) == [3.0, 1.0, 2.0]


def test_ema_constant_series_stays_constant():
    assert ema([2.5] * 5, 0.9) == [2.5] * 5


def test_ema_skips_non_finite_values():
    # The NaN passes through and does not count: 3 is the 2nd accumulated value.
    # last = 0.5*0.5 + 0.5*3 = 1.75; debias = 1 - 0.25 = 0.75 -> 7/3
    out = ema([1.0, float("nan"), 3.0, None], 0.5)
    assert out[0] == pytest.approx(1.0)
    assert math.isnan(out[1]) and math.isnan(out[3])
    assert out[2] == pytest.approx(7 / 3)


def test_ema_weight_is_clamped_to_099():
    values = [1.0, 5.0, 2.0, 8.0]
    assert ema(values, 5.0) == ema(values, 0.99)
    assert ema(values, -1.0) == values


@given(
    st.lists(st.floats(min_value=-1e6, max_value=1e6), min_size=1, max_size=60),
    st.floats(min_value=0.0, max_value=0.99),
)
def test_ema_stays_within_input_range(values, weight):
    out = ema(values, weight)
    assert len(out) == len(values)
    low, high = min(values), max(values)
    tolerance = 1e-9 * max(1.0, abs(low), abs(high))
    assert all(low - tolerance <= v <= high + tolerance for v in out)


@given(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32), st.none()), max_size=30))
def test_ema_keeps_non_finite_positions(values):
    out = ema(values, 0.6)
    for raw, smoothed in zip(values, out):
        if raw is None or not math.isfinite(raw):
            assert not math.isfinite(smoothed)
        else:
            assert math.isfinite(smoothed)


# ------------------------------------------------------------------- progress


def test_progress_from_fakeai_step_messages():
    assert m.progress(fakeai_job(), fakeai_events(last_step=40, finished=False)) == {
        "step": 40,
        "total_steps": 100,
        "fraction": 0.4,
    }


def test_progress_from_openai_total_steps_data():
    events = [e for e in openai_events() if (e["data"] or {}).get("step", 0) <= 5]
    for e in events:
        e["message"] = "metrics"  # prove total_steps comes from data, not the message
    assert m.progress(fakeai_job(), events) == {"step": 5, "total_steps": 20, "fraction": 0.25}


def test_progress_unknown_total_and_succeeded():
    events = [event(1, "m", type_="metrics", data={"step": 7, "train_loss": 1.0})]
    assert m.progress(fakeai_job(), events) == {"step": 7, "total_steps": None, "fraction": None}
    assert m.progress(fakeai_job("succeeded"), events)["fraction"] == 1.0
    done = m.progress(fakeai_job("succeeded"), fakeai_events(last_step=90, finished=False))
    assert done == {"step": 100, "total_steps": 100, "fraction": 1.0}
    assert m.progress(fakeai_job("queued"), []) == {"step": None, "total_steps": None, "fraction": None}


# ------------------------------------------------------------- stage timeline


def states(timeline):
    return [(s["name"], s["state"]) for s in timeline]


def test_timeline_fakeai_running():
    timeline = stages.stage_timeline(fakeai_job(), fakeai_events(last_step=50, finished=False), now=T0 + 20)
    assert states(timeline) == [
        ("validating_files", "done"),
        ("queued", "done"),
        ("running", "current"),
        ("succeeded", "pending"),
    ]
    validating, queued, running, succeeded = timeline
    assert (validating["start"], validating["end"], validating["duration"]) == (T0, T0 + 1, 1)
    assert (queued["start"], queued["end"], queued["duration"]) == (T0 + 1, T0 + 2, 1)
    assert (running["start"], running["end"], running["duration"]) == (T0 + 2, None, 18)
    assert succeeded["start"] is None and succeeded["label"] == "Succeeded"


def test_timeline_fakeai_succeeded():
    timeline = stages.stage_timeline(fakeai_job("succeeded"), fakeai_events(), now=T0 + 500)
    assert [s["state"] for s in timeline] == ["done"] * 4
    assert timeline[2]["duration"] == 30  # running from T0+2 to finished_at T0+32
    assert timeline[3]["start"] == timeline[3]["end"] == T0 + 32


def test_timeline_openai_messages():
    timeline = stages.stage_timeline(fakeai_job("succeeded", finished_at=None), openai_events(), now=T0 + 9999)
    starts = {s["name"]: s["start"] for s in timeline}
    assert starts == {"validating_files": T0, "queued": T0 + 60, "running": T0 + 600, "succeeded": T0 + 740}
    assert [s["duration"] for s in timeline[:3]] == [60, 540, 140]


def test_timeline_without_job_created_at_uses_validating_message():
    job = fakeai_job("queued", created_at=None)
    events = [event(T0 + 5, "Validating training file: file-abc")]
    assert stages.stage_timeline(job, events, now=T0 + 10)[0]["start"] == T0 + 5


def test_timeline_failed_during_validation_skips_later_stages():
    job = fakeai_job("failed", finished_at=T0 + 3, error={"code": "invalid_file", "message": "bad", "param": None})
    events = [event(T0, "Fine-tuning job created"), event(T0 + 3, "Training failed: bad file", level="error")]
    timeline = stages.stage_timeline(job, events, now=T0 + 100)
    assert states(timeline) == [
        ("validating_files", "done"),
        ("queued", "skipped"),
        ("running", "skipped"),
        ("failed", "done"),
    ]
    assert timeline[0]["end"] == T0 + 3 and timeline[0]["duration"] == 3
    assert timeline[3]["label"] == "Failed"


def test_timeline_cancelled_uses_message_when_finished_at_missing():
    events = fakeai_events(last_step=20, finished=False) + [event(T0 + 9, "Fine-tuning job cancelled by user")]
    timeline = stages.stage_timeline(fakeai_job("cancelled", finished_at=None), events, now=T0 + 100)
    assert states(timeline)[-2:] == [("running", "done"), ("cancelled", "done")]
    assert timeline[2]["end"] == T0 + 9 and timeline[2]["duration"] == 7


def test_timeline_paused_job():
    events = fakeai_events(last_step=30, finished=False) + [event(T0 + 15, "Job paused by user")]
    timeline = stages.stage_timeline(fakeai_job("paused"), events, now=T0 + 25)
    assert states(timeline) == [
        ("validating_files", "done"),
        ("queued", "done"),
        ("running", "done"),
        ("paused", "current"),
        ("succeeded", "pending"),
    ]
    assert timeline[2]["end"] == T0 + 15
    assert timeline[3]["duration"] == 10


def test_timeline_resumed_pause_is_done_after_success():
    events = fakeai_events() + [event(T0 + 15, "Job paused"), event(T0 + 18, "Job resumed")]
    events.sort(key=lambda e: e["created_at"])
    timeline = stages.stage_timeline(fakeai_job("succeeded"), events, now=T0 + 100)
    paused = next(s for s in timeline if s["name"] == "paused")
    assert (paused["state"], paused["start"], paused["end"], paused["duration"]) == ("done", T0 + 15, T0 + 18, 3)


@pytest.mark.parametrize(
    ("status", "events", "expected_names"),
    [
        ("pending", [event(T0, "Fine-tuning job created")], ["validating_files", "pending", "queued", "running", "succeeded"]),
        ("Mystery_State", fakeai_events(20, finished=False), ["validating_files", "queued", "running", "mystery_state", "succeeded"]),
    ],
)
def test_timeline_unknown_status_is_current_with_raw_name(status, events, expected_names):
    timeline = stages.stage_timeline(fakeai_job(status), events, now=T0 + 50)
    assert [s["name"] for s in timeline] == expected_names
    current = [s for s in timeline if s["state"] == "current"]
    assert len(current) == 1 and current[0]["label"] == status
    assert timeline[-1]["state"] == "pending"


def test_timeline_missing_status_does_not_crash():
    timeline = stages.stage_timeline(fakeai_job(None), [], now=T0 + 5)
    assert [s["label"] for s in timeline if s["state"] == "current"] == ["unknown"]


# ------------------------------------------------------------------------- ETA


def steady_events(times, total=100):
    return [
        event(t, f"Step {s}/{total} completed", type_="metrics", data={"step": s, "train_loss": 1.0})
        for s, t in times
    ]


def test_eta_from_estimated_finish_is_a_25_percent_range():
    job = fakeai_job(estimated_finish=T0 + 135)
    assert m.eta_range(job, [], now=T0 + 35) == pytest.approx((75.0, 125.0))


def test_eta_from_steady_step_rate():
    # 1 s per step, 70 steps left -> 70 s, widened to the minimum ±25%.
    events = steady_events([(10, T0 + 10), (20, T0 + 20), (30, T0 + 30)])
    assert m.eta_range(fakeai_job(), events, now=T0 + 30) == pytest.approx((52.5, 87.5))
    # 10 s after the last metrics event, 10 of those 70 s have already passed.
    assert m.eta_range(fakeai_job(), events, now=T0 + 40) == pytest.approx((45.0, 75.0))


def test_eta_widens_with_uneven_step_times():
    # Per-step times 1 s and 3 s: mean 2 s/step overall, pstdev 1 -> spread 0.5.
    events = steady_events([(10, T0), (20, T0 + 10), (30, T0 + 40)])
    assert m.eta_range(fakeai_job(), events, now=T0 + 40) == pytest.approx((70.0, 210.0))


def test_eta_ignores_fakeai_step_zero_logged_at_creation():
    # Step 0 is logged before validation and queueing; counting it would slow the rate.
    events = fakeai_events(last_step=40, finished=False)
    without_step_zero = [e for e in events if (e["data"] or {}).get("step") != 0]
    assert m.eta_range(fakeai_job(), events, now=T0 + 14) == m.eta_range(fakeai_job(), without_step_zero, now=T0 + 14)
    # Steps 10..40 at T0+5..T0+14 -> 0.3 s/step; 60 steps left -> 18 s centre.
    low, high = m.eta_range(fakeai_job(), events, now=T0 + 14)
    assert low < 18 < high and low == pytest.approx(36 - high)


def test_eta_none_when_finished_paused_or_unknowable():
    events = steady_events([(10, T0 + 10), (20, T0 + 20)])
    assert m.eta_range(fakeai_job("succeeded", estimated_finish=T0 + 999), events, now=T0 + 20) is None
    assert m.eta_range(fakeai_job("paused"), events, now=T0 + 20) is None
    assert m.eta_range(fakeai_job("queued"), [], now=T0) is None
    single = steady_events([(10, T0 + 10)])
    assert m.eta_range(fakeai_job(), single, now=T0 + 20) is None
    no_total = [event(T0 + t, "m", type_="metrics", data={"step": t, "train_loss": 1}) for t in (10, 20)]
    assert m.eta_range(fakeai_job(), no_total, now=T0 + 20) is None


def test_eta_overdue_estimate_without_rate_is_due_now():
    assert m.eta_range(fakeai_job(estimated_finish=T0 + 10), [], now=T0 + 20) == (0.0, 0.0)


# ------------------------------------------------------------------------- cost

PRICES = {"gpt-4o-mini": 0.003, "default": 0.008}


def test_cost_of_succeeded_job_uses_actual_tokens():
    job = fakeai_job("succeeded", trained_tokens=100_000)
    summary = cost.cost_summary(job, fakeai_events(), PRICES, now=T0 + 100)
    assert summary["tokens"] == 100_000
    assert summary["estimated"] is False
    assert summary["cost"] == pytest.approx(0.3)
    assert summary["price_per_1k"] == 0.003
    assert summary["projected_tokens"] is None and summary["projected_cost"] is None
    assert summary["fraction"] == 1.0


def test_cost_projection_for_running_job_with_actual_tokens():
    job = fakeai_job(trained_tokens=40_000, model="ft:unknown-model:org::x")
    summary = cost.cost_summary(job, fakeai_events(last_step=40, finished=False), PRICES, now=T0 + 14)
    assert summary["estimated"] is False
    assert summary["cost"] == pytest.approx(0.32)  # default $0.008 per 1K
    assert summary["projected_tokens"] == 100_000  # 40K / 0.4
    assert summary["projected_cost"] == pytest.approx(0.8)


def test_cost_estimated_from_progress_and_expected_total():
    summary = cost.cost_summary(
        fakeai_job(), fakeai_events(last_step=25, finished=False), PRICES, now=T0 + 10, expected_total_tokens=200_000
    )
    assert summary["estimated"] is True
    assert summary["tokens"] == 50_000
    assert summary["cost"] == pytest.approx(0.15)
    assert summary["projected_tokens"] == 200_000
    assert summary["projected_cost"] == pytest.approx(0.6)


def test_cost_estimated_from_token_counter_in_metrics_data():
    events = steady_events([(10, T0 + 10), (20, T0 + 20)])
    events[-1]["data"]["trained_tokens"] = 30_000
    summary = cost.cost_summary(fakeai_job(), events, PRICES, now=T0 + 20)
    assert summary["estimated"] is True
    assert summary["tokens"] == 30_000
    assert summary["projected_tokens"] == 150_000  # 30K at 20%


def test_cost_time_based_fraction_when_steps_unknown():
    job = fakeai_job(estimated_finish=T0 + 102)
    events = [event(T0 + 2, "Training started")]
    summary = cost.cost_summary(job, events, PRICES, now=T0 + 52, expected_total_tokens=1_000)
    assert summary["fraction"] == pytest.approx(0.5)
    assert summary["tokens"] == 500


def test_cost_unknown_when_nothing_to_go_on():
    summary = cost.cost_summary(fakeai_job(), [], PRICES, now=T0)
    assert summary["tokens"] is None and summary["cost"] is None and summary["projected_tokens"] is None
    cancelled = cost.cost_summary(fakeai_job("cancelled"), [], None, now=T0, expected_total_tokens=1_000)
    assert cancelled["tokens"] is None and cancelled["projected_tokens"] is None


def test_estimate_total_tokens_matches_fakeai_heuristic():
    assert cost.estimate_total_tokens(4_000, 3) == 3_000
    assert cost.estimate_total_tokens(4_000, "auto") == 3_000
    assert cost.estimate_total_tokens(None, 3) is None
    assert cost.estimate_total_tokens(4_000, "many") is None


# ------------------------------------------------------------------ checkpoints


def checkpoint(step, **metrics):
    return {
        "id": f"ftckpt-{step}",
        "created_at": T0 + step,
        "fine_tuned_model_checkpoint": f"ft:gpt-4o-mini:org-fakeai::step-{step}",
        "step_number": step,
        "metrics": metrics,
        "fine_tuning_job_id": "ftjob-fake",
    }


def test_best_checkpoint_prefers_lowest_valid_loss():
    checkpoints = [
        checkpoint(100, train_loss=0.1, valid_loss=0.9),
        checkpoint(75, train_loss=0.4, valid_loss=0.7),
        checkpoint(50, train_loss=1.0, valid_loss=1.1),
    ]
    assert ck.best_checkpoint(checkpoints) == "ftckpt-75"


def test_best_checkpoint_fallbacks():
    full = [checkpoint(10, train_loss=0.1, full_valid_loss=0.8), checkpoint(20, train_loss=0.5, full_valid_loss=0.6)]
    assert ck.best_checkpoint(full) == "ftckpt-20"
    train_only = [checkpoint(10, train_loss=0.5), checkpoint(20, train_loss=0.3), checkpoint(30, train_loss=0.3)]
    assert ck.best_checkpoint(train_only) == "ftckpt-20"  # ties go to the earlier step
    # One checkpoint with valid_loss decides, even if another has a lower train loss.
    mixed = [checkpoint(10, train_loss=0.01), checkpoint(20, train_loss=0.9, valid_loss=1.0)]
    assert ck.best_checkpoint(mixed) == "ftckpt-20"
    assert ck.best_checkpoint([]) is None
    assert ck.best_checkpoint([checkpoint(5)]) is None


def test_compare_first_and_last_checkpoint_by_step():
    checkpoints = [  # FakeAI lists newest first
        checkpoint(100, train_loss=0.5, valid_loss=2.2, train_accuracy=0.9, learning_rate=1e-5),
        checkpoint(50, train_loss=1.0, valid_loss=1.5),
        checkpoint(25, train_loss=2.0, valid_loss=2.0, train_accuracy=0.4, learning_rate=2e-5, only_first=1.0),
    ]
    comparison = ck.compare_checkpoints(checkpoints)
    assert (comparison["first_id"], comparison["first_step"]) == ("ftckpt-25", 25)
    assert (comparison["last_id"], comparison["last_step"]) == ("ftckpt-100", 100)
    rows = {row["metric"]: row for row in comparison["metrics"]}
    assert [row["metric"] for row in comparison["metrics"]] == ["train_loss", "valid_loss", "train_accuracy", "learning_rate"]
    assert rows["train_loss"]["pct_change"] == pytest.approx(-0.75)
    assert rows["train_loss"]["improved"] is True
    assert rows["valid_loss"]["pct_change"] == pytest.approx(0.1)
    assert rows["valid_loss"]["improved"] is False
    assert rows["train_accuracy"]["change"] == pytest.approx(0.5)
    assert rows["train_accuracy"]["pct_change"] == pytest.approx(1.25)
    assert rows["train_accuracy"]["improved"] is True
    assert rows["learning_rate"]["pct_change"] == pytest.approx(-0.5)
    assert rows["learning_rate"]["improved"] is None


def test_compare_needs_two_checkpoints_and_handles_zero():
    assert ck.compare_checkpoints([]) is None
    assert ck.compare_checkpoints([checkpoint(10, train_loss=1.0)]) is None
    comparison = ck.compare_checkpoints([checkpoint(10, train_accuracy=0.0), checkpoint(20, train_accuracy=0.5)])
    row = comparison["metrics"][0]
    assert row["pct_change"] is None and row["improved"] is True


# ----------------------------------------------------------------------- events


def test_normalize_level_folds_openai_warn_into_warning():
    assert [wire.normalize_level(v) for v in ("warn", " WARNING ", "Error", None, "debug")] == [
        "warning", "warning", "error", "", "debug"]


def test_checkpoint_step_in_metrics_is_not_a_metric():
    # OpenAI's checkpoint metrics carry "step": it is the position, not something to compare.
    checkpoints = [{"id": "a", "step_number": 10, "metrics": {"step": 10, "train_loss": 1.0}},
                   {"id": "b", "step_number": 40, "metrics": {"step": 40, "train_loss": 0.5}}]
    compared = ck.compare_checkpoints(checkpoints)
    assert [row["metric"] for row in compared["metrics"]] == ["train_loss"]
    assert m.ordered_metric_names(["step", "valid_loss", "total_steps", "train_loss"]) == ["train_loss", "valid_loss"]
