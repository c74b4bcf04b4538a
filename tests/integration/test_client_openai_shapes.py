"""FineTuningClient against pytest-httpserver serving the shapes OpenAI documents.

What differs from FakeAI and must still come out the same: events as a JSON list newest
first, paged with ``after``; the ``{"error": {...}}`` envelope; ``error`` as ``{}`` or
all-null on a healthy job; ``paused``/``pending`` statuses; hyperparameters nested under
``method.<type>``; ``*_mean_token_accuracy`` metric names. And the transport contract:
GETs retried on 429/5xx honouring Retry-After, a create never re-sent, and connection
refused, read timeouts and garbage bodies all turned into a readable ApiError.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from fakeai_dash.api.client import ApiError, FineTuningClient
from fakeai_dash.embedded import free_port

JOBS = "/v1/fine_tuning/jobs"


def openai_job(job_id: str = "ftjob-abc123", **changes) -> dict:
    """A job exactly as OpenAI's API reference shows one (newer, method-nested shape)."""
    job = {
        "object": "fine_tuning.job",
        "id": job_id,
        "model": "gpt-4o-mini-2024-07-18",
        "created_at": 1721764800,
        "finished_at": None,
        "fine_tuned_model": None,
        "organization_id": "org-123",
        "result_files": [],
        "status": "queued",
        "validation_file": None,
        "training_file": "file-abc123",
        "hyperparameters": {"n_epochs": "auto", "batch_size": "auto",
                            "learning_rate_multiplier": "auto"},
        "trained_tokens": None,
        "error": {},
        "integrations": [],
        "seed": 683058546,
        "estimated_finish": None,
        "method": {"type": "supervised", "supervised": {"hyperparameters": {
            "batch_size": "auto", "learning_rate_multiplier": "auto", "n_epochs": "auto"}}},
        "metadata": None,
        "user_provided_suffix": None,
    }
    job.update(changes)
    return job


def page(items: list[dict], has_more: bool = False, **extra) -> dict:
    return {"object": "list", "data": items, "has_more": has_more, **extra}


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers,
                    content_type="application/json")


@pytest.fixture
def client(httpserver):
    api = FineTuningClient(httpserver.url_for("/"), "sk-test", connect_timeout=1, read_timeout=5)
    yield api
    api.close()


def requests_to(httpserver, path: str) -> list[Request]:
    return [request for request, _ in httpserver.log if request.path == path]


# -- events -------------------------------------------------------------------------------


def test_shapes001_events_paged_newest_first_come_out_chronological(client, httpserver):
    events = [{"object": "fine_tuning.job.event", "id": f"ftevent-{n}", "created_at": 1700000000 + n,
               "level": "warn" if n == 5 else "info", "message": f"Step {n}", "data": {},
               "type": "message"} for n in range(1, 10)]
    newest_first = list(reversed(events))
    pages = {None: (newest_first[0:3], True), "ftevent-7": (newest_first[3:6], True),
             "ftevent-4": (newest_first[6:9], False)}

    def handler(request):
        items, more = pages[request.args.get("after")]
        return json_response(page(items, more))

    httpserver.expect_request(f"{JOBS}/ftjob-abc123/events").respond_with_handler(handler)

    result = client.list_events("ftjob-abc123")

    assert [event.id for event in result] == [f"ftevent-{n}" for n in range(1, 10)]
    assert [r.args.get("after") for r in requests_to(httpserver, f"{JOBS}/ftjob-abc123/events")] \
        == [None, "ftevent-7", "ftevent-4"]
    assert result[4].level == "warn"  # unknown levels kept as they came


def test_shapes002_events_stop_at_an_empty_page_even_if_has_more(client, httpserver):
    def handler(request):
        if request.args.get("after"):
            return json_response(page([], True))
        return json_response(page([{"id": "ftevent-2", "created_at": 2}, {"id": "ftevent-1", "created_at": 1}], True))

    httpserver.expect_request(f"{JOBS}/j/events").respond_with_handler(handler)

    assert [event.id for event in client.list_events("j")] == ["ftevent-1", "ftevent-2"]
    assert len(requests_to(httpserver, f"{JOBS}/j/events")) == 2


