"""One progress rule: the jobs list and the details tell the same progress for a running job."""

from __future__ import annotations

import pytest

from fakeai_dash import ids
from tests.support.browser_support import LOAD_TICKS, row_selector, ticks, wait_rows, wait_until
from tests.support.scale_sim import ScaleSimulator

pytestmark = pytest.mark.browser
TICK = 1.0


def list_label(dash_duo, job_id: str) -> str:
    cells = dash_duo.driver.find_elements("css selector", f"{row_selector(job_id)} .progress-cell .pct")
    return cells[0].text if cells else ""


def test_progress001_list_and_details_agree_by_steps_once_the_job_is_opened(start_dash):
    with ScaleSimulator(jobs=5, big=["400:live:done=100"]) as sim:
        job_id = sim.big_job_ids[0]
        # No background alert rounds: they would learn the job's steps before it is opened (and
        # did, in a loaded run: the first label read was already "by steps").
        dash_duo = start_dash(sim.url, refresh_interval=TICK, alert_active_jobs=0)
        wait_rows(dash_duo, lambda seen: job_id in seen, ticks(LOAD_TICKS, TICK), "the live job never showed")
        # Not opened yet: the list only has the API's expected finish, and says it is an estimate.
        estimate = wait_until(lambda: list_label(dash_duo, job_id), ticks(5, TICK), "no progress shown")
        assert estimate.startswith("~") and estimate.endswith("est.")

        dash_duo.find_element(f"{row_selector(job_id)} .ag-cell").click()
        dash_duo.wait_for_text_to_equal(f"#{ids.JobDetails.JOB_ID}", job_id, timeout=ticks(LOAD_TICKS, TICK))
        dash_duo.wait_for_contains_text(f"#{ids.TrainingProgress.BAR_TEXT}", "Step 100 / 400",
                                        timeout=ticks(LOAD_TICKS, TICK))
        wait_until(lambda: list_label(dash_duo, job_id) == "25%", ticks(5, TICK),
                   "the list never showed the details' 25%")
        sim.advance(job_id, 100)
        dash_duo.wait_for_contains_text(f"#{ids.TrainingProgress.BAR_TEXT}", "Step 200 / 400",
                                        timeout=ticks(10, TICK))
        wait_until(lambda: list_label(dash_duo, job_id) == "50%", ticks(5, TICK),
                   "the list did not follow the details to 50%")
        assert dash_duo.get_logs() == []
