"""Unit tests of the JobDetails callbacks' logic, called as plain functions (no browser, no server)."""

from __future__ import annotations

import pytest
from dash import Patch, no_update

from fakeai_dash import figures as f
from fakeai_dash import figure_patches as patches
from fakeai_dash import ids
from fakeai_dash.api.client import ApiError
from fakeai_dash.components import (
    checkpoints,
    cost_tracker,
    events_log,
    hyperparameters,
    job_actions,
    job_details,
    model_comparison,
    status_timeline,
    training_charts,
    training_progress,
)
from fakeai_dash.cost import cost_summary
from tests.support.histories import history_of
from fakeai_dash.series import ema_smooth_array

pytestmark = pytest.mark.usefixtures("no_callback_context_left_behind")

T0 = 1_790_000_000


@pytest.fixture
def triggered(trigger):
    return trigger


def job(status="running", **extra):
    return {"id": "ftjob-1", "model": "meta-llama/Llama-3.1-8B-Instruct", "status": status, "created_at": T0,
            "finished_at": None, "hyperparameters": {"n_epochs": 3, "batch_size": 4, "learning_rate_multiplier": 0.1},
            **extra}


def metrics_event(step, loss, at):
    return {"id": f"e{step}", "created_at": at, "level": "info", "type": "metrics",
            "message": f"Step {step}/100 completed", "data": {"step": step, "train_loss": loss}}


# -- job_details: store, signature, fetch -----------------------------------------------------

def test_detail_payload_keeps_only_what_panels_read():
    detail = {"job": {**job(), "organization_id": "org", "integrations": [1], "training_file": "file-1"},
              "events": [{**metrics_event(10, 2.0, T0), "object": "fine_tuning.job.event"}],
              "checkpoints": [{"id": "c1", "step_number": 25, "metrics": {}, "fine_tuning_job_id": "ftjob-1",
                               "created_at": T0, "fine_tuned_model_checkpoint": "ft:x"}]}
    payload = job_details.detail_payload(detail, training_file_bytes=4000)
    assert payload["job_id"] == "ftjob-1"
    assert "organization_id" not in payload["job"] and "integrations" not in payload["job"]
    assert payload["job"]["expected_tokens"] == 3000  # 4000 bytes / 4 * 3 epochs
    assert "object" not in payload["events"][0]
    assert "fine_tuning_job_id" not in payload["checkpoints"][0]


def test_signature_ticks_for_active_jobs_only():
    running = job_details.detail_payload({"job": job(), "events": [], "checkpoints": []})
    done = job_details.detail_payload({"job": job("succeeded", finished_at=T0 + 35), "events": [], "checkpoints": []})
    bucket = job_details.CLOCK_BUCKET_S
    assert job_details.payload_signature(running, 0) == job_details.payload_signature(running, bucket - 1)
    assert job_details.payload_signature(running, 0) != job_details.payload_signature(running, bucket)
    assert job_details.payload_signature(done, 0) == job_details.payload_signature(done, 99 * bucket)


def test_fetch_skips_all_io_for_a_finished_job_already_shown(triggered):
    # No Flask app here: reaching current_source() would raise, so passing proves no I/O happened.
    triggered(f"{ids.Page.INTERVAL}.n_intervals")
    signature = {"job_id": "ftjob-1", "signature": "abc", "final": True}
    assert job_details.fetch_job_detail(5, "ftjob-1", None, None, signature) == (no_update,) * 3


def test_fetch_clears_the_store_when_nothing_is_selected(triggered):
    triggered(f"{ids.JobDetails.SELECTED}.data")
    assert job_details.fetch_job_detail(1, None, None, None, {"job_id": "x"}) == (None, None, None)
    assert job_details.fetch_job_detail(1, None, None, None, None) == (no_update,) * 3


def test_summary_leaves_out_what_moves_with_each_step():
    detail = {"job": job(trained_tokens=900, estimated_finish=T0 + 60), "events": [metrics_event(3, 1.5, T0)],
              "checkpoints": [], "alerts": []}
    summary = job_details.summary_slice(job_details.detail_payload(detail, training_file_bytes=4000))
    assert set(summary) == {"job_id", "job", "checkpoints", "alerts"}
    assert "events" not in summary and summary["job"]["status"] == "running"
    assert not {"trained_tokens", "estimated_finish", "expected_tokens"} & set(summary["job"])