def test_shapes029_events_server_ignoring_after_is_not_walked_100_times(client, httpserver):
    httpserver.expect_request(f"{JOBS}/j/events").respond_with_json(
        page([{"id": "ftevent-2", "created_at": 2}, {"id": "ftevent-1", "created_at": 1}], True))

    assert [event.id for event in client.list_events("j")] == ["ftevent-1", "ftevent-2"]
    assert len(requests_to(httpserver, f"{JOBS}/j/events")) == 2


def test_shapes003_event_metrics_names_normalised(client, httpserver):
    data = {"step": 10, "train_loss": 1.2, "train_mean_token_accuracy": 0.61,
            "valid_loss": 1.4, "valid_mean_token_accuracy": 0.58,
            "full_valid_loss": 1.5, "full_valid_mean_token_accuracy": 0.57, "total_steps": 90}
    httpserver.expect_request(f"{JOBS}/j/events").respond_with_json(page([
        {"object": "fine_tuning.job.event", "id": "ftevent-1", "created_at": 1, "level": "info",
         "message": "Step 10/90: training loss=1.2", "data": data, "type": "metrics"}]))

    [event] = client.list_events("j")

    assert event.data == {"step": 10, "train_loss": 1.2, "train_accuracy": 0.61,
                          "valid_loss": 1.4, "valid_accuracy": 0.58, "full_valid_loss": 1.5,
                          "full_valid_accuracy": 0.57, "total_steps": 90}


# -- error envelope -----------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 404, 429, 500])
def test_shapes004_error_envelope_becomes_api_error(client, httpserver, status):
    body = {"error": {"message": f"Problem {status}", "type": "invalid_request_error",
                      "param": "training_file", "code": "invalid_file"}}
    httpserver.expect_request(JOBS, method="POST").respond_with_json(body, status=status)

    with pytest.raises(ApiError) as caught:
        client.create_job({"model": "gpt-4o-mini-2024-07-18", "training_file": "file-x"})

    error = caught.value
    assert (error.status, error.message, error.param, error.code) == \
        (status, f"Problem {status}", "training_file", "invalid_file")
    assert str(error) == f"HTTP {status}: Problem {status}"


def test_shapes005_error_envelope_with_null_param_and_code(client, httpserver):
    httpserver.expect_request(f"{JOBS}/nope").respond_with_json(
        {"error": {"message": "No such job: nope", "type": "invalid_request_error",
                   "param": None, "code": None}}, status=404)

    with pytest.raises(ApiError) as caught:
        client.retrieve_job("nope")

    assert (caught.value.status, caught.value.message) == (404, "No such job: nope")
    assert caught.value.param is None and caught.value.code is None


# -- lenient job parsing ------------------------------------------------------------------


@pytest.mark.parametrize("error", [{}, None, {"code": None, "message": None, "param": None},
                                   {"code": "", "message": "", "param": None}])
def test_shapes006_healthy_job_error_is_none(client, httpserver, error):
    httpserver.expect_request(f"{JOBS}/ftjob-abc123").respond_with_json(openai_job(error=error))

    assert client.retrieve_job("ftjob-abc123").error is None


def test_shapes007_failed_job_error_kept(client, httpserver):
    error = {"code": "invalid_training_file", "message": "Line 3 is not JSON", "param": "training_file"}
    httpserver.expect_request(f"{JOBS}/ftjob-abc123").respond_with_json(
        openai_job(status="failed", error=error))

    job = client.retrieve_job("ftjob-abc123")

    assert job.is_finished
    assert job.error.model_dump() == error


@pytest.mark.parametrize("status", ["paused", "pending", "something_new"])
def test_shapes008_unknown_and_newer_statuses_kept(client, httpserver, status):
    httpserver.expect_request(JOBS).respond_with_json(page([openai_job(status=status)]))

    [job] = client.list_jobs()

    assert job.status == status
    assert job.is_active == (status in ("paused", "pending"))
    assert not job.is_finished


def test_shapes009_supervised_hyperparameters_under_method(client, httpserver):
    job = openai_job(method={"type": "supervised", "supervised": {"hyperparameters": {
        "n_epochs": 4, "batch_size": 8, "learning_rate_multiplier": 1.8}}})
    del job["hyperparameters"]
    httpserver.expect_request(f"{JOBS}/ftjob-abc123").respond_with_json(job)

    parsed = client.retrieve_job("ftjob-abc123")

    assert parsed.method_type == "supervised"
    assert (parsed.hyperparameters.n_epochs, parsed.hyperparameters.batch_size,
            parsed.hyperparameters.learning_rate_multiplier) == (4, 8, 1.8)


