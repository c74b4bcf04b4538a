"""A cold job's URL arrives drawn (sync/cold.py): a job the picture does not hold yet is fetched
while its page's layout is built, once across concurrent pages, and only for ids the interest
caps admit; past the short deadline the page is the ordinary one and the fetch fills the picture.

Real parts: the scale simulator with 150 ms per API answer (above the deadline for the last
test), the app with its sync loop, Dash's layout route through Flask's test client.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time

from fakeai_dash import ids
from fakeai_dash.data import EXTENSION_KEY
from fakeai_dash.sync import cold
from tests.integration.test_auth_gate import OPERATOR, VIEWER, basic, write_users
from tests.integration.test_first_view import components
from tests.support.scale_sim import ScaleSimulator
from tests.support.waiting import wait_until

JOB_REQUESTS = ("job_retrieve", "checkpoints", "events")
LIVE = "3000:live:done=1500"  # a live job at step 1,500


def started(app):
    """The app after its first request (Dash registers its callbacks then: a first view needs
    them, and a page's concurrent first request could otherwise be served before they are)."""
    assert app.server.test_client().get("/_dash-layout").status_code == 200
    return app


def generous_deadline(app) -> None:
    """This test is about what is drawn and asked, on a machine that may be busy: test_cold003
    holds the deadline itself. (Without a cold fetch, as before sync/cold.py, nothing to set.)"""
    cold_fetch = getattr(app.server.extensions[EXTENSION_KEY], "cold", None)
    if cold_fetch is not None:
        cold_fetch.deadline_s = 3.0


def layout(app, job_id: str, headers: dict | None = None) -> dict[str, dict]:
    response = app.server.test_client().get(
        "/_dash-layout", headers={"Referer": f"http://localhost/jobs/{job_id}", **(headers or {})})
    assert response.status_code == 200
    return components(response.get_json())


def drawn_steps(page: dict[str, dict]) -> list[int] | None:
    figure = (page.get(ids.TrainingProgress.LOSS) or {}).get("figure") or {}
    raw = next((t for t in figure.get("data", []) if t.get("name") in ("train_loss (raw)", "train_loss")), None)
    return raw["x"] if raw and isinstance(raw["x"], list) else None


def round_done(app, job_id: str) -> bool:
    """The leader's own round of the job has run (after the cold fetch let it through)."""
    engine = app.server.extensions[EXTENSION_KEY].engine
    running = engine._running.get(job_id)
    return running is not None and running.done()


def test_cold001_a_cold_jobs_url_arrives_drawn_and_the_api_sees_each_request_once(make_app):
    with ScaleSimulator(jobs=3000, big=["300:finished", LIVE], latency=0.15) as sim:
        app = started(make_app(sim.url))
        generous_deadline(app)
        finished, live = sim.big_job_ids
        sim.reset_stats()
        pages: list[dict] = []
        # Two pages open the same link at once: one fetch, both drawn.
        # (Each in this thread's context: dash.get_app() finds the app there, as in a served worker.)
        threads = [threading.Thread(target=contextvars.copy_context().run,
                                    args=(lambda: pages.append(layout(app, finished)),)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for page in pages:
            assert page[ids.JobDetails.SELECTED]["data"] == finished
            assert page[ids.JobDetails.STORE]["data"]["job"]["status"] == "succeeded"
            assert page[ids.JobDetails.BODY]["style"] == {}
            assert page[ids.JobDetails.JOB_ID]["children"] == finished
            assert page[ids.Checkpoints.COUNT]["children"] == "(4)"
            steps = drawn_steps(page)
            assert steps is not None and steps[0] == 1 and steps[-1] == 300 and len(steps) == 300
        # The leader's round after it finds the job final: no second request.
        wait_until(lambda: round_done(app, finished), 30, "the leader's round of the job")
        by_job = sim.stats()["by_job"][finished]
        assert {kind: by_job.get(kind) for kind in JOB_REQUESTS} == dict.fromkeys(JOB_REQUESTS, 1)
        assert sim.stats()["by_kind"]["file_content"] == 1

        # A live job with 1,500 steps: drawn from its newest events page (the leader's round read
        # every older page first, 2 s at this latency); the sync loop then loads the rest from there.
        page = layout(app, live)
        assert page[ids.JobDetails.STORE]["data"]["job"]["status"] == "running"
        steps = drawn_steps(page)
        assert steps is not None and steps[-1] == 1500
        source = app.server.extensions[EXTENSION_KEY]
        wait_until(lambda: source.history_loaded(live) >= 1.0, 60, "the live job's whole history")
        history = source.metric_history(live)
        assert history.steps[0] == 1 and history.last_step == 1500 and len(history) == 1500


def test_cold002_a_refused_or_unknown_id_gets_the_ordinary_page_and_costs_no_request(make_app, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    with ScaleSimulator(jobs=20, big=[LIVE, "300:finished"], latency=0.15) as sim:
        app = make_app(sim.url, auth="basic", users_file=write_users(tmp_path / "users.json"),
                       data_dir=str(tmp_path / "data"), rate_limit_watch="1/minute")
        assert app.server.test_client().get("/_dash-layout", headers=basic(VIEWER)).status_code == 200
        generous_deadline(app)
        first, second = sim.big_job_ids
        assert (drawn_steps(layout(app, first, basic(VIEWER))) or [None])[-1] == 1500  # the one job allowed
        sim.reset_stats()
        refused = layout(app, second, basic(VIEWER))  # over the user's "watch" limit
        assert refused[ids.JobDetails.SELECTED].get("data") is None
        assert refused[ids.JobDetails.BODY]["style"] == {"display": "none"}
        assert second not in sim.stats()["by_job"]  # refused before any request
        unknown = "ftjob-" + "0" * 24
        page = layout(app, unknown, basic(OPERATOR))  # admitted (another user), then the API's 404
        assert page[ids.JobDetails.SELECTED].get("data") is None and ids.TrainingProgress.LOSS not in page
        assert sim.stats()["by_job"][unknown]["job_retrieve"] == 1
        assert layout(app, unknown, basic(OPERATOR))[ids.JobDetails.SELECTED].get("data") is None
        assert sim.stats()["by_job"][unknown]["job_retrieve"] == 1  # the 404 is remembered
    assert not [record for record in caplog.records if record.exc_info]  # no traceback


def test_cold003_past_the_deadline_the_page_is_the_ordinary_one_and_the_fetch_fills_the_picture(make_app):
    with ScaleSimulator(jobs=20, big=["300:finished"], latency=0.6) as sim:  # one answer > the deadline
        app = started(make_app(sim.url))
        job_id = sim.big_job_ids[0]
        began = time.monotonic()
        page = layout(app, job_id)
        assert time.monotonic() - began < cold.DEADLINE_S + 0.6  # not the 1.8 s+ the fetch takes
        assert page[ids.JobDetails.SELECTED].get("data") is None and ids.TrainingProgress.LOSS not in page
        # The fetch went on: the picture fills, and the next page of the job arrives drawn.
        wait_until(lambda: drawn_steps(layout(app, job_id)), 30, "the job drawn after the deadline")
        wait_until(lambda: round_done(app, job_id), 30, "the leader's round of the job")
        by_job = sim.stats()["by_job"][job_id]
        assert {kind: by_job.get(kind) for kind in JOB_REQUESTS} == dict.fromkeys(JOB_REQUESTS, 1)
