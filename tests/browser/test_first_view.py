"""A job opened by its URL arrives drawn (server/first_view.py): a reload of a job's page
draws its charts from the page's own layout, in the browser's theme, before and without any
callback sending a figure; a theme switch still redraws them.

Real parts: the scale simulator (OpenAI-shaped) with a finished 300-step job, the app served by
werkzeug with its sync loop, headless Chromium."""

from __future__ import annotations

import json

import pytest

from fakeai_dash import ids
from fakeai_dash.theme import PALETTES
from tests.support.browser_support import LOAD_TICKS, prop, ticks, wait_until
from tests.load.capture import RECORDER
from tests.support.scale_sim import ScaleSimulator
from tests.support.theme_support import emulate_color_scheme, figure_paper, switch_theme

pytestmark = pytest.mark.browser
TICK = 1.0
LOSS, ACCURACY = ids.TrainingProgress.LOSS, ids.TrainingProgress.ACCURACY


def plotted(dash_duo, graph_id: str) -> bool:
    return bool(dash_duo.driver.execute_script(
        "const p = document.querySelector(`#${arguments[0]} .js-plotly-plot`);"
        "return !!(p && p.data && p.data.some(t => t.x && t.x.length));", graph_id))


def figure_requests(dash_duo) -> list[str]:
    """The callback requests the page sent since it loaded that asked for a chart's figure."""
    bodies = dash_duo.driver.execute_script("return (window.__loadCapture || []).map(r => r.body || '{}')")
    outputs = [json.loads(body).get("output") or "" for body in bodies]
    return [output for output in outputs if f"{LOSS}.figure" in output.strip(".").split("...")]


def test_firstb001_a_reloaded_jobs_page_draws_its_charts_from_the_page_in_its_theme(dash_duo, start_dash):
    with ScaleSimulator(jobs=5, big=["300:finished"]) as sim:
        job_id = sim.big_job_ids[0]
        emulate_color_scheme(dash_duo, "light")
        start_dash(sim.url, refresh_interval=TICK)
        # The first visit makes the sync loop fetch the job (nobody watched it before).
        dash_duo.driver.get(f"{dash_duo.server_url}/jobs/{job_id}")
        wait_until(lambda: plotted(dash_duo, LOSS), ticks(LOAD_TICKS, TICK), "the first visit's chart")
        # Settled: finished and its whole history in the picture (else a later fetch brings news,
        # and a redraw of the charts would be right, not a failure of the page's first view).
        wait_until(lambda: (prop(dash_duo, ids.JobDetails.SIGNATURE, "data") or {}).get("final"),
                   ticks(LOAD_TICKS, TICK), "the job's history never settled")

        # A reload (or a link, a bookmark): the job is in the picture, so the page brings it.
        dash_duo.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORDER})
        dash_duo.driver.refresh()
        wait_until(lambda: plotted(dash_duo, LOSS) and plotted(dash_duo, ACCURACY),
                   ticks(LOAD_TICKS, TICK), "the reloaded page's charts")
        dash_duo.wait_for_text_to_equal(f"#{ids.JobDetails.JOB_ID}", job_id, timeout=ticks(5, TICK))
        # Every step, from 1, in the browser's (light) theme, as the page's layout drew it.
        steps = dash_duo.driver.execute_script(
            "const p = document.querySelector('#loss-graph .js-plotly-plot');"
            "const raw = p.data.find(t => t.name === 'train_loss (raw)') || p.data.find(t => t.name === 'train_loss');"
            "return [raw.x[0], raw.x[raw.x.length - 1], raw.x.length];")
        assert steps == [1, 300, 300]
        assert figure_paper(dash_duo, LOSS) == PALETTES["light"]["surface-1"]
        # The page has settled (the events log, filled by the second round of callbacks, shows
        # the job's events), and no callback was ever asked for a figure.
        dash_duo.wait_for_element("#events-log-grid .ag-row", timeout=ticks(LOAD_TICKS, TICK))
        assert figure_requests(dash_duo) == []

        # A theme switch still redraws them, by the callback.
        switch_theme(dash_duo, "dark", TICK)
        wait_until(lambda: figure_paper(dash_duo, LOSS) == PALETTES["dark"]["surface-1"], ticks(5, TICK),
                   "the chart never turned dark")
        assert figure_requests(dash_duo)
        assert dash_duo.get_logs() == []
