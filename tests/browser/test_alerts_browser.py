"""Training-health alerts in the browser against an OpenAI-shaped API (pytest-httpserver): a
running job whose loss turns NaN and a finished job that overfit show their badges in the list,
the "With alerts" filter keeps exactly them, and their details explain the alert in a banner
and mark where it started on the loss chart."""

from __future__ import annotations

import json
import math
import os
import re
import time

import pytest
from selenium.webdriver.support.ui import Select
from werkzeug import Response

from fakeai_dash import ids
from tests.support.browser_support import LOAD_TICKS, grid_statuses, row_selector, ticks, wait_until

pytestmark = pytest.mark.browser

T0 = 1_790_000_000
MODEL = "gpt-4o-mini-2024-07-18"
TICK = 1.0
# Set FAKEAI_DASH_SHOTS=/tmp/shots-issue9 to keep screenshots for a human to look at.
SHOTS = os.environ.get("FAKEAI_DASH_SHOTS")


def openai_job(job_id, status, created_at, **extra):
    return {"object": "fine_tuning.job", "id": job_id, "model": MODEL, "created_at": created_at,
            "finished_at": None, "fine_tuned_model": None, "organization_id": "org-test", "result_files": [],
            "status": status, "validation_file": "file-valid", "training_file": "file-train", "trained_tokens": None,
            "error": None, "seed": 42, "estimated_finish": None, "metadata": None,
            "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3}}}, **extra}


def metrics(job_id, n, at, step, train_loss, valid_loss=None, total=100):
    data = {"step": step, "train_loss": train_loss, "train_mean_token_accuracy": 0.5, "total_steps": total}
    if valid_loss is not None:
        data["valid_loss"] = valid_loss
    return {"object": "fine_tuning.job.event", "id": f"ftevent-{job_id}-{n}", "created_at": at, "level": "info",
            "message": f"Step {step}/{total}", "type": "metrics", "data": data}


def nan_job(now):
    """Running, 10 s per step; the loss is NaN from step 31 on (the newest event is seconds old)."""
    start = int(now) - 360
    events = [metrics("nan", step, start + 10 * step, step,
                      2.0 * math.exp(-step / 20) + 0.3 if step <= 30 else math.nan) for step in range(1, 36)]
    return openai_job("ftjob-nan", "running", start - 60), events


def overfit_job():
    """Succeeded: train loss falls all along, valid loss best at step 60 then up for four evaluations."""
    valid = dict(zip(range(10, 101, 10), (1.5, 1.2, 1.0, 0.85, 0.75, 0.7, 0.74, 0.77, 0.8, 0.84)))
    events = [metrics("over", step, T0 + 10 * step, step, 2.0 * math.exp(-step / 30) + 0.1, valid.get(step))
              for step in range(1, 101)]
    checkpoints = [{"object": "fine_tuning.job.checkpoint", "id": f"ftckpt-{step}", "created_at": T0 + 10 * step,
                    "fine_tuned_model_checkpoint": f"ft:{MODEL}:org-test::over:ckpt-step-{step}",
                    "fine_tuning_job_id": "ftjob-overfit", "step_number": step,
                    "metrics": {"step": step, "train_loss": 0.2, "valid_loss": vloss}}
                   for step, vloss in ((25, 0.95), (50, 0.72), (75, 0.78), (100, 0.84))]
    job = openai_job("ftjob-overfit", "succeeded", T0, finished_at=T0 + 1010, trained_tokens=90_000,
                     fine_tuned_model=f"ft:{MODEL}:org-test::over")
    return job, events, checkpoints


def healthy_job():
    events = [metrics("ok", step, T0 + 10 * step, step, 2.0 * math.exp(-step / 30) + 0.1,
                      2.0 * math.exp(-step / 30) + 0.2 if step % 10 == 0 else None) for step in range(1, 101)]
    job = openai_job("ftjob-healthy", "succeeded", T0 - 100, finished_at=T0 + 1000, trained_tokens=90_000)
    return job, events


@pytest.fixture
def openai_api(httpserver):
    nan, nan_events = nan_job(time.time())
    over, over_events, over_checkpoints = overfit_job()
    ok, ok_events = healthy_job()
    jobs = {job["id"]: job for job in (nan, over, ok)}
    events = {"ftjob-nan": nan_events, "ftjob-overfit": over_events, "ftjob-healthy": ok_events}
    checkpoints = {"ftjob-overfit": over_checkpoints}

    def page(items):
        return {"object": "list", "data": items, "has_more": False}

    def handle(request):
        path = request.path.removeprefix("/v1")
        if path == "/fine_tuning/jobs":
            body = page(sorted(jobs.values(), key=lambda j: -j["created_at"]))
        elif path == "/files":
            body = page([])
        elif match := re.fullmatch(r"/fine_tuning/jobs/([^/]+)(?:/(\w+))?", path):
            job_id, part = match.groups()
            if job_id not in jobs:
                return Response(json.dumps({"error": {"message": "No such job"}}), status=404,
                                content_type="application/json")
            body = {None: jobs[job_id], "events": page(list(reversed(events.get(job_id, [])))),
                    "checkpoints": page(list(reversed(checkpoints.get(job_id, []))))}.get(part)
        else:
            body = None
        if body is None:
            return Response(json.dumps({"error": {"message": "Unknown route"}}), status=404,
                            content_type="application/json")
        # json.dumps writes NaN as the bare NaN token, as a lenient server would send it.
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request(re.compile(r"/v1/.*")).respond_with_handler(handle)
    return httpserver.url_for("/").rstrip("/")


def badges(dash_duo, job_id):
    return dash_duo.driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(b => b.textContent)",
        row_selector(job_id) + " .alert-badge")


