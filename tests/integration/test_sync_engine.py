"""The data engine on a scale simulator: reads never touch the API, the leader keeps the picture
current incrementally, histories are complete, and the API is quiet when nobody watches."""

from __future__ import annotations

import threading
import time

import numpy as np

from fakeai_dash.sync import NotReady
from fakeai_dash.sync import job_sync as job_sync_module
from fakeai_dash.sync import list_sync as list_sync_module
from tests.integration.sync_support import REFRESH, detail_when, source_for  # noqa: F401 - a fixture
from tests.support.scale_sim import ScaleSimulator
from tests.support.waiting import observe, wait_until


def kinds(sim: ScaleSimulator) -> dict[str, int]:
    return sim.stats()["by_kind"]


def snapshot_when(source, condition, timeout=20.0):
    def ready():
        try:
            snapshot = source.jobs_snapshot()
        except NotReady:
            return None
        return snapshot if condition(snapshot) else None

    return wait_until(ready, timeout, "the jobs picture")


def test_sync001_first_visit_shows_the_newest_page_then_the_whole_list(source_for):
    with ScaleSimulator(jobs=3000, latency=0.05) as sim:
        source = source_for(sim.url)
        first = snapshot_when(source, lambda s: len(s["rows"]) > 0)
        # The newest jobs first, before the 30 pages of the whole list have been read.
        assert [row["id"] for row in first["rows"][:100]] == sim.job_ids()[:100]
        whole = snapshot_when(source, lambda s: s["complete"])
        ids = [row["id"] for row in whole["rows"]]
        assert ids == sim.job_ids()  # every job, once, newest first
        assert len(set(ids)) == 3000


def test_sync002_many_readers_cost_the_api_one_round_per_interval(source_for):
    with ScaleSimulator(jobs=500, running_jobs=3) as sim:
        # The list's own cost: no background rounds for alerts (test_sync030 counts those).
        source = source_for(sim.url, alert_active_jobs=0)
        snapshot_when(source, lambda s: s["complete"])
        sim.reset_stats()
        stop = threading.Event()
        reads = []

        def viewer():
            while not stop.is_set():
                reads.append(source.jobs_snapshot()["signature"])
                stop.wait(0.02)

        viewers = [threading.Thread(target=viewer) for _ in range(20)]
        for thread in viewers:
            thread.start()
        observe(6 * REFRESH)  # the window in which requests are counted
        stop.set()
        for thread in viewers:
            thread.join(5)
        counts = kinds(sim)
        rounds = 6 + 2  # rounds in the window, plus one at each edge
        assert len(reads) > 500
        # A steady round reads the newest page and re-checks the 3 running jobs: nothing per reader.
        assert 1 <= counts["jobs_list"] <= rounds
        assert counts["job_retrieve"] <= 3 * rounds
        assert sim.stats()["total"] == counts["jobs_list"] + counts["job_retrieve"]


def test_sync003_nobody_watching_means_no_requests(source_for):
    with ScaleSimulator(jobs=50, running_jobs=2) as sim:
        source = source_for(sim.url)
        source.engine.interest_ttl = 1.0
        snapshot_when(source, lambda s: s["complete"])
        # The last viewer leaves: after the interest lifetime and any round in flight, silence.
        wait_until(lambda: not any(not f.done() for f in source.engine._running.values()), 10, "rounds to end")
        observe(source.engine.interest_ttl + REFRESH)
        sim.reset_stats()
        observe(4 * REFRESH)
        assert sim.stats()["total"] == 0
        # A viewer coming back wakes it up.
        snapshot_when(source, lambda s: True)
        wait_until(lambda: sim.stats()["total"] > 0, 10, "the sync loop to poll again")


def test_sync004_new_jobs_and_active_jobs_off_the_newest_page_are_kept_current(source_for):
    with ScaleSimulator(jobs=400, running_jobs=0) as sim:
        source = source_for(sim.url)
        snapshot_when(source, lambda s: s["complete"])
        live = sim.add_job(steps=50, status="running")
        for _ in range(150):  # push the live job off the newest page
            sim.add_job(steps=10)
        snapshot_when(source, lambda s: any(r["id"] == live["id"] for r in s["rows"]))
        sim.advance(live["id"], 50)  # it finishes, 150 jobs below the top
        done = snapshot_when(source, lambda s: next(r for r in s["rows"] if r["id"] == live["id"])["status"]
                             == "succeeded")
        assert len({r["id"] for r in done["rows"]}) == len(done["rows"]) == 551


