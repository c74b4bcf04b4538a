"""The jobs list with 10,000 jobs: every job loaded, only visible rows in the DOM, search works."""

from __future__ import annotations

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from tests.jobs_factory import openai_job, serve_job_pages

pytestmark = pytest.mark.browser

ROWS = "#jobs-grid .ag-center-cols-container .ag-row"


def test_scale001_ten_thousand_jobs_virtualised_and_searchable(httpserver, start_dash):
    jobs = [openai_job(i) for i in range(10_000)]
    serve_job_pages(httpserver, jobs)
    dash_duo = start_dash(httpserver.url_for("").rstrip("/"), refresh_interval=30.0, read_timeout=30.0)
    dash_duo.wait_for_text_to_equal("#stat-total .stat-value", "10000", timeout=60)
    dash_duo.wait_for_text_to_equal("#jobs-count", "(10,000)", timeout=10)
    dash_duo.wait_for_element(ROWS, timeout=20)
    rendered = dash_duo.driver.execute_script(f"return document.querySelectorAll({ROWS!r}).length")
    # Virtualised: a screenful of rows in the DOM, not ten thousand.
    assert 0 < rendered < 100
    dash_duo.find_element("#job-search").send_keys("ftjob-009876")
    WebDriverWait(dash_duo.driver, 10).until(lambda d: d.execute_script(
        f"return [...document.querySelectorAll({ROWS!r})].map(r => r.getAttribute('row-id'))") == ["ftjob-009876"])
    assert dash_duo.get_logs() == []
