"""Browser tests of the JobsList, header and banner against a real FakeAI server."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

pytestmark = pytest.mark.browser


def grid_row(dash_duo, job_id):
    return dash_duo.find_element(f"#jobs-grid .ag-row[row-id='{job_id}']")


def visible_row_ids(dash_duo):
    rows = dash_duo.driver.find_elements(By.CSS_SELECTOR, "#jobs-grid .ag-center-cols-container .ag-row")
    return {row.get_attribute("row-id") for row in rows}


def test_jobs001_lists_jobs_with_status_badges(fakeai, start_dash):
    running = fakeai.create_job(suffix="badge-run")
    cancelled = fakeai.create_job(model="Qwen/Qwen2.5-7B-Instruct")
    fakeai.cancel_job(cancelled["id"])
    dash_duo = start_dash(fakeai.url)
    dash_duo.wait_for_element(f"#jobs-grid .ag-row[row-id='{cancelled['id']}']", timeout=15)
    badge = grid_row(dash_duo, cancelled["id"]).find_element(By.CSS_SELECTOR, ".status-badge")
    assert badge.text.lower() == "cancelled"
    assert "status-cancelled" in badge.get_attribute("class")
    row = grid_row(dash_duo, running["id"])
    assert "meta-llama/Llama-3.1-8B-Instruct" in row.text
    assert row.find_element(By.CSS_SELECTOR, ".status-badge").get_attribute("class").split()[-1] in (
        "status-validating_files", "status-queued", "status-running", "status-succeeded")
    assert dash_duo.get_logs() == []
