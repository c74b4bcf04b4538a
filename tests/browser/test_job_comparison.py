"""Browser tests of the JobComparison card: URL picks, chart, table and picker against a real
FakeAI server; a compared job the API fails on, and an API outage, against an OpenAI-shaped one."""

from __future__ import annotations

import json
import re
import time
from urllib.parse import parse_qs, urlparse

import pytest
from selenium.common.exceptions import ElementClickInterceptedException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug import Response

from fakeai_dash.comparison import comparison_color
from tests.support.browser_support import LOAD_TICKS, prop, ticks
from tests.support.outage_proxy import OutageProxy
from tests.support.waiting import wait_until

pytestmark = pytest.mark.browser

TICK = 1.0  # the app's refresh interval (seconds) in these tests; every wait is a number of ticks
WAIT = ticks(20, TICK)  # how long a step of these tests waits for the page

GRAPH = "compare-loss-graph"
JOB_COLUMNS = "#compare-table-grid thead th.compare-job"
ROW = "#jobs-grid .ag-center-cols-container .ag-row[row-id='{}'] .job-cell"


def jobs_in_chart(dash_duo):
    """The job ids the comparison chart draws (each trace's legend group is its job id)."""
    data = dash_duo.driver.execute_script(
        "const el = document.getElementById(arguments[0]).querySelector('.js-plotly-plot');"
        "return el && el.data ? JSON.parse(JSON.stringify(el.data)) : null;", GRAPH) or []
    return {trace.get("legendgroup") for trace in data}, data


def table_jobs(dash_duo):
    # One script: the table re-renders under selenium's feet between separate calls.
    return dash_duo.driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(th => th.getAttribute('data-job'))", JOB_COLUMNS)


def compared_in_url(dash_duo):
    query = parse_qs(urlparse(dash_duo.driver.current_url).query)
    return query.get("compare", [""])[0].split(",") if "compare" in query else []


def _cell(dash_duo, row, job_id, attribute):
    # Read in one script: the table re-renders each tick, so a held element goes stale.
    return dash_duo.driver.execute_script(
        "const td = document.querySelector(arguments[0]); return td ? td[arguments[1]] : null;",
        f"#compare-table-grid tr[data-row='{row}'] td[data-job='{job_id}']", attribute)


def cell_classes(dash_duo, row, job_id):
    return _cell(dash_duo, row, job_id, "className")


def cell_text(dash_duo, row, job_id):
    return _cell(dash_duo, row, job_id, "innerText")


def toggle_pick(dash_duo, text):
    """Open the picker and click the option whose label contains ``text`` (ticks or unticks it)."""
    button = dash_duo.find_element("#compare-picker")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()
    xpath = f"//label[contains(@class, 'dash-dropdown-option')][contains(., '{text}')]"
    option = WebDriverWait(dash_duo.driver, ticks(10, TICK)).until(lambda d: d.find_element(By.XPATH, xpath))
    try:
        option.click()
    except ElementClickInterceptedException:
        dash_duo.driver.execute_script("arguments[0].click()", option)
    # Close the menu (Escape, as a keyboard user would) so the next step starts from a closed
    # picker; clicking elsewhere can land on the open menu itself.
    ActionChains(dash_duo.driver).send_keys(Keys.ESCAPE).perform()
    WebDriverWait(dash_duo.driver, ticks(10, TICK)).until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, "label.dash-dropdown-option"))