def test_shapes010_dpo_hyperparameters_with_beta_win_over_top_level(client, httpserver):
    job = openai_job(method={"type": "dpo", "dpo": {"hyperparameters": {
        "beta": 0.1, "n_epochs": 2, "batch_size": "auto", "learning_rate_multiplier": None}}},
        hyperparameters={"n_epochs": "auto", "batch_size": 1, "learning_rate_multiplier": 0.5})
    httpserver.expect_request(f"{JOBS}/ftjob-abc123").respond_with_json(job)

    parsed = client.retrieve_job("ftjob-abc123")

    assert parsed.method_type == "dpo"
    assert parsed.hyperparameters.beta == 0.1
    assert parsed.hyperparameters.n_epochs == 2
    assert parsed.hyperparameters.batch_size == "auto"
    assert parsed.hyperparameters.learning_rate_multiplier == 0.5  # null nested keeps top-level


def test_shapes011_checkpoint_metrics_normalised_and_paged_by_last_id(client, httpserver):
    def checkpoint(step: int) -> dict:
        return {"object": "fine_tuning.job.checkpoint", "id": f"ftckpt-{step}",
                "created_at": 1721764867 + step, "fine_tuning_job_id": "ftjob-abc123",
                "fine_tuned_model_checkpoint": f"ft:gpt-4o-mini-2024-07-18:org:sfx:ckpt-step-{step}",
                "step_number": step,
                "metrics": {"step": step, "train_loss": 0.3, "train_mean_token_accuracy": 0.9,
                            "valid_loss": 0.4, "valid_mean_token_accuracy": 0.85,
                            "full_valid_loss": 0.45, "full_valid_mean_token_accuracy": 0.84}}

    def handler(request):
        if request.args.get("after") == "ftckpt-200":
            return json_response(page([checkpoint(100)], False, first_id="ftckpt-100", last_id="ftckpt-100"))
        return json_response(page([checkpoint(300), checkpoint(200)], True,
                                  first_id="ftckpt-300", last_id="ftckpt-200"))

    httpserver.expect_request(f"{JOBS}/ftjob-abc123/checkpoints").respond_with_handler(handler)

    checkpoints = client.list_checkpoints("ftjob-abc123")

    assert [c.step_number for c in checkpoints] == [300, 200, 100]
    assert checkpoints[0].metrics == {"step": 300, "train_loss": 0.3, "train_accuracy": 0.9,
                                      "valid_loss": 0.4, "valid_accuracy": 0.85,
                                      "full_valid_loss": 0.45, "full_valid_accuracy": 0.84}


def test_shapes012_pause_and_resume_post_to_their_endpoints(client, httpserver):
    httpserver.expect_request(f"{JOBS}/ftjob-abc123/pause", method="POST").respond_with_json(
        openai_job(status="paused"))
    httpserver.expect_request(f"{JOBS}/ftjob-abc123/resume", method="POST").respond_with_json(
        openai_job(status="running"))

    assert client.pause_job("ftjob-abc123").status == "paused"
    assert client.resume_job("ftjob-abc123").status == "running"
    assert [r.path for r, _ in httpserver.log] == [f"{JOBS}/ftjob-abc123/pause", f"{JOBS}/ftjob-abc123/resume"]


def test_shapes013_files_filtered_to_fine_tune_and_newest_first(client, httpserver):
    httpserver.expect_request("/v1/files").respond_with_json(page([
        {"id": "file-old", "object": "file", "bytes": 10, "created_at": 1, "filename": "a.jsonl", "purpose": "fine-tune"},
        {"id": "file-batch", "object": "file", "bytes": 10, "created_at": 5, "filename": "b.jsonl", "purpose": "batch"},
        {"id": "file-new", "object": "file", "bytes": 10, "created_at": 9, "filename": "c.jsonl", "purpose": "fine-tune"},
    ]))

    assert [f.id for f in client.list_files()] == ["file-new", "file-old"]
    assert requests_to(httpserver, "/v1/files")[0].args["purpose"] == "fine-tune"


# -- jobs list paging ---------------------------------------------------------------------


