"""Alerts in the sync loop, on the scale simulator: computed where the curves are updated, kept
in the picture, no false alarm on long noisy runs, and a bounded background cost for running
jobs nobody opened."""

from __future__ import annotations


from fakeai_dash.sync import NotReady
from tests.integration.sync_support import REFRESH, detail_when, source_for  # noqa: F401 - a fixture
from tests.support.scale_sim import ScaleSimulator
from tests.support.waiting import observe, wait_until


def test_alertsync001_long_noisy_runs_with_a_one_step_spike_raise_no_alert(source_for):
    # 12% noise on every step, a ×5 spike at one step, validation every 10 steps: healthy runs.
    with ScaleSimulator(jobs=3, big=["20000:finished:spike=10000", "3000:finished"]) as sim:
        source = source_for(sim.url, alert_active_jobs=0)
        for job_id in sim.big_job_ids:
            detail = detail_when(source, job_id, lambda d: d["history"]["loaded"] >= 1.0)
            assert detail["alerts"] == []
        assert source.alerts() == {}
        # The control: the same curves, with a rise of 1% over 2 points counted as divergence,
        # do raise it (so the rules did run on these histories, from the settings).
        touchy = source_for(sim.url, alert_active_jobs=0, alert_divergence_rise=0.01, alert_divergence_window=2)
        kinds = {job_id: [a["kind"] for a in detail_when(touchy, job_id, lambda d: d["history"]["loaded"] >= 1.0)
                          ["alerts"]] for job_id in sim.big_job_ids}
        assert "divergence" in kinds[sim.big_job_ids[0]] or "divergence" in kinds[sim.big_job_ids[1]]


def test_alertsync002_a_job_over_its_budget_gets_the_alert_in_its_entry_and_in_the_map(source_for):
    with ScaleSimulator(jobs=3, big=["3000:finished"]) as sim:
        job_id = sim.big_job_ids[0]
        # The simulator's jobs train tokens worth a few dollars; a one-cent budget is passed.
        source = source_for(sim.url, alert_active_jobs=0, budget_per_job_usd=0.01)
        detail = detail_when(source, job_id, lambda d: d.get("alerts"))
        assert [a["kind"] for a in detail["alerts"]] == ["budget"]
        assert "over its budget of $0.01" in detail["alerts"][0]["message"]
        assert [a["kind"] for a in source.alerts()[job_id]] == ["budget"]


def test_alertsync003_running_jobs_nobody_opened_are_followed_up_to_the_cap(source_for):
    with ScaleSimulator(jobs=40, running_jobs=10) as sim:
        source = source_for(sim.url, alert_active_jobs=3, alert_active_interval=1.0, budget_per_job_usd=0.0001)
        wait_until(lambda: _watch_list(source) and len(source.alerts()) >= 3, 20, "three jobs' alerts")
        observe(4 * REFRESH)
        _watch_list(source)
        followed = {job_id for job_id, counts in sim.stats()["by_job"].items() if counts.get("events")}
        assert len(followed) == 3  # the cap: 7 other running jobs cost no event or checkpoint request
        assert set(source.alerts()) == followed


def _watch_list(source) -> bool:
    try:
        source.jobs_snapshot()
    except NotReady:
        return False
    return True