def test_compare001_url_picks_chart_table_picker_and_reload(fakeai, start_dash):
    this = fakeai.create_job(suffix="cmp-this", hyperparameters={"n_epochs": 2})
    other = fakeai.create_job(suffix="cmp-other", hyperparameters={"n_epochs": 5})
    third = fakeai.create_job(model="Qwen/Qwen2.5-7B-Instruct", suffix="cmp-third")
    dash_duo = start_dash(fakeai.url, path=f"/jobs/{this['id']}?smoothing=0.9&compare={other['id']}",
                          refresh_interval=TICK)
    dash_duo.driver.set_window_size(1440, 2600)
    dash_duo.wait_for_text_to_equal("#detail-job-id", this["id"], timeout=ticks(LOAD_TICKS, TICK))

    # The link alone opens the comparison: both jobs in the chart (train solid, valid dashed, selected in green).
    wait_until(lambda: jobs_in_chart(dash_duo)[0] == {this["id"], other["id"]}, WAIT,
               message="the comparison chart never drew both jobs")
    traces = jobs_in_chart(dash_duo)[1]
    mine = [t for t in traces if t["legendgroup"] == this["id"]]
    # In the page's theme (a first visit follows the browser's preference): the brand green as it draws it.
    green = comparison_color(0, dash_duo.driver.execute_script("return document.documentElement.dataset.bsTheme"))
    assert mine[0]["line"]["color"] == green and "(this job)" in mine[0]["name"]
    assert all(t["line"]["color"] != green for t in traces if t["legendgroup"] == other["id"])
    wait_until(lambda: {t["line"]["dash"] for t in jobs_in_chart(dash_duo)[1]} == {"solid", "dash"},
               timeout=ticks(30, TICK), message="no validation loss was ever drawn")

    # The table: one column per job, the selected first; epochs differ and are marked so.
    wait_until(lambda: table_jobs(dash_duo) == [this["id"], other["id"]], WAIT)
    assert cell_text(dash_duo, "n_epochs", this["id"]) == "2"
    assert cell_text(dash_duo, "n_epochs", other["id"]) == "5"
    assert "compare-differs" in cell_classes(dash_duo, "n_epochs", other["id"])
    assert "compare-differs" not in cell_classes(dash_duo, "n_epochs", this["id"])
    assert "compare-differs" not in cell_classes(dash_duo, "batch_size", other["id"])
    assert cell_text(dash_duo, "model", other["id"]) == "meta-llama/Llama-3.1-8B-Instruct"

    # Picking a job adds it to the URL (beside the chart view's keys) and to the table.
    # FakeAI reports a suffix only once the model exists: pick by the id's tail, which every label shows.
    toggle_pick(dash_duo, third["id"][-6:])
    wait_until(lambda: compared_in_url(dash_duo) == [other["id"], third["id"]], WAIT)
    wait_until(lambda: table_jobs(dash_duo) == [this["id"], other["id"], third["id"]], WAIT)
    assert cell_text(dash_duo, "model", third["id"]) == "Qwen/Qwen2.5-7B-Instruct"
    assert "compare-differs" in cell_classes(dash_duo, "model", third["id"])
    # Removing one takes it out of the URL, the table and the chart.
    toggle_pick(dash_duo, other["id"][-6:])
    wait_until(lambda: compared_in_url(dash_duo) == [third["id"]], WAIT)
    wait_until(lambda: table_jobs(dash_duo) == [this["id"], third["id"]], WAIT)
    wait_until(lambda: jobs_in_chart(dash_duo)[0] == {this["id"], third["id"]}, WAIT)
    assert "smoothing=0.9" in dash_duo.driver.current_url

    # A reload (or a shared link) brings the same comparison back.
    dash_duo.driver.refresh()
    dash_duo.wait_for_text_to_equal("#detail-job-id", this["id"], timeout=ticks(LOAD_TICKS, TICK))
    wait_until(lambda: table_jobs(dash_duo) == [this["id"], third["id"]], WAIT)
    wait_until(lambda: jobs_in_chart(dash_duo)[0] == {this["id"], third["id"]}, WAIT)
    assert third["id"][-6:] in dash_duo.find_element("#compare-picker").text
    assert compared_in_url(dash_duo) == [third["id"]]

    # Opening the compared job itself leaves nothing to compare: the pick is cleared, the view kept.
    dash_duo.find_element(ROW.format(third["id"])).click()
    dash_duo.wait_for_text_to_equal("#detail-job-id", third["id"], timeout=ticks(LOAD_TICKS, TICK))
    wait_until(lambda: compared_in_url(dash_duo) == [], WAIT)
    wait_until(lambda: dash_duo.find_element("#compare-empty").is_displayed(), WAIT)
    assert not dash_duo.find_element("#compare-results").is_displayed()
    assert "smoothing=0.9" in dash_duo.driver.current_url
    assert dash_duo.get_logs() == []


