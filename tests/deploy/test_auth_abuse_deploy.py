"""Doors a signed-in (or signing-in) user could push against, on the real app under gunicorn as the
Procfile starts it (two workers), with the host's SQLite files or a real redis-server:

- a viewer's flood of forged writes is refused, and its refusals are merged and bounded: the
  operator's real cancel stays in the job's history (issue #17, finding 5);
- failed Basic sign-ins slow down one user name from one address with a growing wait, and never
  lock out another user, or the right password once the wait is over (issue #17, finding 7).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests

from fakeai_dash.auth.audit import AuditTrail, RedisAudit, SqliteAudit
from fakeai_dash.auth.refusals import PER_USER_PER_MINUTE
from fakeai_dash.components.job_audit import SHOWN
from fakeai_dash.embedded import free_port
from tests.deploy.test_auth_deploy import PROCFILE, procfile_env
from tests.deploy.test_server import running
from tests.integration.test_auth_gate import (
    OPERATOR,
    VIEWER,
    basic,
    callback_body,
    cancel_body,
    dependencies,
    pause_body,
    text_of,
    write_users,
)
from tests.support.redis_server import running_redis
from tests.support.scale_sim import ScaleSimulator
from tests.support.waiting import wait_until

STORES = ["sqlite", "redis"]


@pytest.fixture
def sim():
    with ScaleSimulator(jobs=8, running_jobs=6) as server:
        yield server


@contextlib.contextmanager
def dashboard(tmp_path, sim, store: str):
    """The Procfile's gunicorn with two workers and Basic sign-in; yields (server, Redis URL or None)."""
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(running_redis()) if store == "redis" else None
        port = free_port()
        env = procfile_env(tmp_path, "127.0.0.1", port, FAKEAI_DASH_AUTH="basic",
                           FAKEAI_DASH_USERS_FILE=write_users(tmp_path / "users.json"), FAKEAI_DASH_API_BASE=sim.url,
                           FAKEAI_DASH_DATA_DIR=str(tmp_path / "data"), **({"FAKEAI_DASH_CACHE_URL": url} if url else {}))
        server = stack.enter_context(running(PROCFILE, tmp_path, env, port))
        wait_until(lambda: server.log.count("Booting worker") >= 2, 30, "two workers")
        yield server, url
    assert "Traceback" not in server.log


@pytest.mark.parametrize("store", STORES)
def test_abuse001_a_viewers_flood_of_refusals_never_evicts_the_operators_cancel(tmp_path, sim, store):
    with dashboard(tmp_path, sim, store) as (server, url):
        base = server.base

        def post(body, user) -> dict:
            answer = requests.post(f"{base}/_dash-update-component", json=body, headers=basic(user), timeout=30)
            assert answer.status_code == 200, answer.text[:300]
            return answer.json()["response"]

        deps = dependencies(lambda p: requests.get(base + p, headers=basic(OPERATOR), timeout=10))
        job = next(j for j in sim.job_ids() if sim._job(j).status == "running")
        assert "Cancel requested." in text_of(post(cancel_body(deps, job), OPERATOR))
        # bob (viewer): 60 forged cancels of that job at once, 8 in flight (both workers merge) ...
        with ThreadPoolExecutor(8) as pool:
            burst = list(pool.map(lambda _: post(cancel_body(deps, job), VIEWER), range(60)))
        assert all("cancelling jobs needs the operator role" in text_of(answer) for answer in burst)
        # ... then varied ones: pauses of the job, and cancels of 30 other job ids.
        for _ in range(5):
            post(pause_body(deps, job), VIEWER)
        for n in range(30):
            post(cancel_body(deps, f"ftjob-flood{n:04d}"), VIEWER)
        assert sim.stats()["by_kind"].get("writes", 0) == 1  # alice's cancel, nothing of bob's

        # What the panel reads: the operator's cancel is there, the refusals merged with a count.
        trail = AuditTrail(RedisAudit(url) if url else SqliteAudit(str(tmp_path / "data" / "audit.sqlite3")))
        history = [(r["user"], r["action"], r["outcome"], r.get("count")) for r in trail.history(job, SHOWN + 1)]
        assert ("alice", "cancel", "allowed", None) in history
        assert history == [("bob", "pause", "refused", 5), ("bob", "cancel", "refused", 60),
                           ("alice", "cancel", "allowed", None)]
        # And the panel itself, rendered by the history callback.
        panel = text_of(post(callback_body(deps, "selected-job-store", {"selected-job-store": job}, "data",
                                           "detail-audit"), OPERATOR))
        assert "Cancelled by alice at" in panel
        assert "Cancel refused 60 times for bob (viewer) at" in panel and "Pause refused 5 times for bob" in panel

        # The store stays bounded: one entry per (user, action, target, reason), at most
        # PER_USER_PER_MINUTE new ones a minute for bob, the rest counted in one overflow entry.
        entries = trail.recent(1000)
        refused = [r for r in entries if r["outcome"] == "refused"]
        assert sum(r["count"] for r in refused) == 60 + 5 + 30
        assert len(refused) == PER_USER_PER_MINUTE + 1
        overflow = [r for r in refused if r["detail"].get("overflow")]
        assert len(overflow) == 1 and overflow[0]["target"] is None and overflow[0]["count"] == 30 - 18
        trail.close()
        if url:
            store_client = redis.Redis.from_url(url)
            assert store_client.xlen("fakeai-dash:audit") == 1  # the allowed write; no refusal in its stream
            assert store_client.zcard("fakeai-dash:audit:refused") == PER_USER_PER_MINUTE + 1
            assert len(store_client.keys("fakeai-dash:audit*")) < 3 * (PER_USER_PER_MINUTE + 2) + 5
        else:
            db = sqlite3.connect(tmp_path / "data" / "audit.sqlite3")
            assert db.execute("SELECT count(*) FROM audit").fetchone()[0] == 1
            assert db.execute("SELECT count(*) FROM refusals").fetchone()[0] == PER_USER_PER_MINUTE + 1
            db.close()

    # The log still has a line per attempt, each with the merged count so far: 1 to 60, once each,
    # whichever worker served it (the merge is atomic across workers).
    logged = [json.loads(line) for line in server.log.splitlines() if line.startswith('{"action"')]
    counts = sorted(r["count"] for r in logged if (r["user"], r["action"], r["target"]) == ("bob", "cancel", job))
    assert counts == list(range(1, 61))


