"""A light first visit, in headless Chromium: the list comes with the first callbacks, plotly.js only with a chart."""

from __future__ import annotations

import pytest

from fakeai_dash import ids
from tests.support.browser_support import LOAD_TICKS, prop, row_selector, ticks, wait_rows, wait_until

pytestmark = pytest.mark.browser

TICK = 1.0
# What fetching plotly.js leaves in the page: dcc.Graph's loader adds a <script> for it (and
# for its own chunk) when a Graph mounts, before either has arrived.
PLOTLY_REQUESTED = """
    const fetched = performance.getEntriesByType("resource").map(e => e.name);
    const added = [...document.scripts].map(s => s.src);
    return [...fetched, ...added].filter(url => /plotly[^/]*\\.js|async-graph/.test(url));
"""


def test_first_visit010_jobs_list_arrives_without_an_interval_tick(fakeai, start_dash):
    job = fakeai.create_job()
    # An hour between ticks: the rows can only come from the page's first callbacks.
    interval = 3600.0
    dash_duo = start_dash(fakeai.url, refresh_interval=interval)
    dash_duo.wait_for_element(row_selector(job["id"]), timeout=interval / 100)
    assert dash_duo.get_logs() == []


# A mounted dcc.Graph fetches plotly.js even while hidden: the details' graphs mount only when
# a job is shown (components/lazy_graphs.py).
def test_first_visit011_plotly_loads_only_once_a_job_with_charts_is_shown(fakeai, start_dash):
    job = fakeai.create_job()
    dash_duo = start_dash(fakeai.url, refresh_interval=TICK)
    wait_rows(dash_duo, lambda seen: job["id"] in seen, ticks(LOAD_TICKS, TICK), "the job never showed")
    # Three refresh ticks on the list page: nothing there may pull plotly.js in. (Counted on the
    # page's clock: while updates are pushed the refresh Interval itself is off.)
    wait_until(lambda: (prop(dash_duo, ids.Push.CLOCK, "n_intervals") or 0) >= 3, ticks(6, TICK),
               "three refresh ticks")
    assert dash_duo.driver.execute_script(PLOTLY_REQUESTED) == []
    assert dash_duo.driver.execute_script("return typeof window.Plotly") == "undefined"

    dash_duo.find_element(f"{row_selector(job['id'])} .ag-cell").click()
    wait_until(lambda: dash_duo.driver.execute_script("return typeof window.Plotly") == "object",
               ticks(LOAD_TICKS, TICK), "plotly.js never loaded for the job's charts")
    dash_duo.wait_for_element(f"#{ids.TrainingProgress.LOSS} .main-svg", timeout=ticks(LOAD_TICKS, TICK))
    assert dash_duo.driver.execute_script(PLOTLY_REQUESTED)
    assert not full_bundle_requested(dash_duo)
    assert dash_duo.get_logs() == []


def full_bundle_requested(dash_duo) -> list[str]:
    return [url for url in dash_duo.driver.execute_script(PLOTLY_REQUESTED) if "plotly.min.js" in url]


# A job's own URL starts fetching plotly.js with the page, not after Dash's first callbacks, and
# only the basic bundle (assets/chart_loader.js), 1.2 MB against the full bundle's 4.8 MB.
def test_first_visit012_a_jobs_url_draws_its_chart_with_the_basic_plotly_bundle(fakeai, start_dash):
    job = fakeai.create_job()
    dash_duo = start_dash(fakeai.url, path=f"/jobs/{job['id']}", refresh_interval=TICK)
    dash_duo.wait_for_element(f"#{ids.TrainingProgress.LOSS} .main-svg", timeout=ticks(LOAD_TICKS, TICK))
    requested = dash_duo.driver.execute_script(PLOTLY_REQUESTED)
    assert any("vendor/plotly-basic.min.js" in url for url in requested), requested
    assert not full_bundle_requested(dash_duo)
    # Fetched as the page started, with Dash's own scripts: before the renderer's script had even
    # arrived (the layout, too, now leaves with the page: server/preload.py, tests/browser/test_first_list.py).
    started = dash_duo.driver.execute_script("""
        const entry = name => performance.getEntriesByType("resource").find(e => e.name.includes(name));
        return [entry("plotly-basic.min.js").startTime, entry("dash_renderer").responseEnd];""")
    assert started[0] < started[1], started
    assert dash_duo.get_logs() == []
