"""Browser tests of the JobDetails panels against a real FakeAI server (jobs take ~35 s)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from selenium.common.exceptions import ElementClickInterceptedException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.browser

JOB_TIMEOUT = 75  # FakeAI needs ~35 s per job; two cores shared with other test runs


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


def wait_until(dash_duo, condition, timeout=15, message=""):
    return WebDriverWait(dash_duo.driver, timeout, poll_frequency=0.25).until(lambda _: condition(), message)


def shown_count(dash_duo):
    return dash_duo.find_element("#events-log-count").text


def click(dash_duo, selector):
    # The details panel is long: centre the element so nothing (a tooltip, a modal fading
    # out) covers it; fall back to a DOM click, which fires the same events, if still covered.
    element = dash_duo.find_element(selector)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    try:
        element.click()
    except ElementClickInterceptedException:
        dash_duo.driver.execute_script("arguments[0].click()", element)


def set_smoothing(dash_duo, value):
    box = dash_duo.find_element("#smoothing-slider input")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(str(value), Keys.TAB)  # the number box commits on blur


def test_details001_watch_job_to_success(fakeai, start_dash):
    job = fakeai.create_job(suffix="watch-me")
    dash_duo = start_dash(fakeai.url, path=f"/jobs/{job['id']}")
    dash_duo.wait_for_text_to_equal("#detail-job-id", job["id"], timeout=20)
    dash_duo.wait_for_contains_text("#detail-model", "meta-llama/Llama-3.1-8B-Instruct")
    # While it runs: the timeline marks a current stage and the cost is labelled an estimate.
    dash_duo.wait_for_element("#status-timeline .stage-current", timeout=20)
    dash_duo.wait_for_text_to_equal("#detail-status", "Succeeded", timeout=JOB_TIMEOUT)

    # Loss chart: >= 10 train-loss points and the 4 checkpoints as markers.
    wait_until(dash_duo, lambda: len((trace(dash_duo, "loss-graph", "train_loss") or {}).get("x", [])) >= 11,
               message="train loss never reached 11 points")
    train = trace(dash_duo, "loss-graph", "train_loss")
    assert train["x"] == sorted(train["x"]) and train["x"][-1] == 100
    wait_until(dash_duo, lambda: len((trace(dash_duo, "loss-graph", "Checkpoints") or {}).get("x", [])) == 4)
    assert sorted(trace(dash_duo, "loss-graph", "Checkpoints")["x"]) == [25, 50, 75, 100]
    assert trace(dash_duo, "accuracy-graph", "train_accuracy")["fill"] == "tozeroy"

    # Checkpoint table: 4 rows, newest first, one badged best; count in the header.
    dash_duo.wait_for_text_to_equal("#checkpoints-count", "(4)")
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
    total = len(dash_duo.driver.find_elements(By.CSS_SELECTOR, "#events-log-list .event-row"))
    assert shown_count(dash_duo) == f"({total} of {total} shown)"
    click(dash_duo, "#events-log-types input[value='metrics']")
    wait_until(dash_duo, lambda: shown_count(dash_duo) != f"({total} of {total} shown)")
    assert not dash_duo.driver.find_elements(By.CSS_SELECTOR, "#events-log-list .event-row[data-type='metrics']")
    messages = len(dash_duo.driver.find_elements(By.CSS_SELECTOR, "#events-log-list .event-row"))
    assert 0 < messages < total
    click(dash_duo, "#events-log-levels input[value='info']")
    dash_duo.wait_for_contains_text("#events-log-list", "No events match the filters")

    # Smoothing changes the plotted values; 0 plots the raw values themselves.
    smoothed_before = trace(dash_duo, "loss-graph", "train_loss")["y"]
    raw = trace(dash_duo, "loss-graph", "train_loss (raw)")["y"]
    assert smoothed_before != raw
    set_smoothing(dash_duo, 0)
    wait_until(dash_duo, lambda: trace(dash_duo, "loss-graph", "train_loss (raw)") is None)
    assert trace(dash_duo, "loss-graph", "train_loss")["y"] == raw
    set_smoothing(dash_duo, 0.9)
    wait_until(dash_duo, lambda: "smoothing=0.9" in dash_duo.driver.current_url)
    click(dash_duo, "#log-scale-switch")
    wait_until(dash_duo, lambda: "log=1" in dash_duo.driver.current_url)
    smoothed_09 = trace(dash_duo, "loss-graph", "train_loss")["y"]
    assert smoothed_09 not in (raw, smoothed_before)

    # A reload (or a shared link) reproduces the view.
    query = parse_qs(urlparse(dash_duo.driver.current_url).query)
    assert query == {"smoothing": ["0.9"], "log": ["1"]}
    dash_duo.driver.refresh()
    dash_duo.wait_for_text_to_equal("#detail-status", "Succeeded", timeout=20)
    wait_until(dash_duo, lambda: (figure_layout(dash_duo, "loss-graph") or {}).get("yaxis", {}).get("type") == "log")
    assert trace(dash_duo, "loss-graph", "train_loss")["y"] == smoothed_09
    assert dash_duo.find_element("#log-scale-switch").is_selected()
    assert dash_duo.get_logs() == []


def test_details002_cancel_running_job_through_confirmation(fakeai, start_dash):
    job = fakeai.create_job(model="Qwen/Qwen2.5-7B-Instruct", suffix="cancel-me")
    dash_duo = start_dash(fakeai.url, path=f"/jobs/{job['id']}")
    dash_duo.wait_for_text_to_equal("#detail-status", "Running", timeout=20)

    # FakeAI has no pause endpoint: the answer is explained and Pause is disabled, not a failure.
    click(dash_duo, "#detail-pause-button")
    dash_duo.wait_for_contains_text("#detail-action-result", "does not support pause", timeout=10)
    wait_until(dash_duo, lambda: not dash_duo.find_element("#detail-pause-button").is_enabled())
    assert "no pause endpoint" in dash_duo.find_element("#detail-action-help").text

    click(dash_duo, "#detail-cancel-button")
    dash_duo.wait_for_element("#detail-cancel-confirm-yes", timeout=5)
    dash_duo.wait_for_contains_text("#detail-cancel-confirm-text", job["id"])
    click(dash_duo, "#detail-cancel-confirm-yes")

    dash_duo.wait_for_text_to_equal("#detail-status", "Cancelled", timeout=15)
    dash_duo.wait_for_contains_text("#detail-action-result", "now cancelled")
    dash_duo.wait_for_contains_text("#events-log-list", "cancelled by user", timeout=10)
    assert not dash_duo.find_element("#detail-cancel-button").is_displayed()
    assert fakeai.job(job["id"])["status"] == "cancelled"
    # The jobs list refetched at once too.
    dash_duo.wait_for_contains_text(f"#jobs-grid .ag-row[row-id='{job['id']}'] .status-badge", "Cancelled",
                                    timeout=10)
    assert dash_duo.get_logs() == []
