"""Browser tests of the JobDetails panels against a real FakeAI server (jobs take ~35 s)."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.support.browser_support import LOAD_TICKS, click, pending_callbacks, row_selector, ticks
from tests.support.waiting import wait_until

pytestmark = pytest.mark.browser

TICK = 1.0  # the app's refresh interval (seconds) in these tests; every wait is a number of ticks
WAIT = ticks(15, TICK)  # how long a step of these tests waits for the page
# A cache lifetime far longer than any wait below: state that changes within a wait after a
# write was refetched because the write invalidated the cache, not because the entry expired.
LONG_TTL = 120 * TICK
JOB_TIMEOUT = 75  # FakeAI needs ~35 s per job (its own clock, not our ticks); two cores shared
FAKEAI_START = 20  # FakeAI validates a new job for ~1 s and queues it for ~1 s before it runs


def figure_data(dash_duo, graph_id):
    """The traces Plotly is drawing in ``graph_id`` (its .data, as plain JSON)."""
    return dash_duo.driver.execute_script(
        "const el = document.getElementById(arguments[0]).querySelector('.js-plotly-plot');"
        "return el && el.data ? JSON.parse(JSON.stringify(el.data)) : null;", graph_id)


def figure_layout(dash_duo, graph_id):
    return dash_duo.driver.execute_script(
        "const el = document.getElementById(arguments[0]).querySelector('.js-plotly-plot');"
        "return el && el.layout ? JSON.parse(JSON.stringify(el.layout)) : null;", graph_id)


def trace(dash_duo, graph_id, name):
    return next((t for t in figure_data(dash_duo, graph_id) or [] if t.get("name") == name), None)


def wait_for_api_status(fakeai, job_id, status, timeout):
    """Poll FakeAI itself (no browser involved) until the job reports ``status``."""
    deadline = time.monotonic() + timeout
    while (seen := fakeai.job(job_id)["status"]) != status:
        assert seen not in ("succeeded", "failed", "cancelled"), f"{job_id} ended {seen} before it was {status}"
        assert time.monotonic() < deadline, f"{job_id} never reached {status} (last seen {seen})"
        time.sleep(0.2)


def grid_status(dash_duo, job_id):
    """The status the jobs list shows for ``job_id`` (its badge's title), read in one script."""
    return dash_duo.driver.execute_script(
        "const b = document.querySelector(arguments[0]); return b ? b.getAttribute('title') : null;",
        row_selector(job_id) + " .status-badge")


def shown_count(dash_duo):
    return dash_duo.find_element("#events-log-count").text


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


def set_smoothing(dash_duo, value):
    box = dash_duo.find_element("#smoothing-slider input")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(str(value), Keys.TAB)  # the number box commits on blur


def test_details001_watch_job_to_success(fakeai, start_dash):
    job = fakeai.create_job(suffix="watch-me")
    dash_duo = start_dash(fakeai.url, path=f"/jobs/{job['id']}", refresh_interval=TICK)
    dash_duo.wait_for_text_to_equal("#detail-job-id", job["id"], timeout=ticks(LOAD_TICKS, TICK))
    dash_duo.wait_for_contains_text("#detail-model", "meta-llama/Llama-3.1-8B-Instruct", timeout=ticks(5, TICK))
    # While it runs: the timeline marks a current stage and the cost is labelled an estimate.
    dash_duo.wait_for_element("#status-timeline .stage-current", timeout=ticks(10, TICK))
    dash_duo.wait_for_text_to_equal("#detail-status", "Succeeded", timeout=JOB_TIMEOUT)

    # Loss chart: >= 10 train-loss points and the 4 checkpoints as markers.
    wait_until(lambda: len((trace(dash_duo, "loss-graph", "train_loss") or {}).get("x", [])) >= 11, WAIT,
               message="train loss never reached 11 points")
    train = trace(dash_duo, "loss-graph", "train_loss")
    assert train["x"] == sorted(train["x"]) and train["x"][-1] == 100
    wait_until(lambda: len((trace(dash_duo, "loss-graph", "Checkpoints") or {}).get("x", [])) == 4, WAIT,
               message="the loss chart never drew the 4 checkpoints")
    assert sorted(trace(dash_duo, "loss-graph", "Checkpoints")["x"]) == [25, 50, 75, 100]
    assert trace(dash_duo, "accuracy-graph", "train_accuracy")["fill"] == "tozeroy"

    # Checkpoint table: 4 rows, newest first, one badged best; count in the header.
    dash_duo.wait_for_text_to_equal("#checkpoints-count", "(4)", timeout=ticks(5, TICK))
    rows = dash_duo.driver.find_elements(By.CSS_SELECTOR, "#checkpoints-table tbody tr")
    assert [row.find_element(By.CSS_SELECTOR, ".checkpoint-step").text for row in rows] == ["100", "75", "50", "25"]
    assert len(dash_duo.driver.find_elements(By.CSS_SELECTOR, "#checkpoints-table .best-badge")) == 1

    # Comparison: train and valid loss improved (lower), shown green.
    improved = dash_duo.find_element("#comparison-table tr[data-metric='train_loss']")
    assert improved.get_attribute("data-improved") == "true"
    assert "change-improved" in improved.find_elements(By.CSS_SELECTOR, "td")[-1].get_attribute("class")

    # Fine-tuned model name with its copy button; timeline shows total time and all stages done.
    assert dash_duo.find_element("#detail-fine-tuned-model").text.startswith("ft:meta-llama/Llama-3.1-8B-Instruct")
    assert dash_duo.find_element("#detail-fine-tuned-copy").is_displayed()
    assert dash_duo.find_element("#status-timeline-elapsed").text.lower().startswith("total")
    assert not dash_duo.driver.find_elements(By.CSS_SELECTOR, "#detail-cancel-button:not([style*='none'])")

    # Events log filters change what is shown.
    total = len(event_rows(dash_duo))
    assert shown_count(dash_duo) == f"({total} of {total} shown)"
    assert {row["type"] for row in event_rows(dash_duo)} == {"message", "metrics"}
    click(dash_duo, "#events-log-types input[value='metrics']")
    wait_until(lambda: len(event_rows(dash_duo, filtered=True)) < total, ticks(5, TICK),
               "unticking metrics hid nothing")
    shown = event_rows(dash_duo, filtered=True)
    assert shown and {row["type"] for row in shown} == {"message"}
    assert shown_count(dash_duo) == f"({len(shown)} of {total} shown)"
    click(dash_duo, "#events-log-levels input[value='info']")
    dash_duo.wait_for_contains_text("#events-log-list", "No events match the filters", timeout=ticks(5, TICK))

    # Smoothing changes the plotted values; 0 plots the raw values themselves.
    smoothed_before = trace(dash_duo, "loss-graph", "train_loss")["y"]
    raw = trace(dash_duo, "loss-graph", "train_loss (raw)")["y"]
    assert smoothed_before != raw
    set_smoothing(dash_duo, 0)
    wait_until(lambda: trace(dash_duo, "loss-graph", "train_loss (raw)") is None, WAIT)
    assert trace(dash_duo, "loss-graph", "train_loss")["y"] == raw
    set_smoothing(dash_duo, 0.9)
    wait_until(lambda: "smoothing=0.9" in dash_duo.driver.current_url, WAIT)
    click(dash_duo, "#log-scale-switch")
    wait_until(lambda: "log=1" in dash_duo.driver.current_url, WAIT)
    smoothed_09 = trace(dash_duo, "loss-graph", "train_loss")["y"]
    assert smoothed_09 not in (raw, smoothed_before)

    # A reload (or a shared link) reproduces the view.
    query = parse_qs(urlparse(dash_duo.driver.current_url).query)
    assert query == {"smoothing": ["0.9"], "log": ["1"]}
    dash_duo.driver.refresh()
    dash_duo.wait_for_text_to_equal("#detail-status", "Succeeded", timeout=ticks(LOAD_TICKS, TICK))
    wait_until(lambda: (figure_layout(dash_duo, "loss-graph") or {}).get("yaxis", {}).get("type") == "log", WAIT)
    assert trace(dash_duo, "loss-graph", "train_loss")["y"] == smoothed_09
    assert dash_duo.find_element("#log-scale-switch").is_selected()
    assert dash_duo.get_logs() == []


def test_details002_cancel_running_job_through_confirmation(fakeai, start_dash):
    """Cancel, as seen in the browser: the details and the list show it at once.

    The app keeps every API answer LONG_TTL, so the cancelled status, its event and the list's
    badge can only appear within the waits below because the cancel invalidated the cache.
    """
    job = fakeai.create_job(model="Qwen/Qwen2.5-7B-Instruct", suffix="cancel-me")
    # Running before the page first reads it: under LONG_TTL an earlier status would stay on screen.
    wait_for_api_status(fakeai, job["id"], "running", FAKEAI_START)
    dash_duo = start_dash(fakeai.url, path=f"/jobs/{job['id']}", refresh_interval=TICK, cache_ttl=LONG_TTL)
    dash_duo.wait_for_text_to_equal("#detail-status", "Running", timeout=ticks(LOAD_TICKS, TICK))
    wait_until(lambda: grid_status(dash_duo, job["id"]) == "running", WAIT,
               message="the list never showed the job running")

    # FakeAI has no pause endpoint: the answer is explained and Pause is disabled, not a failure.
    click(dash_duo, "#detail-pause-button")
    dash_duo.wait_for_contains_text("#detail-action-result", "does not support pause", timeout=ticks(10, TICK))
    wait_until(lambda: not dash_duo.find_element("#detail-pause-button").is_enabled(), ticks(5, TICK))
    assert "no pause endpoint" in dash_duo.find_element("#detail-action-help").text
    # The reads the pause answer set off are finished: none can store pre-cancel data in the
    # cache after the cancel has invalidated it (cached() does not guard against that).
    wait_until(lambda: pending_callbacks(dash_duo) == 0, ticks(5, TICK))

    click(dash_duo, "#detail-cancel-button")
    dash_duo.wait_for_element("#detail-cancel-confirm-yes", timeout=ticks(5, TICK))
    dash_duo.wait_for_contains_text("#detail-cancel-confirm-text", job["id"], timeout=ticks(5, TICK))
    click(dash_duo, "#detail-cancel-confirm-yes")

    dash_duo.wait_for_contains_text("#detail-action-result", "now cancelled", timeout=ticks(10, TICK))
    assert fakeai.job(job["id"])["status"] == "cancelled"
    # The details refetched at once (the cancel invalidated the job's cached answers)…
    dash_duo.wait_for_text_to_equal("#detail-status", "Cancelled", timeout=ticks(10, TICK))
    wait_until(lambda: has_event(dash_duo, "cancelled by user"), ticks(10, TICK),
               "the cancel's event never showed")
    assert not dash_duo.find_element("#detail-cancel-button").is_displayed()
    # …and so did the jobs list.
    wait_until(lambda: grid_status(dash_duo, job["id"]) == "cancelled", ticks(10, TICK),
               "the list never showed the cancel")
    assert dash_duo.get_logs() == []
