"""The shared data layer (fakeai_dash.data): one cache for every browser session.

Five concurrent sessions drive the real Dash callback endpoint of a real app (through
Flask's test client) against pytest-httpserver, and the API must see about one jobs-list
request per cache TTL, not one per session per tick; failures are cached too, so a
struggling API is not hammered. Two backends sharing one cache never see each other's
data, and writes invalidate what they change.
"""

from __future__ import annotations

import json
import math
import threading
import time

import pytest
from flask import Flask
from flask_caching import Cache
from pytest_httpserver import HTTPServer
from werkzeug import Response

from fakeai_dash.api.client import ApiError, FineTuningClient
from fakeai_dash.app import create_app
from fakeai_dash.config import Settings
from fakeai_dash.data import EXTENSION_KEY, DataSource

JOBS = "/v1/fine_tuning/jobs"
SESSIONS = 5


def job(job_id: str, status: str = "running", created_at: int = 1700000000) -> dict:
    return {"id": job_id, "object": "fine_tuning.job", "model": "gpt-4o-mini-2024-07-18",
            "status": status, "created_at": created_at, "hyperparameters": {"n_epochs": 3}}


def listing(items: list[dict]) -> dict:
    return {"object": "list", "data": items, "has_more": False}


def jobs_requests(server: HTTPServer) -> int:
    """Jobs-list GETs the server answered."""
    return sum(1 for request, _ in server.log if request.path == JOBS and request.method == "GET")


@pytest.fixture
def app(httpserver):
    return create_app(Settings(api_base=httpserver.url_for("").rstrip("/"), refresh_interval=2.0,
                               _env_file=None))


def fetch_jobs_request(app) -> dict:
    """The body dash-renderer posts when the refresh interval ticks the fetch_jobs callback."""
    dependencies = app.server.test_client().get("/_dash-dependencies").get_json()
    [spec] = [d for d in dependencies if d["output"].startswith("..jobs-store.data")]
    outputs = [dict(zip(("id", "property"), part.split("."), strict=True))
               for part in spec["output"].strip(".").split("...")]
    return {
        "output": spec["output"],
        "outputs": outputs,
        "inputs": [{**item, "value": 1 if item["property"] == "n_intervals" else None}
                   for item in spec["inputs"]],
        "changedPropIds": ["refresh-interval.n_intervals"],
        "state": [{**item, "value": None} for item in spec["state"]],
    }