def test_compare002_a_job_that_does_not_exist_reads_not_found(fakeai, start_dash):
    this = fakeai.create_job(suffix="cmp-lonely")
    dash_duo = start_dash(fakeai.url, path=f"/jobs/{this['id']}?compare=ftjob-doesnotexist000",
                          refresh_interval=TICK)
    dash_duo.wait_for_text_to_equal("#detail-job-id", this["id"], timeout=ticks(LOAD_TICKS, TICK))
    wait_until(lambda: table_jobs(dash_duo) == [this["id"], "ftjob-doesnotexist000"], WAIT)
    assert cell_text(dash_duo, "status", "ftjob-doesnotexist000") == "not found"
    assert jobs_in_chart(dash_duo)[0] == {this["id"]}
    assert dash_duo.get_logs() == []


# -- errors other than "not found", against an OpenAI-shaped API ------------------------------

MODEL = "gpt-4o-mini-2024-07-18"
SERVER_ERROR = "The server had an error while processing your request."


def api_job(job_id, status, now, epochs=3):
    return {"object": "fine_tuning.job", "id": job_id, "model": MODEL, "created_at": int(now) - 3600,
            "finished_at": int(now) - 60 if status == "succeeded" else None, "status": status,
            "fine_tuned_model": f"ft:{MODEL}:org:{job_id}:x" if status == "succeeded" else None,
            "organization_id": "org-test", "result_files": [], "training_file": "file-train",
            "validation_file": None, "trained_tokens": 30_000 if status == "succeeded" else None,
            "error": None, "seed": 7, "estimated_finish": None, "metadata": None,
            "method": {"type": "supervised", "supervised": {"hyperparameters": {
                "n_epochs": epochs, "batch_size": 4, "learning_rate_multiplier": 2}}}}


def loss_events(now, losses):
    """Metrics events, newest first as OpenAI sends them, one per 10 steps."""
    events = [{"object": "fine_tuning.job.event", "id": f"ftevent-{i}", "created_at": int(now) - 3000 + 60 * i,
               "level": "info", "message": f"Step {10 * (i + 1)}: training loss={loss}", "type": "metrics",
               "data": {"step": 10 * (i + 1), "train_loss": loss, "total_steps": 10 * len(losses)}}
              for i, loss in enumerate(losses)]
    return list(reversed(events))


@pytest.fixture
def compare_api(httpserver):
    """Four jobs: two finished, one running, and one whose every read answers HTTP 500."""
    now = time.time()
    jobs = {"ftjob-this": api_job("ftjob-this", "succeeded", now),
            "ftjob-peer": api_job("ftjob-peer", "succeeded", now, epochs=5),
            "ftjob-live": api_job("ftjob-live", "running", now),
            "ftjob-broken": api_job("ftjob-broken", "running", now)}
    events = {"ftjob-this": loss_events(now, [2.0, 1.5, 1.1, 0.9]),
              "ftjob-peer": loss_events(now, [2.2, 1.8, 1.4, 1.2]),
              "ftjob-live": loss_events(now, [2.1, 1.6])}

    def listing(items):
        return {"object": "list", "data": items, "has_more": False}

    def handle(request):
        path = request.path.removeprefix("/v1")
        if path == "/fine_tuning/jobs":
            body = listing(list(jobs.values()))
        elif match := re.fullmatch(r"/fine_tuning/jobs/([^/]+)(?:/(\w+))?", path):
            job_id, part = match.groups()
            if job_id == "ftjob-broken":
                error = {"message": SERVER_ERROR, "type": "server_error", "param": None, "code": None}
                return Response(json.dumps({"error": error}), status=500, content_type="application/json")
            if job_id not in jobs:
                return Response(json.dumps({"error": {"message": "No such job"}}), status=404,
                                content_type="application/json")
            body = jobs[job_id] if part is None else listing(events.get(job_id, []) if part == "events" else [])
        elif path == "/files":
            body = listing([])
        else:
            return Response("{}", status=404, content_type="application/json")
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request(re.compile(r"/v1/.*")).respond_with_handler(handle)
    return httpserver.url_for("/").rstrip("/")