def test_sync005_a_full_reconcile_drops_deleted_jobs(source_for, monkeypatch):
    monkeypatch.setattr(list_sync_module, "RECONCILE_S", 2 * REFRESH)
    with ScaleSimulator(jobs=250) as sim:
        source = source_for(sim.url)
        snapshot_when(source, lambda s: s["complete"])
        victim = sim.job_ids()[200]  # not on the newest page, not active: only a full walk sees it go
        sim.delete_job(victim)
        snapshot_when(source, lambda s: all(r["id"] != victim for r in s["rows"]))


def test_sync006_a_finished_job_history_comes_from_its_result_file(source_for):
    with ScaleSimulator(jobs=5, big=["20000:finished:spike=10000"]) as sim:
        job_id = sim.big_job_ids[0]
        source = source_for(sim.url)
        detail = detail_when(source, job_id, lambda d: d["history"]["loaded"] >= 1.0)
        history = source.metric_history(job_id)
        steps, _, loss = history.series("train_loss")
        assert steps[0] == 1 and steps[-1] == 20000 and len(steps) == 20000  # every step, from 1
        spike = loss[steps == 10000][0]
        neighbours = loss[(steps >= 9990) & (steps < 10000)]
        assert spike > 3 * neighbours.max()
        assert kinds(sim)["file_content"] == 1
        assert sim.stats()["by_job"][job_id]["events"] == 1  # the newest page for the log, not 200 pages
        assert detail["final"]
        # Finished and complete: later rounds send nothing for it.
        before = dict(sim.stats()["by_job"][job_id])
        observe(3 * REFRESH)
        source.job_detail(job_id)
        assert dict(sim.stats()["by_job"][job_id]) == before


def test_sync007_a_live_job_backfills_then_fetches_only_new_events(source_for):
    with ScaleSimulator(jobs=3, big=["100000:live:done=4000"]) as sim:
        job_id = sim.big_job_ids[0]
        source = source_for(sim.url)
        first = detail_when(source, job_id, lambda d: True)
        assert first["history"]["loaded"] < 1.0  # 40+ pages: it loads over several rounds
        detail_when(source, job_id, lambda d: d["history"]["loaded"] >= 1.0)
        history = source.metric_history(job_id)
        assert np.array_equal(history.series("train_loss")[0], np.arange(1, 4001))
        sim.reset_stats()
        sim.advance(job_id, 30)
        detail_when(source, job_id, lambda d: d["history"]["points"] >= 4030)
        assert np.array_equal(source.metric_history(job_id).series("train_loss")[0], np.arange(1, 4031))
        events_requests = sim.stats()["by_job"][job_id]["events"]
        rounds = sim.stats()["by_job"][job_id]["job_retrieve"]
        assert events_requests <= rounds  # one newest page per round: only what is new


def test_sync008_forced_refreshes_are_bounded(source_for):
    with ScaleSimulator(jobs=50) as sim:
        source = source_for(sim.url, refresh_interval=30.0)
        snapshot_when(source, lambda s: s["complete"])
        sim.reset_stats()
        for _ in range(200):  # a forged "Refresh" storm
            source.refresh_list()
        wait_until(lambda: sim.stats()["by_kind"]["jobs_list"] >= 1, 10, "one forced round")
        observe(1.5)  # within the 2 s floor, no second round
        assert sim.stats()["by_kind"]["jobs_list"] == 1


def test_sync009_a_stalled_api_keeps_the_picture_and_says_how_long_it_has_been_silent(source_for):
    with ScaleSimulator(jobs=20) as sim:
        source = source_for(sim.url)
        good = snapshot_when(source, lambda s: s["complete"])
        sim.set_stall(60)
        try:
            problem = wait_until(source.problem, 30, "the silence to be reported")
            assert "has not answered for" in problem.message
            assert source.jobs_snapshot()["rows"] == good["rows"]  # the last good data stays
        finally:
            sim.set_stall(0)
        wait_until(lambda: source.problem() is None, 30, "the API to be heard again")