def poll_from_sessions(app, body: dict, duration: float) -> tuple[list, float]:
    """SESSIONS threads, each its own client, posting ``body`` back to back for ``duration``."""
    answers: list = []
    lock = threading.Lock()
    start_line = threading.Barrier(SESSIONS)

    def session():
        client = app.server.test_client()
        start_line.wait()
        deadline = time.monotonic() + duration
        while time.monotonic() < deadline:
            response = client.post("/_dash-update-component", json=body)
            with lock:
                answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=session) for _ in range(SESSIONS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(duration + 30)
    return answers, time.monotonic() - started


def test_cache001_five_sessions_cost_about_one_request_per_ttl(app, httpserver):
    httpserver.expect_request(JOBS).respond_with_json(listing([job("ftjob-1"), job("ftjob-2")]))
    body = fetch_jobs_request(app)
    ttl = app.server.extensions[EXTENSION_KEY].ttl
    assert ttl == 1.0  # half the refresh interval

    answers, elapsed = poll_from_sessions(app, body, duration=3 * ttl)

    fetches = jobs_requests(httpserver)
    windows = math.ceil(elapsed / ttl)
    assert len(answers) >= 3 * SESSIONS
    assert all(status == 200 for status, _ in answers)
    assert all([row["id"] for row in payload["response"]["jobs-store"]["data"]] == ["ftjob-1", "ftjob-2"]
               for _, payload in answers)
    assert 2 <= fetches <= windows + 1, (fetches, len(answers), elapsed)


def test_cache002_failing_api_is_not_hammered(app, httpserver):
    httpserver.expect_request(JOBS).respond_with_json({"error": {"message": "Invalid API key"}}, status=401)
    body = fetch_jobs_request(app)
    ttl = app.server.extensions[EXTENSION_KEY].ttl

    answers, elapsed = poll_from_sessions(app, body, duration=2 * ttl)

    statuses = [payload["response"]["api-status-store"]["data"] for _, payload in answers
                if "api-status-store" in payload.get("response", {})]
    assert statuses and all(not status["ok"] and "Invalid API key" in status["message"] for status in statuses)
    assert 1 <= jobs_requests(httpserver) <= math.ceil(elapsed / ttl) + 1


def test_cache003_jobs_snapshot_from_threads_in_request_context(app, httpserver):
    httpserver.expect_request(JOBS).respond_with_json(listing([job("ftjob-9")]))
    source = app.server.extensions[EXTENSION_KEY]
    results, barrier = [], threading.Barrier(SESSIONS)

    def session():
        with app.server.test_request_context():
            barrier.wait()
            results.append(source.jobs_snapshot())

    threads = [threading.Thread(target=session) for _ in range(SESSIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert len(results) == SESSIONS
    assert len({snapshot["signature"] for snapshot in results}) == 1
    assert jobs_requests(httpserver) == 1  # concurrent misses wait for one fetch


# -- keys, invalidation -------------------------------------------------------------------


@pytest.fixture
def second_server():
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()


@pytest.fixture
def shared_cache():
    flask_app = Flask(__name__)
    return Cache(flask_app, config={"CACHE_TYPE": "SimpleCache"})


def test_cache004_two_backends_on_one_cache_never_mix(httpserver, second_server, shared_cache):
    httpserver.expect_request(JOBS).respond_with_json(listing([job("ftjob-a")]))
    second_server.expect_request(JOBS).respond_with_json(listing([job("ftjob-b1"), job("ftjob-b2")]))
    httpserver.expect_request(f"{JOBS}/ftjob-same").respond_with_json(job("ftjob-same", "succeeded"))
    second_server.expect_request(f"{JOBS}/ftjob-same").respond_with_json(job("ftjob-same", "failed"))
    first = DataSource(FineTuningClient(httpserver.url_for("/")), shared_cache, ttl=60)
    second = DataSource(FineTuningClient(second_server.url_for("/")), shared_cache, ttl=60)

    for _ in range(3):
        assert [row["id"] for row in first.jobs_snapshot()["rows"]] == ["ftjob-a"]
        assert [row["id"] for row in second.jobs_snapshot()["rows"]] == ["ftjob-b1", "ftjob-b2"]
        assert first.job("ftjob-same")["status"] == "succeeded"
        assert second.job("ftjob-same")["status"] == "failed"

    assert jobs_requests(httpserver) == 1
    assert jobs_requests(second_server) == 1


def test_cache005_errors_are_cached_per_backend_too(httpserver, second_server, shared_cache):
    httpserver.expect_request(JOBS).respond_with_json({"detail": "Not Found"}, status=404)
    second_server.expect_request(JOBS).respond_with_json(listing([job("ftjob-ok")]))
    failing = DataSource(FineTuningClient(httpserver.url_for("/")), shared_cache, ttl=60)
    healthy = DataSource(FineTuningClient(second_server.url_for("/")), shared_cache, ttl=60)

    for _ in range(2):
        with pytest.raises(ApiError) as caught:
            failing.jobs_snapshot()
        assert (caught.value.status, caught.value.message) == (404, "Not Found")
        assert [row["id"] for row in healthy.jobs_snapshot()["rows"]] == ["ftjob-ok"]

    assert jobs_requests(httpserver) == 1
    assert failing.last_success("jobs") is None
    assert healthy.last_success("jobs") is not None


def test_cache006_create_invalidates_the_jobs_list(httpserver, shared_cache):
    listed = [[job("ftjob-1")]]
    httpserver.expect_request(JOBS, method="GET").respond_with_handler(
        lambda request: Response(json.dumps(listing(listed[-1])), content_type="application/json"))
    httpserver.expect_request(JOBS, method="POST").respond_with_json(job("ftjob-2", "validating_files"))
    source = DataSource(FineTuningClient(httpserver.url_for("/")), shared_cache, ttl=60)

    assert [row["id"] for row in source.jobs_snapshot()["rows"]] == ["ftjob-1"]
    listed.append([job("ftjob-2"), job("ftjob-1")])
    assert [row["id"] for row in source.jobs_snapshot()["rows"]] == ["ftjob-1"]  # cached

    created = source.create_job({"model": "m", "training_file": "f"})

    assert created["id"] == "ftjob-2"
    assert [row["id"] for row in source.jobs_snapshot()["rows"]] == ["ftjob-2", "ftjob-1"]
    assert jobs_requests(httpserver) == 2


def wait_until(condition, timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        threading.Event().wait(0.05)  # the poll interval of a bounded wait


@pytest.mark.parametrize("history", ["events", "checkpoints"])
def test_cache007_finished_job_history_outlives_the_live_ttl(httpserver, shared_cache, history):
    path = f"{JOBS}/j/{history}"
    httpserver.expect_request(path).respond_with_json(listing([{"id": "x1", "created_at": 1, "step_number": 1}]))
    source = DataSource(FineTuningClient(httpserver.url_for("/")), shared_cache, ttl=0.5)
    read = getattr(source, history)

    def upstream() -> int:
        return sum(1 for request, _ in httpserver.log if request.path == path)

    read("j", finished=True)  # fetched first: under one lifetime for all it would expire first
    read("j", finished=False)
    assert upstream() == 2  # live and final are separate entries

    # The live lifetime passes: polling the live entry refetches it at some point.
    wait_until(lambda: read("j", finished=False) is not None and upstream() == 3, 30,
               "the live entry to expire and be fetched again")

    assert [item["id"] for item in read("j", finished=True)] == ["x1"]
    assert upstream() == 3  # the finished entry, older than the expired live one, came from the cache


# -- writes invalidate what they change (a 60 s lifetime: only invalidation explains a fresh read)


class OpenAIBackend:
    """pytest-httpserver serving one job, its history and the files list from mutable state."""

    def __init__(self, server: HTTPServer, status: str):
        self.server = server
        self.job = job("ftjob-1", status)
        self.events = [{"id": "ev-1", "created_at": 1, "level": "info", "message": "Job started"}]
        self.checkpoints = [{"id": "ckpt-1", "created_at": 1, "step_number": 10, "metrics": {}}]
        self.files = [{"id": "file-1", "object": "file", "bytes": 10, "created_at": 1,
                       "filename": "a.jsonl", "purpose": "fine-tune"}]
        serve = self._serve
        server.expect_request(JOBS, method="GET").respond_with_handler(serve(lambda: listing([self.job])))
        server.expect_request(f"{JOBS}/ftjob-1", method="GET").respond_with_handler(serve(lambda: self.job))
        server.expect_request(f"{JOBS}/ftjob-1/events", method="GET").respond_with_handler(
            serve(lambda: listing(list(reversed(self.events)))))  # OpenAI: newest first
        server.expect_request(f"{JOBS}/ftjob-1/checkpoints", method="GET").respond_with_handler(
            serve(lambda: listing(list(reversed(self.checkpoints)))))
        server.expect_request("/v1/files", method="GET").respond_with_handler(serve(lambda: listing(self.files)))
        for action, status in (("cancel", "cancelled"), ("pause", "paused"), ("resume", "running")):
            server.expect_request(f"{JOBS}/ftjob-1/{action}", method="POST").respond_with_handler(
                serve(lambda status=status: self._act(status)))
        server.expect_request("/v1/files", method="POST").respond_with_handler(serve(self._upload))

    @staticmethod
    def _serve(body):
        return lambda request: Response(json.dumps(body()), content_type="application/json")

    def _act(self, status: str) -> dict:
        self.job = {**self.job, "status": status}
        n = len(self.events) + 1
        self.events.append({"id": f"ev-{n}", "created_at": n, "level": "info", "message": f"Job {status}"})
        self.checkpoints.append({"id": f"ckpt-{n}", "created_at": n, "step_number": 10 * n, "metrics": {}})
        return self.job

    def _upload(self) -> dict:
        uploaded = {"id": "file-2", "object": "file", "bytes": 20, "created_at": 2,
                    "filename": "b.jsonl", "purpose": "fine-tune"}
        self.files.append(uploaded)
        return uploaded

    def gets(self) -> dict[str, int]:
        """GETs the server answered, by path."""
        counts: dict[str, int] = {}
        for request, _ in self.server.log:
            if request.method == "GET":
                counts[request.path] = counts.get(request.path, 0) + 1
        return counts


def job_views(source: DataSource) -> tuple:
    """Everything the dashboard reads about ftjob-1 while it is live, as plain values."""
    return ([row["status"] for row in source.jobs_snapshot()["rows"]],
            source.job("ftjob-1")["status"],
            [event["message"] for event in source.events("ftjob-1")],
            [checkpoint["step_number"] for checkpoint in source.checkpoints("ftjob-1")])


@pytest.mark.parametrize(("action", "before", "after"), [
    ("cancel_job", "running", "cancelled"),
    ("pause_job", "running", "paused"),
    ("resume_job", "paused", "running"),
])
def test_cache008_job_actions_invalidate_the_list_the_job_and_its_live_history(
        httpserver, shared_cache, action, before, after):
    backend = OpenAIBackend(httpserver, before)
    source = DataSource(FineTuningClient(httpserver.url_for("/")), shared_cache, ttl=60)
    history = [f"{JOBS}/ftjob-1", f"{JOBS}/ftjob-1/events", f"{JOBS}/ftjob-1/checkpoints"]

    assert job_views(source) == ([before], before, ["Job started"], [10])
    assert job_views(source) == ([before], before, ["Job started"], [10])  # the second read: cached
    assert backend.gets() == {JOBS: 1, **{path: 1 for path in history}}

    answer = getattr(source, action)("ftjob-1")

    assert answer["status"] == after
    assert job_views(source) == ([after], after, ["Job started", f"Job {after}"], [20, 10])
    assert backend.gets() == {JOBS: 2, **{path: 2 for path in history}}  # each refetched once


def test_cache009_upload_invalidates_the_files_list(httpserver, shared_cache):
    backend = OpenAIBackend(httpserver, "running")
    source = DataSource(FineTuningClient(httpserver.url_for("/")), shared_cache, ttl=60)

    assert [f["id"] for f in source.files()] == ["file-1"]
    assert [f["id"] for f in source.files()] == ["file-1"]  # cached
    assert backend.gets() == {"/v1/files": 1}

    uploaded = source.upload_file("b.jsonl", b'{"messages": []}\n')

    assert uploaded["id"] == "file-2"
    assert [f["id"] for f in source.files()] == ["file-2", "file-1"]  # newest first
    assert backend.gets() == {"/v1/files": 2}