@pytest.mark.parametrize("store", STORES)
def test_abuse002_failed_sign_ins_slow_one_name_from_one_address_and_lock_out_nobody(tmp_path, sim, store):
    with dashboard(tmp_path, sim, store) as (server, _url):
        def sign_in(user, **headers) -> requests.Response:
            return requests.get(f"{server.base}/_dash-layout", headers={**basic(user), **headers}, timeout=30)

        wrong = ("alice", "not-alices-password")
        answers = []
        for _ in range(15):
            answers.append(sign_in(wrong))
            if len(answers) == 10:
                tripped = time.monotonic()  # the 10th failure: from now on alice waits, from this address
        statuses = [a.status_code for a in answers]
        assert statuses[:10] == [401] * 10 and set(statuses[10:]) <= {401, 429} and 429 in statuses[10:], statuses
        # Someone else's correct password from the same address is never held up.
        assert sign_in(VIEWER).status_code == 200
        first = sign_in(OPERATOR)
        if time.monotonic() - tripped < 0.9:  # still inside the 1 s wait the 10th failure set
            assert first.status_code == 429, first.status_code
        announced = max(int(a.headers["Retry-After"]) for a in answers + [first] if a.status_code == 429)
        assert 1 <= announced <= 60
        # alice's correct password gets in once the announced wait has passed.
        wait_until(lambda: sign_in(OPERATOR).status_code == 200, announced + 15, "alice's sign-in after the wait")

        # A success cleared the count: 10 free failures again, then each failure doubles the wait.
        assert [sign_in(wrong).status_code for _ in range(10)] == [401] * 10
        waits = []
        for round_ in range(3):
            # Inside the wait a try is refused unchecked (429); one that reaches the server after
            # it (a loaded machine can take over a second per request) is checked, fails (401) and
            # doubles the wait, so the next try is refused: ask until one is.
            headers = {"Accept-Language": "de"} if round_ == 1 else {}
            # (A tuple: a 429 Response is falsy.)
            (refused,) = wait_until(lambda: (answer := sign_in(wrong, **headers)).status_code == 429 and (answer,),
                                    60, "a refusal inside the wait")
            waits.append(int(refused.headers["Retry-After"]))
            if round_ == 1:  # the page says how long, in the reader's language
                assert "Zu viele fehlgeschlagene Anmeldungen mit diesem Benutzernamen von Ihrer Adresse. " \
                       f"Versuchen Sie es in {waits[-1]} s erneut." in refused.text
            # The first try after the wait is checked again (and fails: 401).
            wait_until(lambda: sign_in(wrong).status_code == 401, waits[-1] + 15, "the wait to pass")
        assert waits == sorted(waits) and waits[-1] >= 2 * waits[0], waits  # 1, 2, 4 s