def test_sync010_duplicates_across_pages_are_listed_once(source_for, httpserver):
    from tests.support.jobs_factory import openai_job

    jobs = [openai_job(i) for i in range(150)]
    first, second = jobs[:100], [jobs[99], *jobs[100:]]  # a job slid across the page boundary
    httpserver.expect_request("/v1/fine_tuning/jobs", query_string={"limit": "100"}).respond_with_json(
        {"object": "list", "data": first, "has_more": True})
    httpserver.expect_request("/v1/fine_tuning/jobs").respond_with_json(
        {"object": "list", "data": second, "has_more": False})
    source = source_for(httpserver.url_for("").rstrip("/"))
    snapshot = snapshot_when(source, lambda s: s["complete"])
    ids = [row["id"] for row in snapshot["rows"]]
    assert len(ids) == len(set(ids)) == 150


def test_sync011_kept_histories_are_bounded_least_recently_synced_first(source_for, monkeypatch):
    monkeypatch.setattr(job_sync_module, "KEPT_JOBS", 2)
    with ScaleSimulator(jobs=3, big=["300:finished", "300:finished", "300:finished"]) as sim:
        source = source_for(sim.url)
        source.engine.interest_ttl = 1.0
        first, second, third = sim.big_job_ids
        for job_id in (first, second):
            detail_when(source, job_id, lambda d: d["final"])
        # Nobody watches the first any more (a watched job is never evicted); the third comes in.
        watch = source.keys.watch()
        wait_until(lambda: first not in source.store.members_since(watch, time.time() - 1.0),
                   10, "the first job's viewers to leave")
        detail_when(source, third, lambda d: d["final"])
        wait_until(lambda: source.store.get(source.keys.series(first)) is None, 10, "the oldest to go")
        assert source.metric_history(second) is not None and source.metric_history(third) is not None
        # Opened again, it is fetched again: nothing is lost but one request.
        assert len(detail_when(source, first, lambda d: d["final"])["events"]) > 0


def test_sync012_the_list_knows_the_steps_of_an_opened_job(source_for):
    with ScaleSimulator(jobs=10, big=["1000:live:done=250"]) as sim:
        job_id = sim.big_job_ids[0]
        source = source_for(sim.url)
        snapshot_when(source, lambda s: s["complete"])
        assert "step" not in source.progress()[job_id]  # nobody opened it: the list can only estimate

        def steps():
            live = source.progress().get(job_id, {})
            return live.get("step"), live.get("total_steps"), live.get("percent")

        detail = detail_when(source, job_id, lambda d: d["progress"]["step"] == 250)
        assert detail["progress"] == {"step": 250, "total_steps": 1000, "percent": 25}
        wait_until(lambda: steps() == (250, 1000, 25), 10, "the list to learn the steps")
        sim.advance(job_id, 100)
        wait_until(lambda: steps() == (350, 1000, 35), 10, "the list to follow")


def test_sync013_the_events_log_pages_past_the_kept_window_with_one_request(source_for):
    with ScaleSimulator(jobs=3, big=["20000:finished"]) as sim:
        job_id = sim.big_job_ids[0]
        source = source_for(sim.url)
        detail_when(source, job_id, lambda d: d["final"])  # its curve came from the result file
        newest = source.events_page(job_id, limit=100)
        assert len(newest["events"]) == 100 and newest["has_older"]
        before = sim.stats()["by_job"][job_id]["events"]
        older = source.events_page(job_id, before=newest["events"][-1]["id"], limit=100)
        ids = [e["id"] for e in newest["events"] + older["events"]]
        assert len(ids) == len(set(ids)) == 200 and older["has_older"]
        assert sim.stats()["by_job"][job_id]["events"] == before + 1  # one page, one request


def test_sync014_a_live_jobs_moving_estimate_does_not_resend_the_list(source_for):
    with ScaleSimulator(jobs=200, big=["1000:live:done=100"]) as sim:
        job_id = sim.big_job_ids[0]
        source = source_for(sim.url)
        before = snapshot_when(source, lambda s: s["complete"])
        estimate = source.progress()[job_id]["estimated_finish"]
        sim.advance(job_id, 200)  # the API's expected finish moves with every step
        wait_until(lambda: source.progress()[job_id]["estimated_finish"] != estimate, 10, "the live update")
        assert source.signature() == before["signature"]  # quiet ticks stay quiet: no 200-row resend
        sim.add_job(steps=10)  # a real change still changes the signature
        snapshot_when(source, lambda s: s["signature"] != before["signature"])
