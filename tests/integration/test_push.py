"""Push updates, server side: the sync loop announces changes, every worker's feed hears them
(local store or Redis pub/sub), and each page's stream carries only the members it shows."""

from __future__ import annotations

import queue
import threading
import time

import pytest

from fakeai_dash.api.client import client_from_settings
from fakeai_dash.config import Settings
from fakeai_dash.server.push_stream import MAX_STREAMS_ENV, REQUEST_THREADS_ENV, members_asked, stream, versions_seen
from fakeai_dash.sync import LIST, build_source
from fakeai_dash.sync.changes import announce
from fakeai_dash.sync.list_sync import LIST_PROGRESS, publish_list
from tests.integration.sync_support import source_for  # noqa: F401 - a fixture
from tests.integration.test_auth_gate import OPERATOR, basic, write_users
from tests.load.sse import parse
from tests.support.redis_server import running_redis
from tests.support.scale_sim import ScaleSimulator
from tests.support.waiting import observe, wait_until

JOB_A, JOB_B = "ftjob-aaa", "ftjob-bbb"


class Reader:
    """A push stream read on a thread of its own, its events in a queue (as a page receives them)."""

    def __init__(self, source, members, seen=None):
        self.events: queue.Queue = queue.Queue()
        source.feed.open_stream()
        self.generator = stream(source.feed, source.engine, members, seen or {}, keepalive_s=0.2)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for event in parse(self.generator):
            if event is not None and event.event != "ping":  # keep-alives
                self.events.put(event)

    def take(self, count: int, timeout: float = 5.0) -> list:
        return [self.events.get(timeout=timeout) for _ in range(count)]

    def changes_seen(self) -> list[str]:
        seen = []
        while not self.events.empty():
            event = self.events.get_nowait()
            if event.event == "change":
                seen.append(event.data["member"])
        return seen


def test_push001_a_stream_carries_only_its_own_members(source_for):
    source = source_for(start=False)
    reader = Reader(source, [LIST, JOB_A])
    hello, *first = reader.take(4)
    # The list comes with its live fields, a member of their own (the page fetches them apart).
    assert hello.event == "hello" and hello.data == {"versions": {LIST: 0, JOB_A: 0, LIST_PROGRESS: 0}}
    # A first connection resyncs everything it shows.
    assert sorted(e.data["member"] for e in first) == sorted([LIST, JOB_A, LIST_PROGRESS])
    announce(source.store, source.engine.keys, JOB_B)  # another page's job: not for this one
    announce(source.store, source.engine.keys, JOB_A)
    change = reader.take(1)[0]
    assert change.event == "change" and change.data["member"] == JOB_A
    announce(source.store, source.engine.keys, LIST)
    assert reader.take(1)[0].data["member"] == LIST
    observe(0.5)  # pings only from here: JOB_B never reaches this page
    assert reader.changes_seen() == []
    source.feed.close()
    reader.thread.join(timeout=5)
    assert not reader.thread.is_alive(), "closing the feed (the worker stops) ends its streams"


def test_push002_a_page_that_reconnects_hears_only_what_it_missed(source_for):
    source = source_for(start=False)
    key = source.engine.keys
    for member in (LIST, JOB_A, JOB_B):
        announce(source.store, key, member)
    versions = source.store.versions(key.changes())
    seen = {LIST: versions[LIST], JOB_A: versions[JOB_A], LIST_PROGRESS: versions.get(LIST_PROGRESS, 0)}
    announce(source.store, key, JOB_A)  # while the page was away
    reader = Reader(source, [LIST, JOB_A], seen)
    hello, change = reader.take(2)
    assert hello.event == "hello" and change.data == {"member": JOB_A, "version": versions[JOB_A] + 2}
    observe(0.5)
    assert reader.changes_seen() == [], "what the page had already seen is not sent again"
    source.feed.close()


def test_push003_request_parsing_is_bounded_and_checks_ids():
    args = {"job": JOB_A, "compare": ",".join([JOB_B, "../etc", JOB_A, "x" * 300] + [f"ftjob-{i}" for i in range(20)])}
    members = members_asked(args)
    assert members[:3] == [LIST, JOB_A, JOB_B]
    assert "../etc" not in members and all(len(m) <= 128 for m in members) and len(members) <= 2 + 8
    assert versions_seen(f"{JOB_A}:7,list:3,ftjob-other:9,bad,list:x", members) == {JOB_A: 7, LIST: 3}


