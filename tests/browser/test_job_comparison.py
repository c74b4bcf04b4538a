"""Browser test of the JobComparison card against a real FakeAI server: URL picks, chart, table, picker."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from selenium.common.exceptions import ElementClickInterceptedException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.browser

GRAPH = "compare-loss-graph"
JOB_COLUMNS = "#compare-table-grid thead th.compare-job"
ROW = "#jobs-grid .ag-center-cols-container .ag-row[row-id='{}'] .job-cell"


def wait_until(dash_duo, condition, timeout=20, message=""):
    return WebDriverWait(dash_duo.driver, timeout, poll_frequency=0.25).until(lambda _: condition(), message)


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
    option = WebDriverWait(dash_duo.driver, 10).until(lambda d: d.find_element(By.XPATH, xpath))
    try:
        option.click()
    except ElementClickInterceptedException:
        dash_duo.driver.execute_script("arguments[0].click()", option)
    # Close the menu (Escape, as a keyboard user would) so the next step starts from a closed
    # picker; clicking elsewhere can land on the open menu itself.
    ActionChains(dash_duo.driver).send_keys(Keys.ESCAPE).perform()
    WebDriverWait(dash_duo.driver, 10).until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, "label.dash-dropdown-option"))


def test_compare001_url_picks_chart_table_picker_and_reload(fakeai, start_dash):
    this = fakeai.create_job(suffix="cmp-this", hyperparameters={"n_epochs": 2})
    other = fakeai.create_job(suffix="cmp-other", hyperparameters={"n_epochs": 5})
    third = fakeai.create_job(model="Qwen/Qwen2.5-7B-Instruct", suffix="cmp-third")
    dash_duo = start_dash(fakeai.url, path=f"/jobs/{this['id']}?smoothing=0.9&compare={other['id']}")
    dash_duo.driver.set_window_size(1440, 2600)
    dash_duo.wait_for_text_to_equal("#detail-job-id", this["id"], timeout=20)

    # The link alone opens the comparison: both jobs in the chart (train solid, valid dashed, selected in green).
    wait_until(dash_duo, lambda: jobs_in_chart(dash_duo)[0] == {this["id"], other["id"]},
               message="the comparison chart never drew both jobs")
    traces = jobs_in_chart(dash_duo)[1]
    mine = [t for t in traces if t["legendgroup"] == this["id"]]
    assert mine[0]["line"]["color"] == "#76b900" and "(this job)" in mine[0]["name"]
    assert all(t["line"]["color"] != "#76b900" for t in traces if t["legendgroup"] == other["id"])
    wait_until(dash_duo, lambda: {t["line"]["dash"] for t in jobs_in_chart(dash_duo)[1]} == {"solid", "dash"},
               timeout=30, message="no validation loss was ever drawn")

    # The table: one column per job, the selected first; epochs differ and are marked so.
    wait_until(dash_duo, lambda: table_jobs(dash_duo) == [this["id"], other["id"]])
    assert cell_text(dash_duo, "n_epochs", this["id"]) == "2"
    assert cell_text(dash_duo, "n_epochs", other["id"]) == "5"
    assert "compare-differs" in cell_classes(dash_duo, "n_epochs", other["id"])
    assert "compare-differs" not in cell_classes(dash_duo, "n_epochs", this["id"])
    assert "compare-differs" not in cell_classes(dash_duo, "batch_size", other["id"])
    assert cell_text(dash_duo, "model", other["id"]) == "meta-llama/Llama-3.1-8B-Instruct"

    # Picking a job adds it to the URL (beside the chart view's keys) and to the table.
    # FakeAI reports a suffix only once the model exists: pick by the id's tail, which every label shows.
    toggle_pick(dash_duo, third["id"][-6:])
    wait_until(dash_duo, lambda: compared_in_url(dash_duo) == [other["id"], third["id"]])
    wait_until(dash_duo, lambda: table_jobs(dash_duo) == [this["id"], other["id"], third["id"]])
    assert cell_text(dash_duo, "model", third["id"]) == "Qwen/Qwen2.5-7B-Instruct"
    assert "compare-differs" in cell_classes(dash_duo, "model", third["id"])
    # Removing one takes it out of the URL, the table and the chart.
    toggle_pick(dash_duo, other["id"][-6:])
    wait_until(dash_duo, lambda: compared_in_url(dash_duo) == [third["id"]])
    wait_until(dash_duo, lambda: table_jobs(dash_duo) == [this["id"], third["id"]])
    wait_until(dash_duo, lambda: jobs_in_chart(dash_duo)[0] == {this["id"], third["id"]})
    assert "smoothing=0.9" in dash_duo.driver.current_url

    # A reload (or a shared link) brings the same comparison back.
    dash_duo.driver.refresh()
    dash_duo.wait_for_text_to_equal("#detail-job-id", this["id"], timeout=20)
    wait_until(dash_duo, lambda: table_jobs(dash_duo) == [this["id"], third["id"]])
    wait_until(dash_duo, lambda: jobs_in_chart(dash_duo)[0] == {this["id"], third["id"]})
    assert third["id"][-6:] in dash_duo.find_element("#compare-picker").text
    assert compared_in_url(dash_duo) == [third["id"]]

    # Opening the compared job itself leaves nothing to compare: the pick is cleared, the view kept.
    dash_duo.find_element(ROW.format(third["id"])).click()
    dash_duo.wait_for_text_to_equal("#detail-job-id", third["id"], timeout=20)
    wait_until(dash_duo, lambda: compared_in_url(dash_duo) == [])
    wait_until(dash_duo, lambda: dash_duo.find_element("#compare-empty").is_displayed())
    assert not dash_duo.find_element("#compare-results").is_displayed()
    assert "smoothing=0.9" in dash_duo.driver.current_url
    assert dash_duo.get_logs() == []


def test_compare002_a_job_that_does_not_exist_reads_not_found(fakeai, start_dash):
    this = fakeai.create_job(suffix="cmp-lonely")
    dash_duo = start_dash(fakeai.url, path=f"/jobs/{this['id']}?compare=ftjob-doesnotexist000")
    dash_duo.wait_for_text_to_equal("#detail-job-id", this["id"], timeout=20)
    wait_until(dash_duo, lambda: table_jobs(dash_duo) == [this["id"], "ftjob-doesnotexist000"])
    assert cell_text(dash_duo, "status", "ftjob-doesnotexist000") == "not found"
    assert jobs_in_chart(dash_duo)[0] == {this["id"]}
    assert dash_duo.get_logs() == []