@pytest.fixture
def seven_jobs(httpserver):
    """A jobs endpoint honouring ``limit`` and ``after`` over seven jobs, newest first."""
    jobs = [openai_job(f"ftjob-{n}", created_at=1700000000 + n) for n in range(7, 0, -1)]

    def handler(request):
        limit = int(request.args.get("limit", 20))
        after = request.args.get("after")
        start = next(i for i, job in enumerate(jobs) if job["id"] == after) + 1 if after else 0
        chunk = jobs[start:start + limit]
        return json_response(page(chunk, start + limit < len(jobs)))

    httpserver.expect_request(JOBS).respond_with_handler(handler)
    return [job["id"] for job in jobs]


def test_shapes014_jobs_list_walks_has_more_after_to_the_end(httpserver, seven_jobs):
    api = FineTuningClient(httpserver.url_for("/"), page_size=3)

    jobs = api.list_jobs()

    assert [job.id for job in jobs] == seven_jobs
    assert [(r.args.get("limit"), r.args.get("after")) for r in requests_to(httpserver, JOBS)] == \
        [("3", None), ("3", "ftjob-5"), ("3", "ftjob-2")]


def test_shapes015_jobs_list_stops_at_the_cap(httpserver, seven_jobs):
    api = FineTuningClient(httpserver.url_for("/"), page_size=2)

    jobs = api.list_jobs(cap=5)

    assert [job.id for job in jobs] == seven_jobs[:5]
    assert [r.args.get("limit") for r in requests_to(httpserver, JOBS)] == ["2", "2", "1"]


def test_shapes016_server_repeating_a_page_does_not_loop_forever(client, httpserver):
    httpserver.expect_request(JOBS).respond_with_json(page([openai_job("ftjob-1")], True))

    jobs = client.list_jobs()

    assert [job.id for job in jobs] == ["ftjob-1"]  # the grid keys rows by id: once only
    assert [r.args.get("after") for r in requests_to(httpserver, JOBS)] == [None, "ftjob-1"]


def test_shapes030_a_job_on_two_pages_is_listed_once_where_it_first_came(httpserver):
    # An offset-paging proxy shifts the list when a job is created between two pages: the
    # last job of page one comes again at the top of page two (and a page may repeat itself).
    first = [openai_job("ftjob-5"), openai_job("ftjob-4"), openai_job("ftjob-5", status="running")]
    second = [openai_job("ftjob-4", status="succeeded"), openai_job("ftjob-3"), openai_job("ftjob-2")]

    def handler(request):
        if request.args.get("after") == "ftjob-5":
            return json_response(page(second, False))
        return json_response(page(first, True))

    httpserver.expect_request(JOBS).respond_with_handler(handler)
    api = FineTuningClient(httpserver.url_for("/"), page_size=3)

    jobs = api.list_jobs()

    assert [(job.id, job.status) for job in jobs] == [
        ("ftjob-5", "queued"), ("ftjob-4", "queued"), ("ftjob-3", "queued"), ("ftjob-2", "queued")]
    assert [r.args.get("after") for r in requests_to(httpserver, JOBS)] == [None, "ftjob-5"]


def test_shapes031_a_checkpoint_on_two_pages_is_listed_once(client, httpserver):
    def checkpoint(step: int, loss: float = 0.5) -> dict:
        return {"object": "fine_tuning.job.checkpoint", "id": f"ftckpt-{step}", "created_at": step,
                "fine_tuning_job_id": "j", "fine_tuned_model_checkpoint": f"ft:m:ckpt-{step}",
                "step_number": step, "metrics": {"step": step, "train_loss": loss}}

    def handler(request):
        if request.args.get("after") == "ftckpt-200":
            return json_response(page([checkpoint(200, 9.9), checkpoint(100)], False))
        return json_response(page([checkpoint(300), checkpoint(200)], True, last_id="ftckpt-200"))

    httpserver.expect_request(f"{JOBS}/j/checkpoints").respond_with_handler(handler)

    checkpoints = client.list_checkpoints("j")

    assert [(c.step_number, c.metrics["train_loss"]) for c in checkpoints] == [(300, 0.5), (200, 0.5), (100, 0.5)]
    assert len(requests_to(httpserver, f"{JOBS}/j/checkpoints")) == 2


# -- retries ------------------------------------------------------------------------------


