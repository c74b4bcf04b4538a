"""FineTuningClient against a live FakeAI 0.3.2 server (the session fixture ``fakeai``).

Covers every endpoint the dashboard uses as FakeAI really answers it: jobs created,
listed (walking ``has_more``/``after`` pages up to the cap), retrieved and cancelled;
events from the SSE stream in chronological order; checkpoints; files listed and uploaded;
models; and FakeAI's error shapes (``{"detail": "..."}`` and the 422 list) as ApiError.
The bearer-token check uses pytest-httpserver, since FakeAI does not echo headers.
"""

from __future__ import annotations


import pytest
from werkzeug import Response

from fakeai_dash.api.client import ApiError, FineTuningClient
from fakeai_dash.api.models import Checkpoint, Event, FileObject, Job
from tests.support.waiting import wait_until

MODEL = "meta-llama/Llama-3.1-8B-Instruct"


@pytest.fixture
def client(fakeai):
    api = FineTuningClient(fakeai.url, "sk-test", read_timeout=10)
    yield api
    api.close()


@pytest.fixture(scope="module", autouse=True)
def training_job(fakeai):
    """A job started when the module starts; the checkpoint test at the end waits for it."""
    return fakeai.create_job(MODEL, suffix="ckpt-test")


# -- jobs ---------------------------------------------------------------------------------


def test_client001_create_job_returns_parsed_job(client, fakeai):
    file_id = fakeai.files()[0]["id"]

    job = client.create_job({"model": MODEL, "training_file": file_id, "suffix": "created"})

    assert isinstance(job, Job)
    assert job.id.startswith("ftjob-")
    assert job.model == MODEL
    assert job.training_file == file_id
    assert job.status == "validating_files"
    assert job.is_active
    assert job.error is None
    assert job.hyperparameters.n_epochs == 3
    assert job.method_type == "supervised"
    assert fakeai.job(job.id)["id"] == job.id


def test_client002_create_job_with_missing_field_is_422_naming_the_param(client):
    with pytest.raises(ApiError) as caught:
        client.create_job({"model": MODEL})

    error = caught.value
    assert error.status == 422
    assert error.param == "training_file"
    assert "training_file" in error.message
    assert "Field required" in error.message


def test_client003_list_jobs_walks_pages_of_page_size(fakeai):
    for _ in range(5):
        fakeai.create_job(MODEL)
    expected = [job["id"] for job in fakeai.jobs()]
    api = FineTuningClient(fakeai.url, page_size=2)
    try:
        jobs = api.list_jobs()
    finally:
        api.close()

    assert len(expected) >= 5
    assert [job.id for job in jobs] == expected


def test_client004_list_jobs_stops_at_the_cap_across_pages(fakeai):
    for _ in range(5):
        fakeai.create_job(MODEL)
    expected = [job["id"] for job in fakeai.jobs()][:3]
    api = FineTuningClient(fakeai.url, page_size=2)
    try:
        jobs = api.list_jobs(cap=3)
    finally:
        api.close()

    assert [job.id for job in jobs] == expected


def test_client005_list_jobs_default_cap_is_max_jobs(fakeai):
    for _ in range(3):
        fakeai.create_job(MODEL)
    api = FineTuningClient(fakeai.url, max_jobs=2)
    try:
        jobs = api.list_jobs()
    finally:
        api.close()

    assert len(jobs) == 2


def test_client006_retrieve_job_matches_server(client, fakeai):
    created = fakeai.create_job(MODEL, suffix="retrieved")

    job = client.retrieve_job(created["id"])

    assert job.id == created["id"]
    assert job.created_at == created["created_at"]
    assert job.training_file == created["training_file"]
    assert job.organization_id == "org-fakeai"


def test_client007_retrieve_unknown_job_is_404_with_fakeai_message(client):
    with pytest.raises(ApiError) as caught:
        client.retrieve_job("ftjob-does-not-exist")

    assert caught.value.status == 404
    assert caught.value.message == "Fine-tuning job ftjob-does-not-exist not found"
    assert str(caught.value).startswith("HTTP 404: ")


def test_client008_cancel_job_cancels_it(client, fakeai):
    created = fakeai.create_job(MODEL)

    job = client.cancel_job(created["id"])

    assert job.status == "cancelled"
    assert job.is_finished
    assert job.finished_at is not None
    assert fakeai.job(created["id"])["status"] == "cancelled"


def test_client009_cancel_cancelled_job_is_400_with_fakeai_message(client, fakeai):
    created = fakeai.create_job(MODEL)
    fakeai.cancel_job(created["id"])

    with pytest.raises(ApiError) as caught:
        client.cancel_job(created["id"])

    assert caught.value.status == 400
    assert caught.value.message == "Cannot cancel job with status cancelled"