def test_push004_list_and_job_rounds_announce_only_real_changes(source_for):
    source = source_for(start=False)
    key, store = source.engine.keys, source.store
    rows = [{"id": JOB_A, "status": "running", "created_at": 1, "model": "m"}]
    publish_list(store, key, rows, True, 1.0)
    first = store.versions(key.changes()).get(LIST)
    publish_list(store, key, rows, True, 2.0)  # same rows, a later fetch: nothing to push
    assert store.versions(key.changes()).get(LIST) == first
    # A running job's moving fields announce only the list's live fields: a page re-running the
    # rows' fetch for each step had the answer carrying a new row dropped by the next re-run.
    progress_before = store.versions(key.changes()).get(LIST_PROGRESS)
    publish_list(store, key, [{**rows[0], "trained_tokens": 1000, "estimated_finish": 99}], True, 2.5)
    versions = store.versions(key.changes())
    assert versions.get(LIST) == first and versions[LIST_PROGRESS] > (progress_before or 0)
    publish_list(store, key, [{**rows[0], "status": "succeeded"}], True, 3.0)
    assert store.versions(key.changes())[LIST] > first


def test_push005_workers_hear_each_other_through_redis_pub_sub(tmp_path):
    with running_redis() as url:
        settings = Settings(_env_file=None, api_base="http://127.0.0.1:9", cache_url=url, refresh_interval=0.5)
        leader = build_source(settings, client_from_settings(settings))
        other = build_source(settings, client_from_settings(settings))  # another worker (or instance)
        try:
            announce(leader.store, leader.engine.keys, JOB_A)  # before the other worker subscribed
            reader = Reader(other, [LIST, JOB_A])
            hello = reader.take(1)[0]
            assert hello.data["versions"][JOB_A] >= 1, "a new subscriber reads the versions announced before"
            reader.take(3)  # the first connection's resync (the list, its live fields, the job)
            announce(leader.store, leader.engine.keys, JOB_A)
            change = reader.take(1)[0]
            assert change.data["member"] == JOB_A and change.data["version"] == hello.data["versions"][JOB_A] + 1
        finally:
            other.close()
            leader.close()


def test_push006_the_fast_lane_reads_new_events_of_a_job_a_live_page_shows(source_for):
    with ScaleSimulator(jobs=5, big=["5000:live"], rate=4.0) as sim:
        job = sim.big_job_ids[0]
        source = source_for(sim.url, refresh_interval=5.0, live_poll_interval=0.2)
        source.engine.watch_live(job)
        first = wait_until(lambda: source.store.get(source.engine.keys.job(job)), 10, "the job's first round")
        step = first["progress"]["step"]
        sim.reset_stats()
        # Within one refresh interval (5 s) the fast lane reads the job's events again and again
        # (a round reads them once per 5 s) and the picture moves, by events alone. Counting the
        # reads, not the steps: on a loaded machine one slow read can bring six steps at once.
        def fast_lane_moved():
            reads = sim.stats()["by_job"].get(job, {}).get("events", 0)
            return reads >= 3 and source.store.get(source.engine.keys.job(job))["progress"]["step"] > step

        wait_until(fast_lane_moved, 4.5, "three events reads and new steps before the next full round")
        kinds = sim.stats()["by_job"][job]
        assert kinds.get("job_retrieve", 0) <= 1, kinds


def test_push011_the_fast_lane_brings_a_new_job_to_a_live_list_before_the_next_round(source_for):
    # A job created at the API waited for the list's next full round (up to a refresh interval,
    # 3 s by default) while a chart's new step came within live_poll_interval (issue #22 item 7).
    with ScaleSimulator(jobs=30) as sim:
        source = source_for(sim.url, refresh_interval=5.0, live_poll_interval=0.2)
        source.engine.watch_live(LIST)
        wait_until(lambda: (source.store.get(source.engine.keys.list_state()) or {}).get("complete"), 10,
                   "the list's first walk")
        before = source.store.versions(source.engine.keys.changes()).get(LIST)
        created = sim.add_job(status="running")
        began = time.monotonic()
        wait_until(lambda: any(row["id"] == created["id"] for row in source.jobs_snapshot()["rows"]), 4.0,
                   "the new job in the picture well before the next full round (5 s)")
        assert time.monotonic() - began < 4.0
        assert source.store.versions(source.engine.keys.changes())[LIST] > before, "live pages are told"
        assert len(source.jobs_snapshot()["rows"]) == 31


