"""Browser tests of JobDetails against an OpenAI-shaped API (a real local HTTP server, pytest-httpserver)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug import Response

from fakeai_dash import ids
from tests.support.browser_support import LOAD_TICKS, prop, row_selector, ticks, wait_until
from tests.support.outage_proxy import OutageProxy

pytestmark = pytest.mark.browser

T0 = 1_790_000_000
MODEL = "gpt-4o-mini-2024-07-18"
TICK = 1.0  # the app's refresh interval (seconds) in these tests; every wait is a number of ticks
# A cache lifetime far longer than any wait below: state that changes within a wait after a
# write was refetched because the write invalidated the cache, not because the entry expired.
LONG_TTL = 120 * TICK


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


def live_job_and_events(now):
    """A job running right now, ten minutes in, with three metrics events so far."""
    started = int(now) - 600
    job = openai_job("ftjob-live", "running", created_at=started - 60, estimated_finish=started + 1800)
    events = [message(1, started - 60, "Validating training file: file-train"),
              message(2, started, "Fine-tuning job started"),
              metrics(3, started + 100, 10, 1.8, 0.40, 1.9),
              metrics(4, started + 200, 20, 1.4, 0.50),
              metrics(5, started + 300, 30, 1.1, 0.60, 1.3)]
    return job, events


def page(items):
    return {"object": "list", "data": items, "has_more": False}


@pytest.fixture
def openai_api(httpserver):
    """An OpenAI-shaped fine-tuning API with a failed, a succeeded, a paused and a running job.

    Pause and resume work as on OpenAI, each logging an event; the state is the test's own.
    """
    live, live_events = live_job_and_events(time.time())
    jobs = {job["id"]: dict(job) for job in (FAILED, SUCCEEDED, PAUSED, live)}
    events = {"ftjob-failed": list(FAILED_EVENTS), "ftjob-ok": list(OK_EVENTS),
              "ftjob-paused": list(PAUSED_EVENTS), "ftjob-live": live_events}
    checkpoints = {"ftjob-ok": OK_CHECKPOINTS}

    def log_event(job_id, text):
        job_events = events.setdefault(job_id, [])
        job_events.append(message(len(job_events) + 1, int(time.time()), text))

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
                log_event(job_id, "Fine-tuning job resumed")
                body = jobs[job_id]
            elif part == "pause" and request.method == "POST":
                jobs[job_id] = {**jobs[job_id], "status": "paused"}
                log_event(job_id, "Fine-tuning job paused")
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


def start(start_dash, api_base, path, **overrides):
    return start_dash(api_base, path, refresh_interval=TICK, **overrides)


def grid_status(dash_duo, job_id):
    """The status the jobs list shows for ``job_id`` (its badge's title), read in one script."""
    return dash_duo.driver.execute_script(
        "const b = document.querySelector(arguments[0]); return b ? b.getAttribute('title') : null;",
        row_selector(job_id) + " .status-badge")


def click(dash_duo, selector):
    element = dash_duo.find_element(selector)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def event_rows(dash_duo, filtered=False):
    """The events log's rows as its grid holds them (or those its filters let through), read
    from the grid's own API: the grid is virtualised, so the DOM has only the rows on screen.
    None while the grid is not ready."""
    return dash_duo.driver.execute_script("""
        let grid = null;
        try { grid = window.dash_ag_grid.getApi('events-log-grid'); } catch (notReady) { return null; }
        if (!grid) { return null; }
        const rows = [];
        grid[arguments[0] ? 'forEachNodeAfterFilter' : 'forEachNode'](n => { if (n.data) { rows.push(n.data); } });
        return rows;
    """, filtered)


def has_event(dash_duo, text):
    return any(text in row["message"] for row in event_rows(dash_duo) or [])


def train_loss_points(dash_duo):
    """[[x], [y]] of the loss chart's train_loss trace, read in one script (None before it is drawn)."""
    return dash_duo.driver.execute_script("""
        const el = document.getElementById('loss-graph').querySelector('.js-plotly-plot');
        const t = el && el.data ? el.data.find(d => d.name === 'train_loss') : null;
        return t ? [Array.from(t.x), Array.from(t.y)] : null;
    """)


def test_details_openai001_failed_job_shows_error_banner(openai_api, start_dash):
    dash_duo = start(start_dash, openai_api, "/jobs/ftjob-failed")
    dash_duo.wait_for_text_to_equal("#detail-status", "Failed", timeout=ticks(LOAD_TICKS, TICK))
    banner = dash_duo.wait_for_element("#detail-error-banner .job-error-banner", timeout=ticks(5, TICK))
    assert "The training file has 3 lines with an invalid 'messages' field." in banner.text
    codes = [c.text for c in banner.find_elements(By.CSS_SELECTOR, "code")]
    assert codes == ["invalid_training_file", "training_file"]
    # Failed during validation: the later stages are skipped and the failure is the last stage.
    stages = dash_duo.driver.find_elements(By.CSS_SELECTOR, "#status-timeline .stage")
    assert [(s.get_attribute("data-stage"), s.get_attribute("data-state")) for s in stages] == [
        ("validating_files", "done"), ("queued", "skipped"), ("running", "skipped"), ("failed", "done")]
    assert not dash_duo.find_element("#detail-cancel-button").is_displayed()
    wait_until(lambda: has_event(dash_duo, "Training file validation failed"), ticks(5, TICK),
               "the failure's event never showed")
    # The error event's row is coloured as an error.
    failed_row = next(row for row in event_rows(dash_duo) if row["message"] == "Training file validation failed")
    dash_duo.wait_for_element(f"#events-log-grid .events-grid-row.level-error[row-id='{failed_row['id']}']",
                              timeout=ticks(5, TICK))
    # It never trained: one line instead of two empty charts.
    dash_duo.wait_for_contains_text("#training-no-metrics", "No training metrics reported", timeout=ticks(5, TICK))
    assert not dash_duo.find_element("#loss-graph").is_displayed()

    # A healthy job whose error is all-null shows no banner (and no stale banner from the failed job).
    dash_duo.driver.get(dash_duo.server_url + "/jobs/ftjob-ok")
    dash_duo.wait_for_text_to_equal("#detail-status", "Succeeded", timeout=ticks(LOAD_TICKS, TICK))
    dash_duo.wait_for_text_to_equal("#detail-job-id", "ftjob-ok", timeout=ticks(5, TICK))
    assert dash_duo.find_element("#detail-error-banner").text == ""
    assert dash_duo.get_logs() == []


def test_details_openai002_paused_job_shows_resume(openai_api, start_dash):
    dash_duo = start(start_dash, openai_api, "/jobs/ftjob-paused")
    dash_duo.wait_for_text_to_equal("#detail-status", "Paused", timeout=ticks(LOAD_TICKS, TICK))
    resume = dash_duo.find_element("#detail-resume-button")
    assert resume.is_displayed() and resume.is_enabled()
    assert not dash_duo.find_element("#detail-pause-button").is_displayed()
    assert dash_duo.find_element("#detail-cancel-button").is_displayed()  # a paused job can be cancelled
    # Found afresh each time: the timeline re-renders as the clock moves.
    dash_duo.wait_for_element("#status-timeline .stage[data-stage='paused'][data-state='current']",
                              timeout=ticks(5, TICK))
    # Hyperparameters from OpenAI's method.supervised block, "auto" shown as auto.
    for text in ("Supervised", "auto", "1.8", "42"):
        dash_duo.wait_for_contains_text("#hyperparameters", text, timeout=ticks(5, TICK))

    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", resume)
    resume.click()
    dash_duo.wait_for_contains_text("#detail-action-result", "Resume requested", timeout=ticks(10, TICK))
    dash_duo.wait_for_text_to_equal("#detail-status", "Running", timeout=ticks(10, TICK))
    assert not dash_duo.find_element("#detail-resume-button").is_displayed()
    assert dash_duo.find_element("#detail-pause-button").is_displayed()
    assert dash_duo.get_logs() == []


def test_details_openai003_csv_download_matches_events(openai_api, start_dash):
    dash_duo = start(start_dash, openai_api, "/jobs/ftjob-ok")
    dash_duo.wait_for_text_to_equal("#detail-status", "Succeeded", timeout=ticks(LOAD_TICKS, TICK))
    dash_duo.wait_for_text_to_equal("#checkpoints-count", "(3)", timeout=ticks(5, TICK))
    # OpenAI's warn level is the warning level, coloured as such.
    dash_duo.wait_for_element("#events-log-grid .events-grid-row.level-warning[row-id='ftevent-6']",
                              timeout=ticks(5, TICK))
    button = dash_duo.find_element("#metrics-export-button")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()
    target = os.path.join(dash_duo.download_path, "ftjob-ok-metrics.csv")
    WebDriverWait(dash_duo.driver, ticks(10, TICK)).until(
        lambda _: os.path.exists(target) and os.path.getsize(target) > 0)
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


def test_details_openai004_pause_and_resume_show_at_once_in_details_and_list(openai_api, start_dash):
    """Pause and resume, as seen in the browser. The app keeps every API answer LONG_TTL, so
    the new status in the header, the list and the events log can only appear within the
    waits below because the write invalidated the cache."""
    dash_duo = start(start_dash, openai_api, "/jobs/ftjob-live", cache_ttl=LONG_TTL)
    dash_duo.wait_for_text_to_equal("#detail-status", "Running", timeout=ticks(LOAD_TICKS, TICK))
    wait_until(lambda: grid_status(dash_duo, "ftjob-live") == "running", ticks(5, TICK),
               "the list never showed the job running")
    wait_until(lambda: has_event(dash_duo, "Fine-tuning job started"), ticks(5, TICK),
               "the job's events never showed")
    assert not has_event(dash_duo, "paused")

    click(dash_duo, "#detail-pause-button")
    dash_duo.wait_for_contains_text("#detail-action-result", "Pause requested", timeout=ticks(10, TICK))
    dash_duo.wait_for_text_to_equal("#detail-status", "Paused", timeout=ticks(10, TICK))
    wait_until(lambda: has_event(dash_duo, "Fine-tuning job paused"), ticks(10, TICK),
               "the pause's event never showed")
    wait_until(lambda: grid_status(dash_duo, "ftjob-live") == "paused", ticks(10, TICK),
               "the list never showed the pause")
    wait_until(lambda: dash_duo.find_element("#detail-resume-button").is_displayed(), ticks(5, TICK),
               "Resume never offered for the paused job")

    click(dash_duo, "#detail-resume-button")
    dash_duo.wait_for_contains_text("#detail-action-result", "Resume requested", timeout=ticks(10, TICK))
    dash_duo.wait_for_text_to_equal("#detail-status", "Running", timeout=ticks(10, TICK))
    wait_until(lambda: has_event(dash_duo, "Fine-tuning job resumed"), ticks(10, TICK),
               "the resume's event never showed")
    wait_until(lambda: grid_status(dash_duo, "ftjob-live") == "running", ticks(10, TICK),
               "the list never showed the resume")
    assert dash_duo.get_logs() == []


def test_details_openai005_details_keep_the_last_good_data_while_the_api_is_down(openai_api, start_dash):
    with OutageProxy(openai_api) as proxy:
        # Polling (push off): the panel retries every tick; a live page's outage: test_push.py.
        dash_duo = start(start_dash, proxy.url, "/jobs/ftjob-live", push=False)
        dash_duo.wait_for_text_to_equal("#detail-status", "Running", timeout=ticks(LOAD_TICKS, TICK))
        points = wait_until(lambda: (p := train_loss_points(dash_duo)) and len(p[0]) == 3 and p,
                            ticks(10, TICK), "the loss chart never drew the three steps")
        events = wait_until(lambda: (rows := event_rows(dash_duo)) and len(rows) == 5 and rows,
                            ticks(5, TICK), "the job's five events never showed")
        assert not dash_duo.driver.find_elements(By.CSS_SELECTOR, "#api-banner")

        proxy.down()
        dash_duo.wait_for_contains_text("#api-banner", "Cannot reach the API", timeout=ticks(10, TICK))
        # Let the details panel itself try (and fail) on a few more refreshes before looking.
        down_at = prop(dash_duo, ids.Page.INTERVAL, "n_intervals")
        wait_until(lambda: prop(dash_duo, ids.Page.INTERVAL, "n_intervals") >= down_at + 3,
                   ticks(10, TICK), "the page stopped refreshing")
        assert "Showing the data from" in dash_duo.find_element("#api-banner").text
        # The job's last good data stays on screen: header, chart and events, not a placeholder.
        assert dash_duo.find_element("#detail-job-id").is_displayed()
        assert dash_duo.find_element("#detail-job-id").text == "ftjob-live"
        assert dash_duo.find_element("#detail-status").text == "Running"
        assert MODEL in dash_duo.find_element("#detail-model").text
        assert not dash_duo.find_element("#job-details-placeholder-card").is_displayed()
        assert train_loss_points(dash_duo) == points
        assert event_rows(dash_duo) == events
        assert "Traceback" not in dash_duo.driver.page_source

        proxy.up()
        dash_duo.wait_for_no_elements("#api-banner", timeout=ticks(10, TICK))
        assert dash_duo.find_element("#detail-job-id").text == "ftjob-live"
        assert train_loss_points(dash_duo) == points
    assert dash_duo.get_logs() == []


# Training prices by model prefix, as an operator configures them (FAKEAI_DASH_PRICE_PER_1K_TOKENS).
PRICES = {"default": 0.5, "gpt-4o": 0.9, "gpt-4o-mini": 0.3}


def test_details_openai006_cost_panel_prices_trained_tokens_from_the_configured_table(openai_api, start_dash):
    dash_duo = start(start_dash, openai_api, "/jobs/ftjob-ok", price_per_1k_tokens=PRICES)
    dash_duo.wait_for_text_to_equal("#detail-status", "Succeeded", timeout=ticks(LOAD_TICKS, TICK))
    # The longest key the model's name starts with prices it: gpt-4o-mini, not gpt-4o, not default.
    assert SUCCEEDED["model"].startswith("gpt-4o-mini")
    price = PRICES["gpt-4o-mini"]
    cost = SUCCEEDED["trained_tokens"] / 1000 * price
    assert cost >= 1  # shown as $1,234.56 (smaller sums get four decimals)
    dash_duo.wait_for_contains_text(f"#{ids.CostTracker.BODY}", f"${cost:,.2f}", timeout=ticks(5, TICK))
    rows = dict(dash_duo.driver.execute_script(
        "const dl = document.querySelector(arguments[0] + ' dl');"
        "return [...dl.querySelectorAll('dt')].map(dt => [dt.textContent, dt.nextElementSibling.textContent]);",
        f"#{ids.CostTracker.BODY}"))
    # A finished job: what it trained and what that cost, no projection.
    assert list(rows) == ["Trained tokens", "Cost", "Price"]
    assert rows["Trained tokens"] == f"{SUCCEEDED['trained_tokens'] // 1000}K"
    assert rows["Cost"] == f"${cost:,.2f}"
    assert rows["Price"] == f"${price:g} / 1K tokens"
    assert dash_duo.get_logs() == []