def test_client010_pause_on_fakeai_is_a_404_api_error_not_a_crash(client, fakeai):
    created = fakeai.create_job(MODEL)

    with pytest.raises(ApiError) as caught:
        client.pause_job(created["id"])

    assert caught.value.status == 404


# -- events -------------------------------------------------------------------------------


def test_client011_events_come_from_the_sse_stream_oldest_first(client, fakeai, training_job):
    raw = fakeai.http.get(f"{fakeai.url}/v1/fine_tuning/jobs/{training_job['id']}/events",
                          params={"limit": 100}, timeout=10)
    assert raw.headers["content-type"].startswith("text/event-stream")
    sse_ids = [line.split('"id": "')[1].split('"')[0]
               for line in raw.text.splitlines() if line.startswith("data:")]

    events = client.list_events(training_job["id"])

    assert all(isinstance(event, Event) for event in events)
    assert [event.id for event in events][: len(sse_ids)] == sse_ids
    assert events[0].message == "Fine-tuning job created"
    times = [event.created_at for event in events]
    assert times == sorted(times)


def test_client012_events_of_unknown_job_are_empty_not_a_crash(client):
    # FakeAI 0.3.2 raises inside its SSE generator, after the 200 headers went out, so the
    # body is simply empty: the client can only report "no events".
    assert client.list_events("ftjob-does-not-exist") == []


def test_client013_event_metrics_arrive_as_data_dicts(client, fakeai):
    job = fakeai.create_job(MODEL)

    events = client.list_events(job["id"])

    metrics = [event for event in events if event.type == "metrics"]
    assert metrics, [event.message for event in events]
    assert metrics[0].data["step"] == 0
    assert "train_loss" in metrics[0].data


# -- files and models ---------------------------------------------------------------------


def test_client014_list_files_newest_first_fine_tune_only(client, fakeai):
    files = client.list_files()

    assert files
    assert all(isinstance(f, FileObject) for f in files)
    assert all(f.purpose == "fine-tune" for f in files)
    assert {f.id for f in files} <= {f["id"] for f in fakeai.files()}
    created = [f.created_at for f in files]
    assert created == sorted(created, reverse=True)


def test_client015_upload_file_appears_in_the_file_list(client, fakeai):
    content = b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n'

    uploaded = client.upload_file("mine.jsonl", content)

    assert isinstance(uploaded, FileObject)
    assert uploaded.id.startswith("file-")
    assert uploaded.purpose == "fine-tune"
    assert uploaded.id in {f["id"] for f in fakeai.files()}
    assert uploaded.id in {f.id for f in client.list_files()}


def test_client016_list_models_includes_known_model(client):
    models = client.list_models()

    ids = {model.id for model in models}
    assert len(ids) == len(models) > 0
    assert all(isinstance(model.id, str) and model.id for model in models)


# -- transport ----------------------------------------------------------------------------


def test_client017_api_key_is_sent_as_bearer_token(httpserver):
    seen = []

    def handler(request):
        seen.append(dict(request.headers))
        return Response('{"object": "list", "data": [], "has_more": false}',
                        content_type="application/json")

    httpserver.expect_request("/v1/fine_tuning/jobs").respond_with_handler(handler)
    api = FineTuningClient(httpserver.url_for("/"), "sk-secret-123")
    try:
        assert api.list_jobs() == []
    finally:
        api.close()

    assert len(seen) == 1
    assert seen[0]["Authorization"] == "Bearer sk-secret-123"
    assert "Api-Key" not in seen[0]


def test_client018_no_api_key_sends_no_authorization(httpserver):
    httpserver.expect_request("/v1/fine_tuning/jobs").respond_with_json(
        {"object": "list", "data": [], "has_more": False})
    api = FineTuningClient(httpserver.url_for("/"))
    try:
        api.list_jobs()
    finally:
        api.close()

    request, _ = httpserver.log[0]
    assert "Authorization" not in request.headers


def test_client019_base_url_with_trailing_slash_still_hits_v1(client, fakeai):
    api = FineTuningClient(fakeai.url + "/")
    try:
        assert api.list_jobs(cap=1)
    finally:
        api.close()


# -- checkpoints (last: the module's job needs ~10 s to reach step 25) --------------------


def test_client020_checkpoints_of_a_fresh_job_are_empty(client, fakeai):
    job = fakeai.create_job(MODEL)

    assert client.list_checkpoints(job["id"]) == []


def test_client021_checkpoints_appear_with_normalised_metrics(client, training_job):
    checkpoints = wait_until(lambda: client.list_checkpoints(training_job["id"]), timeout=30)

    first = checkpoints[-1]
    assert isinstance(first, Checkpoint)
    assert first.fine_tuning_job_id == training_job["id"]
    assert first.step_number == 25
    assert first.fine_tuned_model_checkpoint.endswith(":ckpt-test:step-25")
    assert set(first.metrics) >= {"train_loss", "valid_loss", "train_accuracy"}
    assert 0 < first.metrics["train_accuracy"] < 1
