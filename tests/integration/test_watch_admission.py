"""Admission of watched jobs on the real app (sync/interest.py): the "watch" rate limit counts the
jobs a user starts watching, not the ticks of an open page; the total cap; the push route admits
its members the same way; a remembered 404 gives way once the job is in the list.

The API is the scale simulator; the requests are those Dash's renderer sends.
"""

from __future__ import annotations

import re
import time

from fakeai_dash.data import EXTENSION_KEY
from fakeai_dash.sync import LIST
from fakeai_dash.sync.interest import NoSuchJob
from tests.deploy.test_private_data import detail_fetch
from tests.integration.test_auth_gate import OPERATOR, VIEWER, basic, basic_app, dependencies, sim, text_of  # noqa: F401
from tests.integration.sync_support import source_for  # noqa: F401 - a fixture
from tests.support.waiting import wait_until


def _fetcher(app):
    client = app.server.test_client()
    deps = dependencies(lambda p: client.get(p, headers=basic(VIEWER)))

    def fetch(job_id: str, user=VIEWER) -> str:
        answer = client.post("/_dash-update-component", json=detail_fetch(deps, job_id), headers=basic(user))
        assert answer.status_code in (200, 204)
        return text_of(answer.get_json()) if answer.status_code == 200 else ""

    return fetch


def test_watch001_ticks_of_an_open_page_spend_nothing_new_jobs_spend_the_watch_limit(basic_app, sim):
    app = basic_app(rate_limit_watch="3/minute")
    fetch = _fetcher(app)
    first, *others = sim.job_ids()[:4]
    for _ in range(8):  # a page open on one job, ticking
        wait_until(lambda: first in fetch(first), 30, "the first job")
    assert all(wait_until(lambda j=job: j in fetch(j), 30, job) for job in others[:2])
    refused = fetch(others[2])
    assert re.search(r"Too many jobs opened: the limit is 3 per minute\. Try again in \d+ s\.", refused)
    assert others[2] in fetch(others[2], OPERATOR)  # another user's budget is their own
    assert first in fetch(first)  # still watched: an open page is never refused


def test_watch002_past_the_total_cap_a_new_job_is_refused_with_a_message(basic_app, sim):
    app = basic_app(watch_max=2)
    fetch = _fetcher(app)
    jobs = sim.job_ids()[:3]
    for job in jobs[:2]:
        wait_until(lambda j=job: j in fetch(j), 30, job)
    refused = fetch(jobs[2], OPERATOR)
    assert "Not followed: the dashboard already follows 2 jobs, the most it may." in refused
    assert jobs[2] not in app.server.extensions[EXTENSION_KEY].store.members_since(
        app.server.extensions[EXTENSION_KEY].engine.keys.watch(), 0)


def test_watch003_a_push_stream_watches_only_admitted_jobs(basic_app, sim):
    app = basic_app(watch_unknown_per_user=2)
    source = app.server.extensions[EXTENSION_KEY]
    client = app.server.test_client()
    forged = [f"ftjob-made-up-{n}" for n in range(5)]
    answer = client.get(f"/_push?job={forged[0]}&compare={','.join(forged[1:])}", headers=basic(VIEWER),
                        buffered=False)
    try:
        chunks = answer.response
        next(chunks)  # retry
        hello = next(chunks)
    finally:
        answer.close()
    watched = source.store.members_since(source.engine.keys.watch(), 0)
    assert set(watched) - {LIST} == set(forged[:2]) and forged[0] in str(hello) and forged[2] not in str(hello)


def test_watch004_a_remembered_404_gives_way_once_the_job_is_in_the_list(source_for, sim):
    source = source_for(sim.url)
    job_id = sim.job_ids()[0]
    # As if the lookup had come a moment before the job existed at the API.
    source.store.set(source.keys.job(job_id), {"error": {"message": "no such job", "status": 404},
                                                 "at": time.time()})
    wait_until(lambda: source.jobs_snapshot().get("complete"), 30, "the jobs list")
    detail = wait_until(lambda: _detail(source, job_id), 30, "the job, looked up again")
    assert detail["job"]["id"] == job_id
    source.store.set(source.keys.job("ftjob-gone"), {"error": {"message": "gone", "status": 404}, "at": time.time()})
    try:
        source.job_detail("ftjob-gone")
    except NoSuchJob as error:
        assert str(error) == "No such job: the API knows no job ftjob-gone."
    else:
        raise AssertionError("a remembered 404 outside the list is answered at once")


def _detail(source, job_id):
    try:
        detail = source.job_detail(job_id)
    except Exception:  # noqa: BLE001 - NotReady while the list or the round is on its way
        return None
    return detail if detail.get("job") else None
