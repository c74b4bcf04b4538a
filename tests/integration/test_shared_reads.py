"""Every open page of a live job asks for the same newest events after each change: the worker
decodes the kept log and builds the grid rows once per log state and shares them, and a new
event is a new state. Real parts: the scale simulator and a source whose sync loop runs."""

from __future__ import annotations

from fakeai_dash.components.events_log import PAGE_SIZE, shared_page_rows
from tests.integration.sync_support import detail_when, source_for  # noqa: F401 - a fixture
from tests.support.scale_sim import ScaleSimulator
from tests.support.waiting import wait_until


def test_shared001_one_log_state_is_decoded_once_and_a_new_event_is_seen(source_for):
    with ScaleSimulator(jobs=3, big=["300:live:done=40"]) as sim:
        job_id = sim.big_job_ids[0]
        source = source_for(sim.url)
        detail_when(source, job_id, lambda d: d.get("events"))
        first = source.events_page(job_id, None, PAGE_SIZE)
        again = source.events_page(job_id, None, PAGE_SIZE)
        assert again is first  # shared, not decoded again
        rows = shared_page_rows(first)
        assert shared_page_rows(again) is rows and rows[0]["id"] == first["events"][0]["id"]

        newest = first["events"][0]["id"]
        sim.advance(job_id, 1)
        later = wait_until(lambda: (lambda page: page if page["events"][0]["id"] != newest else None)(
            source.events_page(job_id, None, PAGE_SIZE)), 30, "the new event in the page")
        assert later is not first and [e["id"] for e in later["events"]][1:].count(newest) == 1
        assert shared_page_rows(later)[0]["id"] == later["events"][0]["id"]