def test_push010_a_busy_stream_keeps_its_job_in_the_fast_lane(source_for):
    # A live page stays in the fast lane (LIVE_TTL_S) by its stream touching its members. They
    # were touched only on keep-alives, which a busy job never reaches (every change wakes the
    # stream first): 40 s after a page opened a busy job, its steps came at full-round pace.
    from fakeai_dash.sync.engine import LIVE

    source = source_for(start=False)
    source.feed.open_stream()
    reader = threading.Thread(target=lambda: [None for _ in stream(source.feed, source.engine, [JOB_A], {},
                                                                    keepalive_s=30.0)], daemon=True)
    reader.start()
    touched = lambda: source.store.members_since(source.engine.keys.live(), 0).get(JOB_A)  # noqa: E731
    first = wait_until(touched, 5, "the stream's first touch")
    stop = threading.Event()

    def busy_job():  # a change every 0.2 s, so the stream never waits out a keep-alive
        while not stop.wait(0.2):
            announce(source.store, source.engine.keys, JOB_A)

    threading.Thread(target=busy_job, daemon=True).start()
    try:
        wait_until(lambda: touched() >= first + 1.0, 5, "the stream touching its job again while changes flow")
    finally:
        stop.set()
        source.feed.close()


def test_push007_a_page_polled_but_not_live_gets_no_fast_lane(source_for):
    with ScaleSimulator(jobs=5, big=["300:live"], rate=4.0) as sim:
        job = sim.big_job_ids[0]
        source = source_for(sim.url, refresh_interval=2.0, live_poll_interval=0.2)
        source.engine.watch(job)  # a polling page
        wait_until(lambda: (source.store.get(source.engine.keys.job(job)) or {}).get("history", {}).get("loaded") == 1,
                   10, "the job's history loaded (no backfill pages any more)")
        sim.reset_stats()
        observe(3.0)
        kinds = sim.stats()["by_job"][job]
        assert kinds.get("events", 0) <= kinds.get("job_retrieve", 0) + 1, kinds


def test_push008_the_route_signs_in_like_every_route_and_caps_its_streams(make_app, tmp_path, monkeypatch):
    monkeypatch.setenv(MAX_STREAMS_ENV, "1")
    with ScaleSimulator(jobs=3) as sim:
        users = write_users(tmp_path / "users.json")
        app = make_app(sim.url, auth="basic", users_file=users, data_dir=str(tmp_path / "data"))
        client = app.server.test_client()
        assert client.get("/_push").status_code == 401
        first = client.get("/_push?job=ftjob-x", headers=basic(OPERATOR), buffered=False)
        assert first.status_code == 200 and first.mimetype == "text/event-stream"
        assert first.headers["Cache-Control"] == "no-store"
        events = parse(first.response)
        assert [next(events).event for _ in range(3)] == ["hello", "change", "change"]
        busy = client.get("/_push", headers=basic(OPERATOR))
        assert busy.status_code == 503, "past the cap a page is told to poll"
        first.close()  # the page went away: its slot is free again
        again = client.get("/_push", headers=basic(OPERATOR), buffered=False)
        assert again.status_code == 200
        again.close()


def test_push009_ordinary_requests_run_request_threads_at_a_time_streams_and_healthz_aside(make_app, monkeypatch):
    monkeypatch.setenv(REQUEST_THREADS_ENV, "1")  # gunicorn_conf sets it to GUNICORN_THREADS
    with ScaleSimulator(jobs=3) as sim:
        app = make_app(sim.url)
        release, inside = threading.Event(), []

        def slow():
            inside.append(1)
            release.wait(30)
            return "done"

        app.server.add_url_rule("/test-slow", "test_slow", slow)
        answers = []
        first = threading.Thread(target=lambda: answers.append(app.server.test_client().get("/test-slow").status_code))
        first.start()
        wait_until(lambda: inside == [1], 5, "the first request running")
        second = threading.Thread(target=lambda: answers.append(app.server.test_client().get("/test-slow").status_code))
        second.start()
        observe(0.5)
        assert inside == [1], "a second ordinary request waits for the slot"
        exempt = []

        def healthz_and_stream():
            client = app.server.test_client()
            exempt.append(client.get("/healthz").status_code)
            stream = client.get("/_push", buffered=False)  # streams have threads of their own
            exempt.append(stream.status_code)
            stream.close()

        threading.Thread(target=healthz_and_stream, daemon=True).start()
        try:
            wait_until(lambda: exempt == [200, 200], 5, "/healthz and a stream answered while the slot was taken")
        finally:
            release.set()
        first.join(10)
        second.join(10)
        assert inside == [1, 1] and answers == [200, 200]
