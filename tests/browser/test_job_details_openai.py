"""Browser tests of JobDetails against an OpenAI-shaped API (a real local HTTP server, pytest-httpserver)."""

from __future__ import annotations

import csv
import io
import json
import os
import re

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug import Response

pytestmark = pytest.mark.browser

T0 = 1_790_000_000
MODEL = "gpt-4o-mini-2024-07-18"


def openai_job(job_id, status, **extra):
    job = {
        "object": "fine_tuning.job", "id": job_id, "model": MODEL, "created_at": T0,
        "finished_at": None, "fine_tuned_model": None, "organization_id": "org-test",
        "result_files": [], "status": status, "validation_file": None, "training_file": "file-train",
        "trained_tokens": None, "error": {}, "seed": 42, "estimated_finish": None, "integrations": [],
        "metadata": None, "user_provided_suffix": None,
        "method": {"type": "supervised", "supervised": {"hyperparameters": {
            "n_epochs": 3, "batch_size": "auto", "learning_rate_multiplier": 1.8}}},
    }
    job.update(extra)
    return job


def message(n, at, text, level="info"):
    return {"object": "fine_tuning.job.event", "id": f"ftevent-{n}", "created_at": at, "level": level,
            "message": text, "type": "message", "data": {}}


def metrics(n, at, step, train_loss, accuracy, valid_loss=None):
    data = {"step": step, "train_loss": train_loss, "train_mean_token_accuracy": accuracy, "total_steps": 60}
    if valid_loss is not None:
        data["valid_loss"] = valid_loss
    return {"object": "fine_tuning.job.event", "id": f"ftevent-{n}", "created_at": at, "level": "info",
            "message": f"Step {step}/60: training loss={train_loss}", "type": "metrics", "data": data}


FAILED = openai_job("ftjob-failed", "failed", finished_at=T0 + 90, error={
    "code": "invalid_training_file", "message": "The training file has 3 lines with an invalid 'messages' field.",
    "param": "training_file"})
SUCCEEDED = openai_job("ftjob-ok", "succeeded", finished_at=T0 + 900, trained_tokens=120_000,
                       fine_tuned_model=f"ft:{MODEL}:org-test:csv:abc123", error={"code": None, "message": None, "param": None})
PAUSED = openai_job("ftjob-paused", "paused")

OK_EVENTS = [
    message(1, T0, "Validating training file: file-train"),
    message(2, T0 + 60, "Files validated, moving job to queued state"),
    message(3, T0 + 120, "Fine-tuning job started"),
    metrics(4, T0 + 200, 10, 1.9, 0.41, 2.1),
    metrics(5, T0 + 300, 20, 1.5, 0.52),
    message(6, T0 + 320, "Learning rate warmup longer than expected", level="warn"),
    metrics(7, T0 + 400, 30, 1.1, 0.63, 1.4),
    metrics(8, T0 + 500, 40, 0.9, 0.70),
    metrics(9, T0 + 600, 50, 0.7, 0.76, 1.0),
    metrics(10, T0 + 700, 60, 0.6, 0.80),
    message(11, T0 + 900, "The job has successfully completed"),
]
OK_CHECKPOINTS = [
    {"object": "fine_tuning.job.checkpoint", "id": f"ftckpt-{step}", "created_at": T0 + 10 * step,
     "fine_tuned_model_checkpoint": f"ft:{MODEL}:org-test:csv:abc123:ckpt-step-{step}",
     "fine_tuning_job_id": "ftjob-ok", "step_number": step,
     "metrics": {"step": step, "train_loss": loss, "train_mean_token_accuracy": acc, "valid_loss": vloss}}
    for step, loss, acc, vloss in ((20, 1.5, 0.52, 1.6), (40, 0.9, 0.70, 1.1), (60, 0.6, 0.80, 1.2))
]
FAILED_EVENTS = [message(1, T0, "Validating training file: file-train"),
                 message(2, T0 + 90, "Training file validation failed", level="error")]
PAUSED_EVENTS = [message(1, T0, "Validating training file: file-train"),
                 message(2, T0 + 60, "Fine-tuning job started"),
                 metrics(3, T0 + 120, 10, 1.8, 0.4),
                 message(4, T0 + 180, "Fine-tuning job paused")]


def page(items):
    return {"object": "list", "data": items, "has_more": False}


@pytest.fixture
def openai_api(httpserver):
    """An OpenAI-shaped fine-tuning API with a failed, a succeeded and a paused job; resume works."""
    jobs = {job["id"]: dict(job) for job in (FAILED, SUCCEEDED, PAUSED)}
    events = {"ftjob-failed": FAILED_EVENTS, "ftjob-ok": OK_EVENTS, "ftjob-paused": PAUSED_EVENTS}
    checkpoints = {"ftjob-ok": OK_CHECKPOINTS}

    def handle(request):
        path = request.path.removeprefix("/v1")
        if path == "/fine_tuning/jobs":
            body = page(list(jobs.values()))
        elif path == "/files":
            body = page([{"object": "file", "id": "file-train", "bytes": 400_000, "created_at": T0,
                          "filename": "train.jsonl", "purpose": "fine-tune"}])
        elif match := re.fullmatch(r"/fine_tuning/jobs/([^/]+)(?:/(\w+))?", path):
            job_id, part = match.groups()
            if job_id not in jobs:
                return _error(404, f"No such job: {job_id}")
            if part is None:
                body = jobs[job_id]
            elif part == "events":
                body = page(list(reversed(events.get(job_id, []))))  # OpenAI sends newest first
            elif part == "checkpoints":
                body = page(list(reversed(checkpoints.get(job_id, []))))
            elif part == "resume" and request.method == "POST":
                jobs[job_id] = {**jobs[job_id], "status": "running"}
                body = jobs[job_id]
            else:
                return _error(404, "Unknown route")
        else:
            return _error(404, "Unknown route")
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request(re.compile(r"/v1/.*")).respond_with_handler(handle)
    return httpserver.url_for("/").rstrip("/")


