"""Unit tests for fakeai_dash.alerts on crafted series: positives, near misses, noisy healthy
runs (no false alarm), short series and NaN in the middle."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fakeai_dash import alerts as a
from fakeai_dash.series import MetricHistory

T0 = 1_790_000_000.0
RULES = a.AlertRules()


def history(train=None, valid=None, *, valid_every=1, seconds_per_step=2.0, start_step=1):
    """A MetricHistory with one row per train value (steps from ``start_step``), valid every ``valid_every``."""
    n = max(len(train or []), len(valid or []) * valid_every)
    rows = []
    for i in range(n):
        step = start_step + i
        row = {"step": step, "time": T0 + step * seconds_per_step}
        if train is not None and i < len(train):
            row["train_loss"] = train[i]
        if valid is not None and i % valid_every == valid_every - 1 and i // valid_every < len(valid):
            row["valid_loss"] = valid[i // valid_every]
        rows.append(row)
    return MetricHistory().merge_rows(rows)


def decaying(n, start=2.5, end=0.3, noise=0.0, seed=1):
    rng = np.random.default_rng(seed)
    base = end + (start - end) * np.exp(-np.arange(n) / (n / 4))
    return list(base * (1 + noise * rng.standard_normal(n)))


# -- not a number ------------------------------------------------------------------------------

def test_alerts001_nan_in_the_middle_found_at_its_step():
    rows = [{"step": s, "time": T0 + s, "train_loss": 1.0 / s} for s in range(1, 40)]
    rows[20]["train_loss"] = math.nan  # step 21
    rows[30]["train_loss"] = "NaN"
    found = a.first_non_finite(rows)
    assert found == {"metric": "train_loss", "step": 21.0, "at": T0 + 21}
    alert = a.nan_alert(found)
    assert alert["kind"] == "nan" and alert["step"] == 21 and "step 21" in alert["message"]


def test_alerts002_valid_loss_infinite_is_an_alert_and_a_missing_value_is_not():
    rows = [{"step": 1, "train_loss": 1.0}, {"step": 2, "train_loss": 0.9, "valid_loss": None},
            {"step": 3, "train_loss": 0.8, "valid_loss": ""}, {"step": 4, "train_loss": 0.7, "valid_loss": 0.9}]
    assert a.first_non_finite(rows) is None  # None and "" are "not reported", not NaN
    rows.append({"step": 5, "train_loss": 0.6, "valid_loss": math.inf})
    assert a.first_non_finite(rows)["metric"] == "valid_loss"
    # An infinity survives in the history (a NaN there means "not reported"): found from it too.
    hist = MetricHistory().merge_rows(rows)
    assert a.nan_alert(None, hist)["step"] == 5
    assert "validation loss" in a.nan_alert(None, hist)["message"]


def test_alerts003_earliest_of_two_batches():
    late, early = {"metric": "train_loss", "step": 50.0, "at": None}, {"metric": "valid_loss", "step": 7.0, "at": None}
    assert a.earliest(late, early) is early and a.earliest(None, late) is late and a.earliest(None, None) is None


def test_alerts004_healthy_history_has_no_nan_alert():
    assert a.nan_alert(None, history(decaying(100), decaying(20, 2.6, 0.4), valid_every=5)) is None


# -- divergence --------------------------------------------------------------------------------

def test_alerts010_divergence_found_where_the_rise_started():
    train = decaying(60, noise=0.02) + [0.5 * 1.2 ** k for k in range(1, 31)]  # explodes after step 60
    alert = a.divergence_alert(history(train), RULES)
    assert alert is not None and alert["kind"] == "divergence"
    assert 60 <= alert["step"] <= 80  # the smoothed curve passes the threshold a few steps after the turn
    assert "diverging" in alert["message"]


def test_alerts011_a_short_spike_that_recovers_is_not_divergence():
    train = decaying(80, noise=0.02)
    train[40:45] = [3.0] * 5  # five bad steps, then back on the curve
    assert a.divergence_alert(history(train), RULES) is None


def test_alerts012_near_miss_rise_below_threshold():
    # 40% above the running minimum for 30 steps: under the 50% threshold.
    train = decaying(60) + [0.42 * 1.4] * 30
    assert a.divergence_alert(history(train), RULES) is None
    assert a.divergence_alert(history(train), a.AlertRules(divergence_rise=0.3)) is not None


def test_alerts013_a_rise_shorter_than_the_window_is_not_yet_divergence():
    train = decaying(60) + [5.0] * (RULES.divergence_window + 2)
    smoothed_run = a.divergence_alert(history(train), RULES)
    assert smoothed_run is not None  # long enough
    assert a.divergence_alert(history(decaying(60) + [5.0] * 4), RULES) is None


@pytest.mark.parametrize("seed", range(40))
def test_alerts014_noisy_healthy_decay_never_alarms(seed):
    hist = history(decaying(2000, noise=0.15, seed=seed), decaying(100, 2.6, 0.4, noise=0.03, seed=seed + 100),
                   valid_every=20)
    assert a.job_alerts(hist, status="succeeded", now=T0 + 10_000, rules=RULES) == []


def test_alerts015_short_series_never_alarm():
    for n in range(0, 6):
        hist = history([1.0 * 2 ** k for k in range(n)], [1.0 * 2 ** k for k in range(n)])
        assert a.divergence_alert(hist, RULES) is None
        assert a.overfitting_alert(hist, (), RULES) is None
        assert a.stall_alert(hist, "running", T0, T0 + 10_000, RULES) is None


def test_alerts016_nan_in_the_middle_does_not_break_the_curve_rules():
    train = decaying(100, noise=0.05)
    train[50] = math.nan
    hist = history(train)
    assert a.divergence_alert(hist, RULES) is None
    assert a.job_alerts(hist, status="running", now=T0 + 200, rules=RULES) == []


# -- overfitting -------------------------------------------------------------------------------

CHECKPOINTS = [
    {"id": "ckpt-25", "step_number": 25, "fine_tuned_model_checkpoint": "ft:m:ckpt-step-25",
     "metrics": {"valid_loss": 0.9}},
    {"id": "ckpt-50", "step_number": 50, "fine_tuned_model_checkpoint": "ft:m:ckpt-step-50",
     "metrics": {"valid_loss": 0.7}},
    {"id": "ckpt-75", "step_number": 75, "fine_tuned_model_checkpoint": "ft:m:ckpt-step-75",
     "metrics": {"valid_loss": 0.85}},
]


def test_alerts020_overfitting_names_the_best_checkpoint():
    hist = history(decaying(100, 2.0, 0.1), [1.5, 1.2, 1.0, 0.85, 0.75, 0.7, 0.74, 0.77, 0.8, 0.84], valid_every=10)
    alert = a.overfitting_alert(hist, CHECKPOINTS, RULES)
    assert alert is not None and alert["kind"] == "overfitting"
    assert alert["step"] == 60 and alert["checkpoint"] == "ckpt-50"
    assert "ft:m:ckpt-step-50 (step 50)" in alert["message"] and "overfitting" in alert["message"]


def test_alerts021_without_checkpoint_metrics_the_nearest_checkpoint_to_the_best_step():
    hist = history(decaying(100, 2.0, 0.1), [1.5, 1.2, 1.0, 0.85, 0.75, 0.7, 0.74, 0.77, 0.8, 0.84], valid_every=10)
    bare = [{k: v for k, v in c.items() if k != "metrics"} for c in CHECKPOINTS]
    assert a.overfitting_alert(hist, bare, RULES)["checkpoint"] == "ckpt-50"
    assert "best validation loss was at step 60" in a.overfitting_alert(hist, (), RULES)["message"]


def test_alerts022_near_misses():
    train = decaying(100, 2.0, 0.1)
    # Rising for 3 evaluations only (4 needed).
    three = history(train, [1.5, 1.2, 1.0, 0.85, 0.75, 0.7, 0.65, 0.74, 0.77, 0.8], valid_every=10)
    assert a.overfitting_alert(three, CHECKPOINTS, RULES) is None
    # Rising for 4 evaluations but by 2% only (5% needed).
    small = history(train, [1.5, 1.2, 1.0, 0.85, 0.75, 0.7, 0.703, 0.707, 0.71, 0.714], valid_every=10)
    assert a.overfitting_alert(small, CHECKPOINTS, RULES) is None
    # Valid rising while train rises too: not overfitting (that is the divergence rule's business).
    rising_train = decaying(60, 2.0, 0.1) + [0.2 + 0.02 * k for k in range(40)]
    both = history(rising_train, [1.5, 1.2, 1.0, 0.85, 0.75, 0.7, 0.74, 0.77, 0.8, 0.84], valid_every=10)
    assert a.overfitting_alert(both, CHECKPOINTS, RULES) is None
    # Rose, then came back down: no longer rising.
    back = history(train, [1.5, 1.2, 1.0, 0.85, 0.75, 0.7, 0.8, 0.85, 0.8, 0.74, 0.72], valid_every=9)
    assert a.overfitting_alert(back, CHECKPOINTS, RULES) is None


def test_alerts023_overfitting_through_noisy_evaluations_is_still_found():
    # Valid loss climbs from 0.7 to 0.91 with a dip every other evaluation: no four raw rises in a
    # row, but a rising trend (the light smoothing sees it).
    valid = [1.5, 1.2, 1.0, 0.85, 0.75, 0.7, 0.76, 0.75, 0.81, 0.80, 0.86, 0.85, 0.91]
    alert = a.overfitting_alert(history(decaying(130, 2.0, 0.1), valid, valid_every=10), CHECKPOINTS, RULES)
    assert alert is not None and alert["step"] == 60 and alert["checkpoint"] == "ckpt-50"


# -- stall -------------------------------------------------------------------------------------

def test_alerts030_stall_after_many_times_the_step_pace():
    hist = history(decaying(50), seconds_per_step=30.0)  # 30 s per step: stalled after 300 s
    last = hist.times[-1]
    assert a.stall_alert(hist, "running", last, last + 299, RULES) is None
    alert = a.stall_alert(hist, "running", last, last + 301, RULES)
    assert alert["kind"] == "stall" and alert["step"] == 50 and "5 min" in alert["message"]


def test_alerts031_stall_never_below_the_minimum_and_never_for_finished_or_queued_jobs():
    fast = history(decaying(50), seconds_per_step=0.3)  # 10 × 0.3 s = 3 s, but the floor is 120 s
    last = fast.times[-1]
    assert a.stall_alert(fast, "running", last, last + 100, RULES) is None
    assert a.stall_alert(fast, "running", last, last + 121, RULES) is not None
    for status in ("succeeded", "failed", "cancelled", "queued", "paused"):
        assert a.stall_alert(fast, status, last, last + 10_000, RULES) is None


# -- budget ------------------------------------------------------------------------------------

def test_alerts040_budget():
    assert a.budget_alert(12.5, 10.0, 40)["message"] == "This job is projected to cost $12.50, over its budget of $10.00."
    assert a.budget_alert(12.5, 10.0, finished=True)["message"] == "This job cost $12.50, over its budget of $10.00."
    assert a.budget_alert(10.0, 10.0) is None  # at the budget is not over it
    assert a.budget_alert(12.5, None) is None and a.budget_alert(None, 10.0) is None


def test_alerts041_job_alerts_combines_and_nan_silences_the_curve_rules():
    train = decaying(60) + [5.0] * 30
    hist = history(train)
    rules = a.AlertRules(job_budget=1.0)
    kinds = [x["kind"] for x in a.job_alerts(hist, status="running", projected_cost=2.0, now=T0, rules=rules)]
    assert kinds == ["divergence", "budget"]
    nan = {"metric": "train_loss", "step": 61.0, "at": None}
    kinds = [x["kind"] for x in a.job_alerts(hist, status="running", non_finite=nan, now=T0, rules=rules)]
    assert kinds == ["nan"]


def test_alerts042_rules_from_settings():
    from fakeai_dash.config import load_settings

    settings = load_settings([], alert_divergence_rise=0.8, budget_per_job_usd=25)
    rules = a.rules_from_settings(settings)
    assert rules.divergence_rise == 0.8 and rules.job_budget == 25 and rules.overfit_evals == 4