def test_is_current_never_shows_another_jobs_data():
    store = {"job_id": "ftjob-1", "job": job()}
    assert job_details.is_current(store, "ftjob-1")
    assert not job_details.is_current(store, "ftjob-2")
    assert not job_details.is_current({"job_id": "ftjob-2", "error": "HTTP 404"}, "ftjob-2")


@pytest.mark.parametrize("error", [None, {}, {"code": None, "message": None, "param": None}, "oops"])
def test_no_error_banner_for_empty_errors(error):
    assert job_details.error_parts(error) is None


def test_error_banner_parts():
    parts = job_details.error_parts({"code": "invalid_training_file", "message": "bad file", "param": None})
    assert parts == {"code": "invalid_training_file", "message": "bad file", "param": ""}


@pytest.mark.parametrize("status, shown", [
    ("validating_files", {"cancel"}), ("queued", {"cancel"}), ("running", {"cancel", "pause"}),
    ("paused", {"cancel", "resume"}), ("succeeded", set()), ("failed", set()), ("cancelled", set()),
    ("mystery", set()),
])
def test_available_actions_by_status(status, shown):
    actions = job_actions.available_actions(status, None)
    assert {name for name, a in actions.items() if a["show"]} == shown


def test_unsupported_pause_is_disabled_with_an_explanation():
    actions = job_actions.available_actions("running", {"pause": False})
    assert actions["pause"] == {"show": True, "disabled": True, "title": "This API has no pause endpoint"}
    assert not actions["cancel"]["disabled"]


@pytest.mark.parametrize("status", [404, 405])
def test_pause_404_is_explained_not_a_failure(status):
    _, colour, unsupported = job_actions.action_result("pause", error=ApiError("Not Found", status))
    assert (colour, unsupported) == ("warning", True)


def test_cancel_error_shows_the_api_message():
    children, colour, unsupported = job_actions.action_result(
        "cancel", error=ApiError("Job already finished", 400))
    assert colour == "danger" and not unsupported
    assert "Job already finished" in str(children)


# -- status timeline ---------------------------------------------------------------------------

def test_timeline_summary_running_has_eta_range_not_seconds():
    events = [metrics_event(s, 2.0, T0 + 2 + s * 0.3) for s in (10, 20, 30, 40)]
    info = status_timeline.summary(job(), events, now=T0 + 14)
    assert info["elapsed"] == "14 s"
    assert info["eta"] == "under 1 min"
    slow = [metrics_event(s, 2.0, T0 + s * 6) for s in (10, 20, 30, 40)]  # 6 s/step, 60 steps left
    assert status_timeline.summary(job(), slow, now=T0 + 240)["eta"] == "4–8 min"


def test_timeline_summary_finished_has_total_and_no_eta():
    info = status_timeline.summary(job("succeeded", finished_at=T0 + 35), [], now=T0 + 9999)
    assert info == {"elapsed": "35 s", "eta": None}


# -- training progress -------------------------------------------------------------------------

def test_view_query_round_trip_keeps_other_keys_and_drops_defaults():
    view = {"smoothing": 0.9, "log": True, "x": "elapsed"}
    query = training_progress.query_from_view(view, "?tab=a&smoothing=0.2")
    assert query == "?tab=a&smoothing=0.9&log=1&x=elapsed"
    assert training_progress.view_from_query(query) == view
    assert training_progress.query_from_view(training_progress.DEFAULT_VIEW, "?tab=a") == "?tab=a"
    assert training_progress.query_from_view(training_progress.DEFAULT_VIEW, "") == ""


@pytest.mark.parametrize("search", ["", "?smoothing=abc", "?smoothing=7&x=sideways", None])
def test_view_query_bad_values_fall_back_to_defaults(search):
    view = training_progress.view_from_query(search)
    assert view == training_progress.DEFAULT_VIEW


def test_view_query_clamps_smoothing_to_099():
    assert training_progress.view_from_query("?smoothing=1")["smoothing"] == 0.99


def test_progress_view():
    events = [metrics_event(40, 1.0, T0)]
    events[0]["data"]["total_steps"] = 100
    assert training_progress.progress_view(job(), events) == (40.0, "40%", "Step 40 / 100 · 40%")
    assert training_progress.progress_view(job("queued"), [])[2] == "Waiting for training to start"


