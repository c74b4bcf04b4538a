"""The jobs list with 10,000 jobs: every job loaded, only visible rows in the DOM, search works."""

from __future__ import annotations

import pytest

from tests.support.browser_support import ROWS, ticks, wait_until
from tests.support.jobs_factory import openai_job, serve_job_pages

pytestmark = pytest.mark.browser

# Long enough that no tick refetches during the test: the one load on opening is what is measured.
INTERVAL = 30.0


def test_scale001_ten_thousand_jobs_virtualised_and_searchable(httpserver, start_dash):
    jobs = [openai_job(i) for i in range(10_000)]
    serve_job_pages(httpserver, jobs)
    dash_duo = start_dash(httpserver.url_for("").rstrip("/"), refresh_interval=INTERVAL, read_timeout=30.0)
    # All 100 pages are read and drawn before the second tick would refetch them.
    dash_duo.wait_for_text_to_equal("#stat-total .stat-value", "10000", timeout=ticks(2, INTERVAL))
    dash_duo.wait_for_text_to_equal("#jobs-count", "(10,000)", timeout=ticks(1, INTERVAL))
    dash_duo.wait_for_element(ROWS, timeout=ticks(1, INTERVAL))
    rendered = dash_duo.driver.execute_script(f"return document.querySelectorAll({ROWS!r}).length")
    # Virtualised: a screenful of rows in the DOM, not ten thousand.
    assert 0 < rendered < 100
    dash_duo.find_element("#job-search").send_keys("ftjob-009876")
    # The search runs in the browser: no tick is involved, one is a generous bound.
    wait_until(lambda: dash_duo.driver.execute_script(
        f"return [...document.querySelectorAll({ROWS!r})].map(r => r.getAttribute('row-id'))") == ["ftjob-009876"],
        ticks(1, INTERVAL), "search for one job among 10,000")
    assert dash_duo.get_logs() == []
