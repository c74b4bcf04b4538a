"""Redis (the shared store) stops and comes back: each worker serves its last picture, drops its
writes and keeps Redis cheap; the audit spool flushes once; push pauses; one leader comes back;
sessions verified recently survive. A real redis-server, stopped and started on the same socket."""

from __future__ import annotations

import json
import logging
import os
import stat
import time

import pytest
import redis

from fakeai_dash.auth.audit import AuditTrail, RedisAudit
from fakeai_dash.auth.audit_spool import SPOOL_FILE, SpooledAudit
from fakeai_dash.auth.sessions import SessionStore
from fakeai_dash.data import EXTENSION_KEY, NotReady
from fakeai_dash.sync.resilient import ResilientStore
from fakeai_dash.sync.store import RedisStore
from tests.support.redis_server import redis_server
from tests.support.scale_sim import ScaleSimulator
from tests.support.waiting import observe, wait_until


@pytest.fixture
def server():
    with redis_server() as running:
        yield running


def _ready(read):
    try:
        return read()
    except NotReady:
        return None


def test_outage001_the_resilient_store_serves_what_it_read_and_drops_writes(server):
    store = ResilientStore(RedisStore(server.url))
    try:
        store.set("job", {"step": 7})
        store.touch("watch", "list", 100.0)
        assert store.get("job") == {"step": 7} and store.get_many(["job", "none"]) == [{"step": 7}, None]
        assert store.members_since("watch", 50.0) == {"list": 100.0} and store.down_since is None

        server.stop()
        assert store.get("job") == {"step": 7}  # the first failure: served from memory, no raise
        down = store.down_since
        assert down is not None and down <= time.time()
        assert store.get("never-read") is None
        assert store.members_since("watch", 50.0) == {"list": 100.0}
        store.set("job", {"step": 8})  # dropped, quietly
        store.delete("job")
        assert store.bump("changes", "list") == 0
        assert store.add("claim", 1, 60) is True and store.add("claim", 1, 60) is False  # this worker's claims
        # The breaker: a dead Redis costs a read nothing (at most one try a second).
        started = time.monotonic()
        for _ in range(2000):
            store.get("job")
        assert time.monotonic() - started < 1.0
        assert store.get("job") == {"step": 7} and store.down_since == down  # "since" is the first failure

        server.start()  # empty: no persistence, as in the measured outage
        wait_until(lambda: store.probe() is None, 3, "the store to be tried again")
        assert store.get("job") is None  # Redis answers again: its answer, not the memory
        store.set("job", {"step": 9})
        assert store.get("job") == {"step": 9}
    finally:
        store.close()


def test_outage002_memory_is_bounded_in_bytes(server):
    store = ResilientStore(RedisStore(server.url), max_bytes=10_000)
    try:
        for i in range(50):
            store.set(f"k{i}", "x" * 1000)
            store.get(f"k{i}")
        assert store.memory.size <= 10_000
        server.stop()
        assert store.get("k49") == "x" * 1000  # the newest are kept
        assert store.get("k0") is None  # the oldest fell away
    finally:
        store.close()


def _record(i: int, target: str | None = "ftjob-abc") -> dict:
    return {"user": "ann", "role": "operator", "mode": "basic", "action": "cancel", "target": target,
            "outcome": "allowed", "message": f"attempt {i}"}


def _stream(url: str, key: str) -> list[dict]:
    client = redis.Redis.from_url(url)
    try:
        return [json.loads(fields[b"record"]) for _id, fields in client.xrange(key)]
    finally:
        client.close()


def test_outage003_audit_records_written_during_an_outage_are_flushed_once(server, tmp_path):
    data = tmp_path / "data"
    trail = AuditTrail(SpooledAudit(RedisAudit(server.url), str(data)))
    try:
        trail.record(**_record(0))
        server.stop()
        for i in (1, 2):
            trail.record(**_record(i))
        trail.record(**_record(3, target=None))
        spool = data / SPOOL_FILE
        assert stat.S_IMODE(os.stat(spool).st_mode) == 0o600
        assert len(spool.read_text().splitlines()) == 3
        assert [r["message"] for r in trail.history("ftjob-abc")] == ["attempt 2", "attempt 1"]  # what waits

        server.start()  # empty; the flusher notices within a second or two
        wait_until(lambda: not trail.backend.pending(), 10, "the spool to be flushed")
        assert [r["message"] for r in _stream(server.url, "fakeai-dash:audit")] == \
            ["attempt 1", "attempt 2", "attempt 3"]
        assert [r["message"] for r in _stream(server.url, "fakeai-dash:audit:target:ftjob-abc")] == \
            ["attempt 1", "attempt 2"]
        # A flush cut short after Redis took the records (the spool not yet emptied) runs again:
        # nothing is added twice.
        lines = [json.dumps({"id": marker, "record": r}) for marker, r in
                 zip(_spooled_ids(server.url), _stream(server.url, "fakeai-dash:audit"))]
        spool.write_text("\n".join(lines) + "\n")
        assert trail.backend.flush() == 0
        assert len(_stream(server.url, "fakeai-dash:audit")) == 3
        trail.record(**_record(4))  # and the trail goes on directly
        assert len(_stream(server.url, "fakeai-dash:audit")) == 4
    finally:
        trail.close()