def _points(values):
    return [(10 * i, v, T0 + 3 * i) for i, v in enumerate(values)]


def _series(values):
    return history_of({"train_loss": _points(values)})


def _apply(figure_dict, plan):
    for index, tails in plan:
        for attribute, tail in tails.items():
            figure_dict["data"][index][attribute] = list(figure_dict["data"][index][attribute]) + tail
    return figure_dict


@pytest.mark.parametrize("smoothing", [0.0, 0.6])
def test_patching_new_points_gives_the_rebuilt_figure(smoothing):
    old = f.loss_figure(_series([2.5, 2.1, 1.8]), smoothing, checkpoints=[], uirevision="j")
    new = f.loss_figure(_series([2.5, 2.1, 1.8, 1.2, 1.1]), smoothing, checkpoints=[], uirevision="j")
    plan = patches.append_plan(patches.trace_shape(old), new)
    assert plan and all(len(tails["x"]) == 2 for _, tails in plan)
    patched = _apply(old.to_plotly_json(), plan)
    rebuilt = new.to_plotly_json()
    for got, want in zip(patched["data"], rebuilt["data"]):
        assert list(got["x"]) == list(want["x"]) and list(got["y"]) == pytest.approx(list(want["y"]))


def test_append_plan_refuses_changed_history_or_traces():
    old = f.loss_figure(_series([2.5, 2.1, 1.8]), 0.0, uirevision="j")
    shape = patches.trace_shape(old)
    assert patches.append_plan(shape, f.loss_figure(_series([2.5, 2.1]), 0.0, uirevision="j")) is None  # shrank
    moved = history_of({"train_loss": [(5, 2.5, T0)] + _points([2.5, 2.1, 1.8])})
    assert patches.append_plan(shape, f.loss_figure(moved, 0.0, uirevision="j")) is None  # first point moved
    more = f.loss_figure(history_of({"train_loss": _points([2.5, 2.1, 1.8]), "valid_loss": _points([2.6])}), 0.0,
                         uirevision="j")
    assert patches.append_plan(shape, more) is None  # a new trace appeared
    assert patches.append_plan(None, old) is None
    assert patches.append_plan(shape, old) == []


def test_figure_update_sends_patch_nothing_or_whole_figure():
    old = f.loss_figure(_series([2.5, 2.1]), 0.0, uirevision="j")
    new = f.loss_figure(_series([2.5, 2.1, 1.8]), 0.0, uirevision="j")
    assert training_charts.figure_update(patches.trace_shape(old), old) is no_update
    assert training_charts.figure_update(None, new) is new
    patch = training_charts.figure_update(patches.trace_shape(old), new)
    assert isinstance(patch, Patch)
    operations = patch.to_plotly_json()["operations"]
    assert {"operation": "Extend", "location": ["data", 0, "x"], "params": {"value": [20]}} in operations


def test_ema_appending_points_never_moves_earlier_smoothed_values():
    # The reason patching smoothed curves is sound: TensorBoard's EMA only looks backwards.
    values = [2.5, 2.1, 1.8, 1.2, 1.1, 0.9]
    assert ema_smooth_array(values, 0.8)[:4].tolist() == ema_smooth_array(values[:4], 0.8).tolist()


# -- hyperparameters, cost ---------------------------------------------------------------------

def test_hyperparameters_show_auto_as_auto_and_beta_only_for_dpo():
    rows = dict(hyperparameters.hyperparameter_rows(job(hyperparameters={"n_epochs": "auto", "batch_size": "auto",
                                                                          "learning_rate_multiplier": "auto"},
                                                      method_type="supervised", seed=7)))
    assert rows == {"Method": "Supervised", "Epochs": "auto", "Batch size": "auto",
                    "Learning-rate multiplier": "auto", "Seed": "7"}
    dpo = dict(hyperparameters.hyperparameter_rows(job(hyperparameters={"beta": 0.1}, method_type="dpo")))
    assert dpo["DPO beta"] == "0.1" and dpo["Method"] == "DPO" and dpo["Seed"] == "—"