def test_shapes017_429_with_retry_after_is_retried_after_waiting(client, httpserver):
    arrivals = []

    def handler(request):
        arrivals.append(time.monotonic())
        if len(arrivals) == 1:
            return json_response({"error": {"message": "Rate limit reached", "type": "requests"}},
                                 429, {"Retry-After": "1"})
        return json_response(page([openai_job()]))

    httpserver.expect_request(JOBS).respond_with_handler(handler)

    jobs = client.list_jobs()

    assert [job.id for job in jobs] == ["ftjob-abc123"]
    assert len(arrivals) == 2
    assert arrivals[1] - arrivals[0] >= 0.95


def test_shapes018_unreadable_retry_after_still_retries(client, httpserver):
    arrivals = []

    def handler(request):
        arrivals.append(request)
        if len(arrivals) == 1:
            return json_response({"error": {"message": "slow down"}}, 429, {"Retry-After": "soon"})
        return json_response(page([]))

    httpserver.expect_request(JOBS).respond_with_handler(handler)

    assert client.list_jobs() == []
    assert len(arrivals) == 2


def test_shapes019_persistent_503_on_get_gives_up_with_the_error(client, httpserver):
    httpserver.expect_request(f"{JOBS}/j").respond_with_json(
        {"error": {"message": "The engine is currently overloaded", "type": "server_error"}}, status=503)

    with pytest.raises(ApiError) as caught:
        client.retrieve_job("j")

    assert caught.value.status == 503
    assert caught.value.message == "The engine is currently overloaded"
    assert len(requests_to(httpserver, f"{JOBS}/j")) == 4  # the first try and three retries


@pytest.mark.parametrize("status", [503, 429, 500])
def test_shapes020_create_is_never_resent(client, httpserver, status):
    httpserver.expect_request(JOBS, method="POST").respond_with_json(
        {"error": {"message": "try later"}}, status=status, headers={"Retry-After": "0"})

    with pytest.raises(ApiError) as caught:
        client.create_job({"model": "gpt-4o-mini-2024-07-18", "training_file": "file-x"})

    assert caught.value.status == status
    assert len(requests_to(httpserver, JOBS)) == 1


def test_shapes021_cancel_is_never_resent(client, httpserver):
    httpserver.expect_request(f"{JOBS}/j/cancel", method="POST").respond_with_json(
        {"error": {"message": "busy"}}, status=503)

    with pytest.raises(ApiError):
        client.cancel_job("j")

    assert len(requests_to(httpserver, f"{JOBS}/j/cancel")) == 1


# -- transport failures -------------------------------------------------------------------


def test_shapes022_connection_refused_is_readable_api_error():
    base = f"http://127.0.0.1:{free_port()}"
    api = FineTuningClient(base, connect_timeout=1)

    with pytest.raises(ApiError) as caught:
        api.list_jobs()

    assert caught.value.status is None
    assert caught.value.message == f"Cannot reach the API at {base}"
    assert "Traceback" not in str(caught.value)


MARKER = "/marker"


@pytest.fixture
def stalling_server():
    """A threaded server whose jobs handler holds every request until teardown.

    Each arrival is recorded in order; ``/marker`` answers at once, so a test can learn
    that every connection opened before it has been taken in.
    """
    release = threading.Event()
    arrivals = []
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)

    def stall(request):
        arrivals.append(request.path)
        release.wait(30)  # longer than any test waits: an answer means the client waited it out
        return json_response(page([]))

    def marker(request):
        arrivals.append(request.path)
        return json_response({})

    server.expect_request(JOBS).respond_with_handler(stall)
    server.expect_request(MARKER).respond_with_handler(marker)
    server.start()
    try:
        yield server, arrivals
    finally:
        release.set()
        server.stop()


def test_shapes023_read_timeout_is_readable_api_error_and_not_retried(stalling_server):
    server, arrivals = stalling_server
    api = FineTuningClient(server.url_for("/"), connect_timeout=1, read_timeout=0.5)

    # The server never answers while the test runs: raising at all means the client gave up.
    with pytest.raises(ApiError) as caught:
        api.list_jobs()

    assert caught.value.status is None
    assert "did not answer within 0.5 s" in caught.value.message
    # Any retry was sent before list_jobs raised; the server takes connections in order, so
    # once the marker is in, every jobs request the client made is recorded before it.
    assert requests.get(server.url_for(MARKER), timeout=10).ok
    assert arrivals == [JOBS, MARKER]


