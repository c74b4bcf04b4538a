"""A new training step redraws only what moved: the detail fetch sends JobDetails.SUMMARY (the
job, checkpoints, alerts) only when it changed, so the header, actions, banners, hyperparameters
and checkpoint panels are not re-rendered — one request each per open page — on every step.

Real parts: the scale simulator (OpenAI-shaped, its finish estimate moving with every read), the
app with its sync loop, the fetch callback called in a request as Dash calls it."""

from __future__ import annotations

from dash import no_update
from dash._callback_context import context_value
from dash._utils import AttributeDict

from fakeai_dash import ids
from fakeai_dash.components import job_details
from fakeai_dash.data import current_source
from tests.support.scale_sim import ScaleSimulator
from tests.support.waiting import wait_until

TICK = f"{ids.Page.INTERVAL}.n_intervals"


def fetch(app, job_id, signature):
    token = context_value.set(AttributeDict(triggered_inputs=[{"prop_id": TICK, "value": 1}]))
    try:
        with app.server.test_request_context():
            return job_details.fetch_job_detail(1, job_id, None, None, signature)
    finally:
        context_value.reset(token)


def next_store(app, job_id, signature, condition, what):
    """The fetch's first answer whose store satisfies ``condition`` (the sync loop catches up)."""
    return wait_until(lambda: (lambda out: out if out[0] is not no_update and condition(out[0]) else None)(
        fetch(app, job_id, signature)), 30, what)


def steps_in(store):
    return max([(e.get("data") or {}).get("step") or 0 for e in store.get("events") or []], default=0)


def test_summary001_a_new_step_resends_the_store_but_not_the_summary(make_app):
    with ScaleSimulator(jobs=5, steps=100) as sim:
        live = sim.add_job(steps=100, status="running")
        sim.advance(live["id"], 3)
        app = make_app(sim.url, refresh_interval=0.5)
        store, signature, summary = next_store(app, live["id"], None, lambda s: steps_in(s) >= 3, "the first load")
        assert summary == job_details.summary_slice(store) and summary["job"]["status"] == "running"

        sim.advance(live["id"], 2)  # new events; the job's finish estimate moves too
        store, signature2, summary = next_store(app, live["id"], signature, lambda s: steps_in(s) >= 5,
                                                "the new steps")
        assert summary is no_update  # nothing a summary panel shows moved
        assert signature2["summary"] == signature["summary"]

        current_source_cancel(app, live["id"])
        store, _, summary = next_store(app, live["id"], signature2,
                                       lambda s: s["job"]["status"] != "running", "the cancelled status")
        assert summary is not no_update and summary["job"]["status"] == store["job"]["status"]


def current_source_cancel(app, job_id):
    with app.server.test_request_context():
        current_source().cancel_job(job_id)