def test_cost_rows_label_estimates_and_projection():
    events = [metrics_event(50, 1.0, T0 + 20)]
    events[0]["data"]["total_steps"] = 100
    summary = cost_summary(job(), events, {"default": 0.008}, T0 + 20, expected_total_tokens=1_000_000)
    rows = {label: (text, note) for label, text, note in cost_tracker.cost_rows(summary)}
    assert rows["Tokens so far"] == ("500K", "estimate from progress")
    assert rows["Cost so far"] == ("$4.00", "estimate")
    assert rows["Projected total"] == ("$8.00", "1M tokens")
    done = cost_summary(job("succeeded", trained_tokens=120_000), [], {"default": 0.008}, T0)
    rows = {label: (text, note) for label, text, note in cost_tracker.cost_rows(done)}
    assert rows["Trained tokens"] == ("120K", None) and rows["Cost"] == ("$0.9600", None)
    assert "Projected total" not in rows


# -- checkpoints, comparison, events -----------------------------------------------------------

def test_checkpoint_rows_newest_first_with_one_best():
    cps = [{"id": f"c{s}", "step_number": s, "created_at": T0 + s, "metrics": {"valid_loss": v, "train_loss": 1}}
           for s, v in ((25, 2.0), (75, 0.9), (50, 1.1), (100, 1.0))]
    names, rows = checkpoints.checkpoint_rows(cps)
    assert [r["step_number"] for r in rows] == [100, 75, 50, 25]
    assert [r["id"] for r in rows if r["best"]] == ["c75"]
    assert names == ["train_loss", "valid_loss"]


def test_comparison_arrow_follows_the_number_colour_follows_improvement():
    loss = {"metric": "train_loss", "first": 2.0, "last": 0.5, "change": -1.5, "pct_change": -0.75, "improved": True}
    acc = {"metric": "train_accuracy", "first": 0.8, "last": 0.6, "change": -0.2, "pct_change": -0.25, "improved": False}
    assert model_comparison.change_text(loss) == "▼ -75.0%"
    assert model_comparison.change_text(acc) == "▼ -25.0%"
    assert (model_comparison.change_class(True), model_comparison.change_class(False)) == ("improved", "worsened")


def test_events_filter_groups_accept_warn_and_keep_unknown_levels_reachable():
    # The grid filters on these groups: an unknown level rides with "info", an unknown type with "message".
    assert [events_log.level_group(v) for v in ("WARN", "warning", "debug", None, "error")] == [
        "warning", "warning", "info", "info", "error"]
    assert [events_log.type_group(v) for v in ("metrics", "hyperparameters", None, "MESSAGE")] == [
        "metrics", "message", "message", "message"]


def test_a_lone_point_is_a_dot_and_its_second_point_rebuilds_the_figure():
    one = f.loss_figure(_series([2.5]), 0.0, uirevision="j")
    two = f.loss_figure(_series([2.5, 2.1]), 0.0, uirevision="j")
    assert one.data[0].mode == "lines+markers" and two.data[0].mode == "lines"
    assert patches.append_plan(patches.trace_shape(one), two) is None


def test_progress_without_steps_is_a_labelled_estimate_like_the_list():
    from fakeai_dash.components.training_progress import progress_view

    job = {"id": "j", "status": "running", "created_at": 1000, "estimated_finish": 2000}
    percent, label, caption = progress_view(job, [], now=1470)
    assert (percent, label) == (47.0, "~47% est.") and "expected finish" in caption
    # Steps known: the steps decide, exactly, and nothing is called an estimate.
    events = [{"id": "e", "type": "metrics", "created_at": 1400, "data": {"step": 30, "total_steps": 120}}]
    assert progress_view(job, events, now=1470)[:2] == (25.0, "25%")
    # Never 100% by the clock alone, and no estimate for a job that is not running.
    assert progress_view(job, [], now=9999)[1] == "~99% est."
    assert progress_view({**job, "status": "queued"}, [], now=1470)[1] == ""


@pytest.mark.parametrize("store", [
    {"job_id": "ftjob-x1", "missing": True, "error": "No such job: the API knows no job ftjob-x1."},
    {"job_id": "ftjob-x1", "error": "The API did not answer"},
])
def test_a_failed_load_says_what_and_why_in_one_block(store):
    # The placeholder centres its children in a row: a title and a reason given as two children
    # ran together on screen ("No such jobNo such job: …").
    children, shown, hidden = job_details.show_details("ftjob-x1", store)
    assert shown == {} and hidden == {"display": "none"}
    assert children.className == "empty-state"
    title, reason = children.children
    assert title.className == "empty-title" and reason.children == store["error"]