def chart_marks(dash_duo):
    """(x of each alert line, texts of the alert labels) on the loss chart, read in one script."""
    return dash_duo.driver.execute_script("""
        const el = document.getElementById('loss-graph').querySelector('.js-plotly-plot');
        if (!el || !el.layout) { return null; }
        return [(el.layout.shapes || []).filter(s => s.name === 'alert-mark').map(s => s.x0),
                (el.layout.annotations || []).filter(a => a.name === 'alert-mark').map(a => a.text)];
    """)


def shot(dash_duo, name):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        dash_duo.driver.save_screenshot(f"{SHOTS}/{name}.png")


def test_alerts_browser001_nan_and_overfitting_badges_filter_and_banners(openai_api, start_dash):
    dash_duo = start_dash(openai_api, "/", refresh_interval=TICK, alert_active_interval=TICK)
    # The running job is followed in the background: its badge shows without anyone opening it.
    wait_until(lambda: badges(dash_duo, "ftjob-nan") == ["⚠ NaN loss"], ticks(LOAD_TICKS, TICK),
               "the NaN badge on the running job")
    assert badges(dash_duo, "ftjob-overfit") == [] and badges(dash_duo, "ftjob-healthy") == []

    # A finished job gets its alerts once its curves are loaded (someone opened it).
    dash_duo.find_element(row_selector("ftjob-overfit")).click()
    # The details body shows once every panel has drawn the job.
    dash_duo.wait_for_contains_text(f"#{ids.Alerts.BANNER} .alert-kind-overfitting", "Overfitting",
                                    timeout=ticks(10, TICK))
    banner = dash_duo.find_element(f"#{ids.Alerts.BANNER} .alert-kind-overfitting")
    assert "Validation loss has risen for 4 evaluations since step 60" in banner.text
    assert f"Use checkpoint ft:{MODEL}:org-test::over:ckpt-step-50 (step 50)" in banner.text
    assert "Marked on the loss chart at step 60." in banner.text
    wait_until(lambda: chart_marks(dash_duo) == [[60], ["⚠ Overfitting"]], ticks(10, TICK),
               "the overfitting mark on the loss chart")
    wait_until(lambda: badges(dash_duo, "ftjob-overfit") == ["⚠ overfitting"], ticks(10, TICK),
               "the overfitting badge in the list")
    shot(dash_duo, "alerts-overfit-details")

    dash_duo.find_element(row_selector("ftjob-nan")).click()
    dash_duo.wait_for_contains_text(f"#{ids.Alerts.BANNER} .alert-kind-nan", "not a number",
                                    timeout=ticks(10, TICK))
    banner = dash_duo.find_element(f"#{ids.Alerts.BANNER} .alert-kind-nan")
    assert "The train loss became NaN or infinite at step 31" in banner.text
    assert dash_duo.find_elements(f"#{ids.Alerts.BANNER} .job-alert-banner") == [banner]  # that alone
    wait_until(lambda: chart_marks(dash_duo) == [[31], ["⚠ Loss is not a number"]], ticks(10, TICK),
               "the NaN mark on the loss chart")
    shot(dash_duo, "alerts-nan-details")

    # "With alerts" keeps exactly the two jobs with alerts, and goes into the link.
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})",
                                   dash_duo.find_element(f"#{ids.Header.STATUS_FILTER}"))
    Select(dash_duo.find_element(f"#{ids.Header.STATUS_FILTER}")).select_by_visible_text("With alerts")
    wait_until(lambda: set(grid_statuses(dash_duo, filtered=True) or {}) == {"ftjob-nan", "ftjob-overfit"},
               ticks(5, TICK), "the filter to keep the two jobs with alerts")
    assert "status=alerts" in dash_duo.driver.current_url
    assert set(grid_statuses(dash_duo)) == {"ftjob-nan", "ftjob-overfit", "ftjob-healthy"}
    shot(dash_duo, "alerts-list-filtered")
    assert dash_duo.get_logs() == []
