"""Figures are built once per history version and shared by every viewer of that version."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np

from fakeai_dash.components.training_progress import progress_outputs
from fakeai_dash.series import MetricHistory
from fakeai_dash.shared_results import shared_results
from tests.support.waiting import wait_until

T0 = 1_700_000_000.0
VIEW = {"smoothing": 0.6, "log": False, "x": "step"}


def history(steps: int, version: str) -> MetricHistory:
    xs = np.arange(1, steps + 1, dtype=np.float64)
    return MetricHistory(xs, T0 + xs, {"train_loss": 2 - xs / (2 * steps), "train_mean_token_accuracy": xs / (2 * steps)},
                         version=version)


def store(job_id="ftjob-shared"):
    return {"job_id": job_id, "job": {"id": job_id, "status": "running", "created_at": T0}, "checkpoints": []}


def test_shared001_one_computation_per_key():
    result, calls = shared_results(4), []

    def compute(value):
        return lambda: calls.append(value) or [value]

    first = result(("a", 1), compute("a1"))
    assert result(("a", 1), compute("again")) is first  # the same object, not recomputed
    assert result(("a", 2), compute("a2")) == ["a2"]
    assert calls == ["a1", "a2"]


def test_shared002_concurrent_callers_of_one_key_share_one_value():
    result = shared_results(4)
    values, started, builds = [], [], []

    def build():
        builds.append(1)
        # Still building when every viewer has asked: each one that also builds gets its own object.
        wait_until(lambda: len(started) == 8, 10, "all eight viewers")
        return object()

    def viewer():
        started.append(1)
        values.append(result("key", build))

    threads = [threading.Thread(target=viewer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(values) == 8 and all(value is values[0] for value in values)
    assert len(builds) == 1  # the others waited for the first build instead of building too


def test_shared003_viewers_of_one_version_get_the_same_figures():
    series = history(5_000, "v1")
    # Two browsers opening the job: the same figure objects (built once), not equal copies.
    one, two = progress_outputs(store(), VIEW, None, series), progress_outputs(store(), VIEW, None, series)
    assert one[3] is two[3] and one[4] is two[4]
    # Both hold that figure; the next version reaches them as one shared update.
    grown = history(5_001, "v2")
    tick_one, tick_two = progress_outputs(store(), VIEW, one[5], grown), progress_outputs(store(), VIEW, two[5], grown)
    assert tick_one[3] is tick_two[3] and tick_one[5] == tick_two[5]
    # Another view or another job is never served a figure of the first.
    assert progress_outputs(store(), {**VIEW, "log": True}, None, series)[3] is not one[3]
    assert progress_outputs(store("ftjob-other"), VIEW, None, series)[3] is not one[3]
    # Nor, at the same version, a figure drawn before an alert mark was there.
    alerted = {**store(), "alerts": [{"kind": "nan", "title": "Loss is NaN", "step": 2_000}]}
    marked = progress_outputs(alerted, VIEW, None, series)[3]
    assert marked is not one[3] and [a.text for a in marked.layout.annotations if "NaN" in a.text]


def test_shared004_a_history_without_a_version_is_never_shared():
    series = dataclasses.replace(history(500, "v1"), version="")
    assert progress_outputs(store(), VIEW, None, series)[3] is not progress_outputs(store(), VIEW, None, series)[3]
