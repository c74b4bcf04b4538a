"""Browser tests of the JobsList, header and banner against a real FakeAI server."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

pytestmark = pytest.mark.browser

ROWS = "#jobs-grid .ag-center-cols-container .ag-row"


def row_selector(job_id: str) -> str:
    return f"#jobs-grid .ag-center-cols-container .ag-row[row-id='{job_id}']"


def visible_row_ids(dash_duo) -> set[str]:
    # Read in one script: the grid re-renders rows under selenium's feet between calls.
    script = f"return [...document.querySelectorAll({ROWS!r})].map(r => r.getAttribute('row-id'))"
    return set(dash_duo.driver.execute_script(script))


def wait_rows(dash_duo, predicate, timeout=10, message=""):
    return WebDriverWait(dash_duo.driver, timeout).until(lambda _d: predicate(visible_row_ids(dash_duo)), message)


def test_jobs001_lists_jobs_with_status_badges(fakeai, start_dash):
    running = fakeai.create_job(suffix="badge-run")
    cancelled = fakeai.create_job(model="Qwen/Qwen2.5-7B-Instruct")
    fakeai.cancel_job(cancelled["id"])
    dash_duo = start_dash(fakeai.url)
    dash_duo.wait_for_element(row_selector(cancelled["id"]), timeout=15)
    badge = dash_duo.find_element(row_selector(cancelled["id"]) + " .status-badge")
    assert badge.text.lower() == "cancelled"
    assert "status-cancelled" in badge.get_attribute("class")
    row = dash_duo.find_element(row_selector(running["id"]))
    assert "meta-llama/Llama-3.1-8B-Instruct" in row.text
    assert running["id"] in row.text
    live_badge = dash_duo.find_element(row_selector(running["id"]) + " .status-badge")
    assert live_badge.get_attribute("class").split()[-1] in (
        "status-validating_files", "status-queued", "status-running", "status-succeeded")
    # Header stats count what the server holds.
    jobs = fakeai.jobs()
    dash_duo.wait_for_text_to_equal("#stat-total .stat-value", str(len(jobs)), timeout=10)
    assert int(dash_duo.find_element("#stat-failed .stat-value").text) >= 1
    assert dash_duo.get_logs() == []


def test_jobs002_search_and_status_filter(fakeai, start_dash):
    target = fakeai.create_job(model="mistralai/Mistral-7B-Instruct-v0.3")
    other = fakeai.create_job(model="Qwen/Qwen2.5-7B-Instruct")
    fakeai.cancel_job(other["id"])
    dash_duo = start_dash(fakeai.url)
    dash_duo.wait_for_element(row_selector(other["id"]), timeout=15)

    # Search by a fragment of the job id: only that job stays.
    dash_duo.find_element("#job-search").send_keys(target["id"][-10:])
    wait_rows(dash_duo, lambda ids: ids == {target["id"]}, message="search by id")
    # Search by model name matches every job on that model, and no other.
    dash_duo.clear_input("#job-search")
    dash_duo.find_element("#job-search").send_keys("Qwen2.5")
    wait_rows(dash_duo, lambda ids: other["id"] in ids and target["id"] not in ids, message="search by model")
    models = {job["id"]: job["model"] for job in fakeai.jobs()}
    assert all("Qwen2.5" in models[i] for i in visible_row_ids(dash_duo))

    dash_duo.clear_input("#job-search")
    wait_rows(dash_duo, lambda ids: {target["id"], other["id"]} <= ids, message="search cleared")
    Select(dash_duo.find_element("#status-filter")).select_by_value("cancelled")
    wait_rows(dash_duo, lambda ids: other["id"] in ids and target["id"] not in ids, message="status filter")
    statuses = {job["id"]: job["status"] for job in fakeai.jobs()}
    assert {statuses[i] for i in visible_row_ids(dash_duo)} == {"cancelled"}
    # The "active" group keeps jobs still in flight and drops the cancelled one.
    Select(dash_duo.find_element("#status-filter")).select_by_value("active")
    wait_rows(dash_duo, lambda ids: other["id"] not in ids, message="active filter")
    assert dash_duo.get_logs() == []


def test_jobs003_job_created_through_api_appears_within_two_ticks(fakeai, start_dash):
    dash_duo = start_dash(fakeai.url, refresh_interval=2.0)
    dash_duo.wait_for_element(ROWS, timeout=15)
    job = fakeai.create_job(model="Qwen/Qwen2.5-7B-Instruct", suffix="two-ticks")
    # Two ticks of 2 s, plus a second for the browser to render the row.
    dash_duo.wait_for_element(row_selector(job["id"]), timeout=5)
    assert dash_duo.get_logs() == []


def test_jobs004_url_selects_job_and_click_updates_url(fakeai, start_dash):
    first = fakeai.create_job()
    second = fakeai.create_job(model="mistralai/Mistral-7B-Instruct-v0.3")
    dash_duo = start_dash(fakeai.url, path=f"/jobs/{first['id']}")
    dash_duo.wait_for_element(row_selector(first["id"]) + ".ag-row-selected", timeout=15)
    dash_duo.wait_for_contains_text("#job-details", first["id"], timeout=10)

    dash_duo.find_element(row_selector(second["id"]) + " .job-cell").click()
    WebDriverWait(dash_duo.driver, 10).until(lambda d: d.current_url.endswith(f"/jobs/{second['id']}"))
    dash_duo.wait_for_element(row_selector(second["id"]) + ".ag-row-selected", timeout=10)
    dash_duo.wait_for_contains_text("#job-details", second["id"], timeout=10)
    assert dash_duo.get_logs() == []


def test_jobs005_auto_refresh_switch_stops_polling(fakeai, start_dash):
    dash_duo = start_dash(fakeai.url, refresh_interval=1.0)
    dash_duo.wait_for_element(ROWS, timeout=15)
    dash_duo.find_element("label[for='auto-refresh-switch']").click()
    WebDriverWait(dash_duo.driver, 5).until(
        lambda d: not d.find_element(By.ID, "auto-refresh-switch").is_selected())
    job = fakeai.create_job(suffix="no-poll")
    # With polling off the new job must not show up over several 1 s ticks…
    with pytest.raises(TimeoutException):
        wait_rows(dash_duo, lambda ids: job["id"] in ids, timeout=4)
    # …and the Refresh button still fetches on demand.
    dash_duo.find_element("#refresh-button").click()
    dash_duo.wait_for_element(row_selector(job["id"]), timeout=5)
    assert dash_duo.get_logs() == []


def test_jobs006_backend_down_shows_banner_and_keeps_data(private_fakeai, start_dash):
    job = private_fakeai.create_job()
    dash_duo = start_dash(private_fakeai.url)
    dash_duo.wait_for_element(row_selector(job["id"]), timeout=15)
    assert not dash_duo.driver.find_elements(By.CSS_SELECTOR, "#api-banner")

    private_fakeai.server.stop()
    dash_duo.wait_for_element("#api-banner", timeout=10)
    banner = dash_duo.find_element("#api-banner").text
    assert "Cannot reach the API" in banner and "Showing the data from" in banner
    assert "Traceback" not in dash_duo.driver.page_source
    # The last good data stays on screen while the API is down.
    assert job["id"] in visible_row_ids(dash_duo)

    private_fakeai.server.start()  # same port, fresh (empty) simulator
    fresh = private_fakeai.create_job(model="Qwen/Qwen2.5-7B-Instruct")
    dash_duo.wait_for_element(row_selector(fresh["id"]), timeout=10)
    dash_duo.wait_for_no_elements("#api-banner", timeout=10)
    assert dash_duo.get_logs() == []


def test_jobs007_embedded_backend_is_seeded(dash_duo, settings_for):
    """What `make run` shows: no API configured → an embedded, seeded FakeAI."""
    from fakeai_dash.app import create_app
    from fakeai_dash.embedded import EmbeddedFakeAI, free_port

    backend = EmbeddedFakeAI().start()
    try:
        backend.seed()
        app = create_app(settings_for(None), backend=backend)
        dash_duo.start_server(app, port=free_port())
        WebDriverWait(dash_duo.driver, 15).until(lambda _d: len(visible_row_ids(dash_duo)) >= 3)
        badges = dash_duo.driver.execute_script(
            "return [...document.querySelectorAll('#jobs-grid .status-badge')].map(b => b.className)")
        assert any("status-cancelled" in b for b in badges)
        assert any(s in b for b in badges for s in ("status-running", "status-queued", "status-validating_files"))
        models = dash_duo.driver.execute_script(
            "return [...document.querySelectorAll('#jobs-grid .job-cell-model span:first-child')].map(s => s.textContent)")
        assert len(set(models)) >= 3
        assert dash_duo.get_logs() == []
    finally:
        backend.stop()


def test_jobs008_empty_state_and_unknown_status(httpserver, start_dash):
    from tests.jobs_factory import openai_job

    httpserver.expect_oneshot_request("/v1/fine_tuning/jobs").respond_with_json(
        {"object": "list", "data": [], "has_more": False})
    dash_duo = start_dash(httpserver.url_for("").rstrip("/"), refresh_interval=1.0)
    dash_duo.wait_for_contains_text("#jobs-empty", "No fine-tuning jobs yet", timeout=15)

    # A status nobody documented yet is shown as it came, in a neutral badge.
    odd = {**openai_job(1), "status": "compacting_weights"}
    httpserver.expect_request("/v1/fine_tuning/jobs").respond_with_json(
        {"object": "list", "data": [odd], "has_more": False})
    dash_duo.wait_for_element(row_selector(odd["id"]), timeout=10)
    badge = dash_duo.find_element(row_selector(odd["id"]) + " .status-badge")
    assert badge.text == "compacting_weights" and "status-other" in badge.get_attribute("class")
    assert dash_duo.get_logs() == []
