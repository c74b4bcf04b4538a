"""With a Redis URL, gunicorn workers (here: two apps) share one picture and one leader for real."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import msgpack
import pytest
import redis
from werkzeug import Response

from fakeai_dash.components.create_job_dialog import TOKEN_TTL, submit_form
from fakeai_dash.data import EXTENSION_KEY, NotReady, current_source
from tests.support.jobs_factory import openai_job
from tests.support.redis_server import running_redis
from tests.support.scale_sim import ScaleSimulator
from tests.support.waiting import observe, wait_until

JOBS = "/v1/fine_tuning/jobs"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def redis_url():
    """A private redis-server on a unix socket (no port to race for), handed out after PING."""
    with running_redis() as url:
        yield url


def _ready(read):
    try:
        return read()
    except NotReady:
        return None


def test_redis001_two_workers_share_one_picture_one_leader_and_each_others_writes(make_app, redis_url):
    with ScaleSimulator(jobs=3, big=["200:running:done=20"]) as sim:
        worker_a = make_app(sim.url, cache_url=redis_url, refresh_interval=1.0)
        worker_b = make_app(sim.url, cache_url=redis_url, refresh_interval=1.0)
        source_a, source_b = (w.server.extensions[EXTENSION_KEY] for w in (worker_a, worker_b))
        rows_a = wait_until(lambda: _ready(source_a.jobs_snapshot), 10, "worker A's list")["rows"]
        rows_b = wait_until(lambda: _ready(source_b.jobs_snapshot), 10, "worker B's list")["rows"]
        assert rows_a == rows_b and [r["id"] for r in rows_a] == sim.job_ids()
        assert source_b.last_success() is not None  # "data from HH:MM:SS" is shared too
        wait_until(lambda: source_a.engine.leading or source_b.engine.leading, 10, "a leader")
        assert not (source_a.engine.leading and source_b.engine.leading)
        # Both watch the list; the API sees one round per interval, not one per worker.
        sim.reset_stats()
        observe(3.0)
        assert sim.stats()["by_kind"]["jobs_list"] <= 3 + 1
        # A write through worker B shows in worker A at once (no round needed).
        job_id = sim.big_job_ids[0]
        source_b.cancel_job(job_id)
        assert {r["id"]: r["status"] for r in source_a.jobs_snapshot()["rows"]}[job_id] == "cancelled"
        # What Redis holds is data, never pickles.
        store = redis.Redis.from_url(redis_url)
        raw = store.get(next(k for k in store.keys("*:jobs") if not k.endswith(b"#signature")))
        store.close()
        assert not raw.startswith(b"\x80")  # pickle protocol 2+ starts with 0x80
        assert msgpack.unpackb(raw)["rows"][0]["id"] == sim.job_ids()[0]


# A second gunicorn worker is a second process: its own in-process token locks, the same Redis.
OTHER_WORKER = """
import json, sys
from fakeai_dash.app import create_app
from fakeai_dash.components.create_job_dialog import submit_form
from fakeai_dash.config import Settings
from fakeai_dash.data import current_source

api_base, cache_url, raw, token = sys.argv[1:]
app = create_app(Settings(_env_file=None, api_base=api_base, cache_url=cache_url, refresh_interval=60.0,
                          connect_timeout=1.0, read_timeout=10.0))
with app.server.test_request_context():
    print(json.dumps(submit_form(current_source(), json.loads(raw), token)))
"""


def submit_in_other_worker(api_base: str, cache_url: str, raw: dict, token: str) -> dict:
    """What the create dialog's submit does, in a worker process of its own."""
    result = subprocess.run([sys.executable, "-c", OTHER_WORKER, api_base, cache_url, json.dumps(raw), token],
                            capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_redis002_a_worker_mid_create_holds_the_token_and_the_other_is_refused(httpserver, make_app, redis_url):
    created = {**openai_job(1), "id": "ftjob-created", "status": "validating_files"}
    create_arrived, release_create = threading.Event(), threading.Event()

    def slow_create(request):
        create_arrived.set()
        release_create.wait(60)  # holds worker A mid-create while worker B submits
        return Response(json.dumps(created), content_type="application/json")

    httpserver.expect_request(JOBS, method="POST").respond_with_handler(slow_create)
    base = httpserver.url_for("").rstrip("/")
    worker_a = make_app(base, cache_url=redis_url, refresh_interval=60.0, read_timeout=90.0)
    raw = {"model": "gpt-4o-mini-2024-07-18", "training_file": "file-1"}  # the dialog's form values
    token = uuid.uuid4().hex
    outcome_a: dict = {}

    def submit_on_a():
        with worker_a.server.test_request_context():
            outcome_a.update(submit_form(current_source(), raw, token))

    thread_a = threading.Thread(target=submit_on_a)
    thread_a.start()
    try:
        assert create_arrived.wait(30), "worker A's create never reached the API"
        # Worker A's own claim, written by the submit path itself, is in Redis with a lifetime.
        store = redis.Redis.from_url(redis_url)
        [claim] = store.keys(f"*create-job-token:{token}")
        assert 0 < store.ttl(claim) <= TOKEN_TTL
        store.close()

        outcome_b = submit_in_other_worker(base, redis_url, raw, token)

        assert outcome_b == {"api_error": "This job is already being created; it will appear in the list shortly.",
                             "field": None}
    finally:
        release_create.set()
        thread_a.join(60)

    assert outcome_a == {"job_id": "ftjob-created"}
    # Worker A finished: B's repeat submit gets A's job back, still without creating.
    assert submit_in_other_worker(base, redis_url, raw, token) == {"job_id": "ftjob-created"}
    assert [request.method for request, _ in httpserver.log] == ["POST"]  # one job, from worker A
