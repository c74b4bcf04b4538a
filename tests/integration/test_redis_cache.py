"""With a redis:// cache URL, gunicorn workers (here: two apps) share one cache for real."""

from __future__ import annotations

import shutil
import subprocess
import threading

import pytest
import redis

from fakeai_dash.components.create_job_dialog import DuplicateSubmit, create_once
from fakeai_dash.data import current_source
from fakeai_dash.embedded import free_port
from tests.jobs_factory import openai_job, serve_job_pages


@pytest.fixture
def redis_url():
    server = shutil.which("redis-server")
    assert server, "redis-server is installed by `make test` (Debian package redis-server)"
    port = free_port()
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    client = redis.Redis(port=port)
    try:
        for _ in range(100):  # bounded wait for the server to accept connections
            try:
                client.ping()
                break
            except redis.ConnectionError:
                threading.Event().wait(0.05)  # a poll interval inside a bounded readiness loop
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


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


def test_redis002_a_submit_token_claimed_by_one_worker_stops_the_other(fakeai, make_app, redis_url):
    worker_a, worker_b = (make_app(fakeai.url, cache_url=redis_url) for _ in range(2))
    payload = {"model": "Qwen/Qwen2.5-7B-Instruct", "training_file": fakeai.files()[0]["id"]}
    key = "create-job-token:token-shared-by-workers"
    before = len(fakeai.jobs())

    # Worker A is mid-create: it has claimed the token in the shared cache.
    with worker_a.server.test_request_context():
        assert current_source().cache.add(key, {"pending": True}, timeout=60)
    with worker_b.server.test_request_context():
        with pytest.raises(DuplicateSubmit):
            create_once(current_source(), "token-shared-by-workers", payload)
    assert len(fakeai.jobs()) == before  # B refused instead of creating a second job

    # Worker A finished: B's repeat submit gets A's job back, still without creating.
    with worker_a.server.test_request_context():
        job_id = current_source().create_job(payload)["id"]
        current_source().cache.set(key, {"job_id": job_id}, timeout=60)
    with worker_b.server.test_request_context():
        assert create_once(current_source(), "token-shared-by-workers", payload) == job_id
    assert len(fakeai.jobs()) == before + 1