def _spooled_ids(url: str) -> list[str]:
    client = redis.Redis.from_url(url)
    try:
        keys = sorted(client.keys("fakeai-dash:audit:spooled:*"))
        return [key.decode().rsplit(":", 1)[1] for key in keys]
    finally:
        client.close()


def test_outage004_a_spool_left_by_a_stopped_worker_is_flushed_by_the_next(server, tmp_path):
    data = str(tmp_path / "data")
    first = SpooledAudit(RedisAudit(server.url), data)
    server.stop()
    AuditTrail(first).record(**_record(1))
    first.close()
    server.start()
    second = SpooledAudit(RedisAudit(server.url), data)
    try:
        wait_until(lambda: not second.pending(), 10, "the next worker to flush the spool")
        assert [r["message"] for r in _stream(server.url, "fakeai-dash:audit")] == ["attempt 1"]
    finally:
        second.close()


def test_outage005_sessions_verified_recently_survive_an_outage(server):
    sessions = SessionStore(RedisStore(server.url), 3600)
    try:
        kept = sessions.create({"sub": "ann"})
        ended = sessions.create({"sub": "bob"})
        never_seen = sessions.create({"sub": "cid"})
        assert sessions.get(kept)["sub"] == "ann" and sessions.get(ended)["sub"] == "bob"
        assert sessions.revoke(ended)
        server.stop()
        assert sessions.get(kept)["sub"] == "ann"  # verified here moments ago
        assert sessions.get(ended) is None and sessions.get(never_seen) is None
        assert sessions.revoke(kept) is False  # not ended in the store: said so...
        assert sessions.get(kept) is None  # ...but this worker forgets it at once
    finally:
        sessions.store.close()


def test_outage006_push_pauses_leadership_stops_and_comes_back_once(server, make_app, caplog):
    caplog.set_level(logging.INFO)
    with ScaleSimulator(jobs=3, big=["2000:live"], rate=2.0) as sim:
        apps = [make_app(sim.url, cache_url=server.url, refresh_interval=1.0) for _ in range(2)]
        sources = [app.server.extensions[EXTENSION_KEY] for app in apps]
        for source in sources:
            wait_until(lambda: _ready(source.jobs_snapshot), 10, "the list")
        wait_until(lambda: sum(s.engine.leading for s in sources) == 1, 10, "one leader")

        server.stop()
        wait_until(lambda: not any(s.engine.leading for s in sources), 3, "leadership given up at once")
        for source in sources:  # each worker's last picture (the follower's too: it read the list)
            assert [r["id"] for r in source.jobs_snapshot()["rows"]] == sim.job_ids()
            assert source.store_down_since() is not None
        sim.reset_stats()
        observe(3.0)  # nobody polls the API as a leader it cannot prove it is
        assert sim.stats()["by_kind"].get("jobs_list", 0) == 0
        answer = apps[0].server.test_client().get(f"/_push?job={sim.big_job_ids[0]}")
        assert answer.status_code == 200 and "event: pause" in answer.get_data(as_text=True)

        server.start()
        wait_until(lambda: sum(s.engine.leading for s in sources) == 1, 10, "one leader again")
        wait_until(lambda: all(s.store_down_since() is None for s in sources), 5, "every worker sees the store")
        wait_until(lambda: not sources[0].feed.paused, 10, "the change feed to resubscribe")
        observe(2.0)
        assert sum(s.engine.leading for s in sources) == 1  # and never two
        stream = apps[0].server.test_client().get("/_push", buffered=False)
        chunks = iter(stream.response)
        opening = next(chunks).decode() + next(chunks).decode()  # "retry", then "hello"
        stream.close()
        assert stream.status_code == 200 and "event: hello" in opening
    records = [r for r in caplog.records if r.name.startswith("fakeai_dash")]
    assert not [r for r in records if r.exc_info], "no traceback"
    warnings = [r.getMessage() for r in records if r.levelno >= logging.WARNING]
    assert len([w for w in warnings if "unreachable" in w]) == 2, warnings  # one per worker
    assert len([w for w in warnings if "answers again" in w]) == 2, warnings
    assert len(warnings) == 4, warnings


def test_outage007_the_signin_throttle_counts_per_worker_quietly_while_redis_is_down(server, caplog):
    from fakeai_dash.auth.throttle import MemoryCounts, RedisCounts, SigninThrottle

    caplog.set_level(logging.INFO)
    throttle = SigninThrottle(RedisCounts(server.url, 2, 60, 60), MemoryCounts(2, 60, 60))
    assert throttle.wait("ann", "10.0.0.1") == 0
    server.stop()
    for _ in range(3):
        throttle.failed("ann", "10.0.0.1")
    assert throttle.wait("ann", "10.0.0.1") > 0  # counted in this worker meanwhile
    for _ in range(200):  # every Basic request asks: no Redis call each, no log line each
        throttle.wait("bob", "10.0.0.2")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    server.start()
    wait_until(lambda: throttle.breaker.call(lambda: True, lambda: False), 3, "Redis tried again")
    assert throttle.wait("ann", "10.0.0.1") > 0  # the worker's own count still holds