def test_shapes024_non_json_200_is_api_error(client, httpserver):
    httpserver.expect_request(f"{JOBS}/j").respond_with_data("hello, not json", content_type="text/plain")

    with pytest.raises(ApiError) as caught:
        client.retrieve_job("j")

    assert caught.value.message == "The API sent an answer that is not JSON"


def test_shapes025_html_error_page_becomes_its_title(client, httpserver):
    html = ("<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
            "<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>")
    httpserver.expect_request(JOBS, method="POST").respond_with_data(html, status=502, content_type="text/html")

    with pytest.raises(ApiError) as caught:
        client.create_job({"model": "m", "training_file": "f"})

    assert caught.value.status == 502
    assert caught.value.message == "502 Bad Gateway"


def the_only_request(httpserver) -> Request:
    """The one request the server saw (a wrong URL would be retried, or answered 500)."""
    [(request, _)] = httpserver.log
    return request


def test_shapes026_html_200_on_a_list_is_api_error(client, httpserver):
    httpserver.expect_request(JOBS).respond_with_data("<html><body>Sign in</body></html>", content_type="text/html")

    with pytest.raises(ApiError) as caught:
        client.list_jobs()

    assert (caught.value.status, caught.value.message) == (200, "The API sent an answer that is not JSON")
    request = the_only_request(httpserver)
    assert (request.method, request.path, request.args.to_dict(), request.get_data()) == \
        ("GET", JOBS, {"limit": "100"}, b"")
    assert request.headers["Authorization"] == "Bearer sk-test"


@pytest.mark.parametrize(("body", "page_where", "job_where"), [
    ([1, 2], "Page", "Job"),
    ({"data": "nope"}, "data", "id"),
    ({"data": {"id": "x"}}, "data", "id"),
    ("just a string", "Page", "Job"),
    (42, "Page", "Job"),
])
def test_shapes027_wrong_json_shapes_are_api_errors(client, httpserver, body, page_where, job_where):
    httpserver.expect_request(JOBS).respond_with_json(body)
    httpserver.expect_request(f"{JOBS}/j").respond_with_json(body)

    with pytest.raises(ApiError) as listing:
        client.list_jobs()
    with pytest.raises(ApiError) as retrieving:
        client.retrieve_job("j")

    # No status: the answer was a 200 the client could not read, not an HTTP error.
    assert listing.value.status is None
    assert listing.value.message.startswith(f"The API sent an unexpected page ({page_where}: ")
    assert retrieving.value.status is None
    assert retrieving.value.message.startswith(f"The API sent an unexpected job ({job_where}: ")
    assert [(r.method, r.path, r.args.to_dict(), r.get_data()) for r, _ in httpserver.log] == [
        ("GET", JOBS, {"limit": "100"}, b""), ("GET", f"{JOBS}/j", {}, b"")]


def test_shapes028_events_neither_json_nor_sse_is_api_error(client, httpserver):
    httpserver.expect_request(f"{JOBS}/j/events").respond_with_data("<html>oops</html>", content_type="text/html")

    with pytest.raises(ApiError) as caught:
        client.list_events("j")

    assert (caught.value.status, caught.value.message) == (200, "The API sent events that are neither JSON nor SSE")
    request = the_only_request(httpserver)
    assert (request.method, request.path, request.args.to_dict(), request.get_data()) == \
        ("GET", f"{JOBS}/j/events", {"limit": "100"}, b"")


def test_shapes040_a_plain_text_traceback_never_becomes_the_message(httpserver):
    body = ('Traceback (most recent call last):\n  File "/srv/app.py", line 12, in handler\n'
            '    raise RuntimeError("db password=hunter2")\nRuntimeError: db password=hunter2\n')
    httpserver.expect_request("/v1/fine_tuning/jobs").respond_with_data(body, status=500, content_type="text/plain")
    client = FineTuningClient(httpserver.url_for("").rstrip("/"))
    with pytest.raises(ApiError) as raised:
        client.list_jobs()
    assert raised.value.status == 500
    assert raised.value.message == "INTERNAL SERVER ERROR"  # the reason, not the server's internals
    assert "Traceback" not in str(raised.value) and "hunter2" not in str(raised.value)
