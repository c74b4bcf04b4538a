"""Graphs that mount late (plotly.js still loading) are drawn once they exist, without an error."""

from __future__ import annotations

import pytest

from fakeai_dash import ids
from tests.support.browser_support import LOAD_TICKS, ticks

pytestmark = pytest.mark.browser
TICK = 1.0
SLOW_SECONDS = 3
# plotly.js arriving SLOW_SECONDS late, as on a slow link or a busy machine: the job's data
# comes back first, while the graphs it is drawn into do not exist yet. (Wraps the loader
# assets/chart_loader.js installs, before the page's own scripts run.)
SLOW_PLOTLY = """
Object.defineProperty(window, "fakeaiDash", {configurable: true, get() { return undefined; }, set(value) {
    const load = value.loadPlotly;
    value.loadPlotly = () => load().then(p => new Promise(done => setTimeout(() => done(p), %d)));
    Object.defineProperty(window, "fakeaiDash", {value: value, writable: true, configurable: true});
}});
""" % (SLOW_SECONDS * 1000)


def test_lazy001_a_job_whose_graphs_mount_after_its_data_draws_them_without_an_error(fakeai, start_dash):
    job = fakeai.create_job()
    dash_duo = start_dash(fakeai.url, refresh_interval=TICK)
    dash_duo.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": SLOW_PLOTLY})
    dash_duo.driver.get(f"{dash_duo.server_url}/jobs/{job['id']}")
    dash_duo.wait_for_text_to_equal(f"#{ids.JobDetails.JOB_ID}", job["id"], timeout=ticks(LOAD_TICKS, TICK))
    dash_duo.wait_for_element(f"#{ids.TrainingProgress.LOSS} .main-svg", timeout=SLOW_SECONDS + ticks(LOAD_TICKS, TICK))
    # Drawn from the job's data, not left empty: the progress render ran once the graph existed.
    dash_duo.wait_for_element(f"#{ids.TrainingProgress.LOSS} .scatterlayer .trace", timeout=ticks(5, TICK))
    assert dash_duo.get_logs() == []  # no "nonexistent object was used in an Output"