def compare_message(dash_duo):
    return dash_duo.find_element("#compare-message").text


def test_compare003_a_compared_job_the_api_fails_on_is_named_and_the_rest_is_compared(compare_api, start_dash):
    dash_duo = start_dash(compare_api, path="/jobs/ftjob-this?compare=ftjob-peer,ftjob-broken",
                          refresh_interval=TICK)
    dash_duo.driver.set_window_size(1440, 2600)
    dash_duo.wait_for_text_to_equal("#detail-job-id", "ftjob-this", timeout=ticks(LOAD_TICKS, TICK))
    # A clear message that names the job and what the API said…
    dash_duo.wait_for_contains_text("#compare-message", "could not be loaded", timeout=ticks(10, TICK))
    message = compare_message(dash_duo)
    assert f"ftjob-broken: HTTP 500: {SERVER_ERROR}" in message
    assert "ftjob-peer" not in message
    # …and the jobs that did load are compared as usual: table columns and chart lines.
    wait_until(lambda: table_jobs(dash_duo) == ["ftjob-this", "ftjob-peer"], ticks(10, TICK),
               "the table never compared the jobs that loaded")
    wait_until(lambda: jobs_in_chart(dash_duo)[0] == {"ftjob-this", "ftjob-peer"}, ticks(10, TICK),
               "the chart never drew the jobs that loaded")
    assert cell_text(dash_duo, "n_epochs", "ftjob-peer") == "5"
    # The rest of the page is untouched: details shown, no API banner (the API itself answers).
    assert dash_duo.find_element("#detail-status").text == "Succeeded"
    assert not dash_duo.driver.find_elements(By.CSS_SELECTOR, "#api-banner")
    assert "Traceback" not in dash_duo.driver.page_source
    assert dash_duo.get_logs() == []


def test_compare004_api_outage_keeps_the_comparison_and_the_banner_says_why(compare_api, start_dash):
    with OutageProxy(compare_api) as proxy:
        # Polling (push off): the comparison retries every tick; a live page's outage: test_push.py.
        dash_duo = start_dash(proxy.url, path="/jobs/ftjob-this?compare=ftjob-live", refresh_interval=TICK, push=False)
        dash_duo.driver.set_window_size(1440, 2600)
        dash_duo.wait_for_text_to_equal("#detail-job-id", "ftjob-this", timeout=ticks(LOAD_TICKS, TICK))
        wait_until(lambda: table_jobs(dash_duo) == ["ftjob-this", "ftjob-live"], ticks(10, TICK),
                   "the table never compared the running job")
        assert compare_message(dash_duo) == ""

        proxy.down()
        dash_duo.wait_for_contains_text("#api-banner", "Cannot reach the API", timeout=ticks(10, TICK))
        # The banner says why; the comparison keeps the last good data of the running job.
        down_at = prop(dash_duo, "refresh-interval", "n_intervals")
        wait_until(lambda: prop(dash_duo, "refresh-interval", "n_intervals") >= down_at + 3, ticks(6, TICK),
                   "three ticks of the outage")
        assert table_jobs(dash_duo) == ["ftjob-this", "ftjob-live"]
        assert jobs_in_chart(dash_duo)[0] == {"ftjob-this", "ftjob-live"}
        assert compare_message(dash_duo) == ""
        assert "Traceback" not in dash_duo.driver.page_source
        # The details of the selected job stay on screen.
        assert dash_duo.find_element("#detail-job-id").is_displayed()
        assert dash_duo.find_element("#detail-status").text == "Succeeded"

        proxy.up()
        dash_duo.wait_for_no_elements("#api-banner", timeout=ticks(10, TICK))
        wait_until(lambda: table_jobs(dash_duo) == ["ftjob-this", "ftjob-live"], ticks(10, TICK),
                   "the comparison never came back")
        assert jobs_in_chart(dash_duo)[0] == {"ftjob-this", "ftjob-live"}
    assert dash_duo.get_logs() == []
