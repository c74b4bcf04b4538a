"""With a redis:// cache URL, gunicorn workers (here: two apps) share one cache for real."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from werkzeug import Response

from fakeai_dash.components.create_job_dialog import TOKEN_TTL, submit_form
from fakeai_dash.data import current_source
from fakeai_dash.embedded import free_port
from tests.jobs_factory import openai_job, serve_job_pages

JOBS = "/v1/fine_tuning/jobs"
REPO = Path(__file__).resolve().parents[2]
START_ATTEMPTS = 5
READY_TIMEOUT = 15.0


def _stop(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """Terminate, and kill what does not end in time: a teardown never hangs."""
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)


def _ready(proc: subprocess.Popen, port: int) -> bool | None:
    """True once *our* redis answers PING on ``port``; None if it exited (say the port was taken)."""
    deadline = time.monotonic() + READY_TIMEOUT
    # No client-side retries: each probe is one bounded try, and the loop is the only retry.
    client = redis.Redis(port=port, socket_connect_timeout=1, socket_timeout=1,
                         retry=Retry(NoBackoff(), 0))
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return None
            try:
                # Another redis may hold the port: only an answer from our process counts.
                if client.ping() and client.info("server")["process_id"] == proc.pid:
                    return True
            except redis.RedisError:
                pass
            threading.Event().wait(0.05)  # the poll interval of a bounded readiness wait
        return False
    finally:
        client.close()


@pytest.fixture
def redis_url(tmp_path):
    """A private redis-server; its URL is handed out only after it answered PING."""
    server = shutil.which("redis-server")
    assert server, "redis-server is installed by `make test` (Debian package redis-server)"
    # redis-server cannot pick its own port (`--port 0` turns TCP off), so a port chosen here
    # may be taken before redis binds it: then redis exits and we try another one.
    for attempt in range(START_ATTEMPTS):
        port = free_port()
        log_path = tmp_path / f"redis-{attempt}.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                     "--appendonly", "no"], stdout=log, stderr=subprocess.STDOUT)
        try:
            ready = _ready(proc, port)
            if ready:
                yield f"redis://127.0.0.1:{port}/0"
                return
            if ready is False:
                pytest.fail(f"redis-server did not answer PING on port {port} within {READY_TIMEOUT:g} s:\n"
                            + log_path.read_text(errors="replace"))
        finally:
            _stop(proc)
    pytest.fail(f"redis-server exited {START_ATTEMPTS} times before answering (ports taken?):\n"
                + log_path.read_text(errors="replace"))


def test_redis001_two_workers_share_one_fetch_and_invalidation(httpserver, make_app, redis_url):
    serve_job_pages(httpserver, [openai_job(i) for i in range(3)])
    base = httpserver.url_for("").rstrip("/")
    worker_a = make_app(base, cache_url=redis_url, refresh_interval=60.0)
    worker_b = make_app(base, cache_url=redis_url, refresh_interval=60.0)

    with worker_a.server.test_request_context():
        rows_a = current_source().jobs_snapshot()["rows"]
    with worker_b.server.test_request_context():
        source_b = current_source()
        rows_b = source_b.jobs_snapshot()["rows"]
        assert source_b.last_success("jobs") is not None  # "data from HH:MM:SS" is shared too
    assert rows_a == rows_b and len(rows_a) == 3
    assert len(httpserver.log) == 1  # the second worker was answered by Redis

    with worker_b.server.test_request_context():
        current_source().invalidate("jobs")  # what a create or cancel does
    with worker_a.server.test_request_context():
        current_source().jobs_snapshot()
    assert len(httpserver.log) == 2  # worker A saw B's invalidation


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