def _error(status, text):
    body = {"error": {"message": text, "type": "invalid_request_error", "param": None, "code": None}}
    return Response(json.dumps(body), status=status, content_type="application/json")


def test_details_openai001_failed_job_shows_error_banner(openai_api, start_dash):
    dash_duo = start_dash(openai_api, path="/jobs/ftjob-failed")
    dash_duo.wait_for_text_to_equal("#detail-status", "Failed", timeout=20)
    banner = dash_duo.wait_for_element("#detail-error-banner .job-error-banner")
    assert "The training file has 3 lines with an invalid 'messages' field." in banner.text
    codes = [c.text for c in banner.find_elements(By.CSS_SELECTOR, "code")]
    assert codes == ["invalid_training_file", "training_file"]
    # Failed during validation: the later stages are skipped and the failure is the last stage.
    stages = dash_duo.driver.find_elements(By.CSS_SELECTOR, "#status-timeline .stage")
    assert [(s.get_attribute("data-stage"), s.get_attribute("data-state")) for s in stages] == [
        ("validating_files", "done"), ("queued", "skipped"), ("running", "skipped"), ("failed", "done")]
    assert not dash_duo.find_element("#detail-cancel-button").is_displayed()
    dash_duo.wait_for_contains_text("#events-log-list", "Training file validation failed")
    assert dash_duo.find_element("#events-log-list .event-row.level-error")
    # It never trained: one line instead of two empty charts.
    dash_duo.wait_for_contains_text("#training-no-metrics", "No training metrics reported")
    assert not dash_duo.find_element("#loss-graph").is_displayed()

    # A healthy job whose error is all-null shows no banner (and no stale banner from the failed job).
    dash_duo.driver.get(dash_duo.server_url + "/jobs/ftjob-ok")
    dash_duo.wait_for_text_to_equal("#detail-status", "Succeeded", timeout=20)
    dash_duo.wait_for_text_to_equal("#detail-job-id", "ftjob-ok")
    assert dash_duo.find_element("#detail-error-banner").text == ""
    assert dash_duo.get_logs() == []


def test_details_openai002_paused_job_shows_resume(openai_api, start_dash):
    dash_duo = start_dash(openai_api, path="/jobs/ftjob-paused")
    dash_duo.wait_for_text_to_equal("#detail-status", "Paused", timeout=20)
    resume = dash_duo.find_element("#detail-resume-button")
    assert resume.is_displayed() and resume.is_enabled()
    assert not dash_duo.find_element("#detail-pause-button").is_displayed()
    assert dash_duo.find_element("#detail-cancel-button").is_displayed()  # a paused job can be cancelled
    # Found afresh each time: the timeline re-renders as the clock moves.
    dash_duo.wait_for_element("#status-timeline .stage[data-stage='paused'][data-state='current']")
    # Hyperparameters from OpenAI's method.supervised block, "auto" shown as auto.
    for text in ("Supervised", "auto", "1.8", "42"):
        dash_duo.wait_for_contains_text("#hyperparameters", text)

    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", resume)
    resume.click()
    dash_duo.wait_for_contains_text("#detail-action-result", "Resume requested", timeout=10)
    dash_duo.wait_for_text_to_equal("#detail-status", "Running", timeout=10)
    assert not dash_duo.find_element("#detail-resume-button").is_displayed()
    assert dash_duo.find_element("#detail-pause-button").is_displayed()
    assert dash_duo.get_logs() == []


def test_details_openai003_csv_download_matches_events(openai_api, start_dash):
    dash_duo = start_dash(openai_api, path="/jobs/ftjob-ok")
    dash_duo.wait_for_text_to_equal("#detail-status", "Succeeded", timeout=20)
    dash_duo.wait_for_text_to_equal("#checkpoints-count", "(3)")
    # OpenAI's warn level is the warning level, coloured as such.
    dash_duo.wait_for_element("#events-log-list .event-row.level-warning")
    button = dash_duo.find_element("#metrics-export-button")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()
    target = os.path.join(dash_duo.download_path, "ftjob-ok-metrics.csv")
    WebDriverWait(dash_duo.driver, 10).until(lambda _: os.path.exists(target) and os.path.getsize(target) > 0)
    with open(target, encoding="utf-8") as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read())))

    expected = [e["data"] for e in OK_EVENTS if e["type"] == "metrics"]
    assert [int(r["step"]) for r in rows] == [d["step"] for d in expected]
    for row, data in zip(rows, expected):
        assert float(row["train_loss"]) == data["train_loss"]
        assert float(row["train_accuracy"]) == data["train_mean_token_accuracy"]
        assert (float(row["valid_loss"]) if row["valid_loss"] else None) == data.get("valid_loss")
    assert float(rows[-1]["elapsed_s"]) == 500  # from the first metrics event (T0+200) to the last (T0+700)
    assert list(rows[0]) == ["step", "elapsed_s", "train_loss", "valid_loss", "train_accuracy"]
    assert dash_duo.get_logs() == []
