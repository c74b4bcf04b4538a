"""FineTuningClient in Azure OpenAI mode against pytest-httpserver.

Azure differs in transport only: the key goes in an ``api-key`` header (never
``Authorization``), every call carries the ``api-version`` query, and paths live under
``/openai/`` instead of ``/v1/``. Jobs may report ``pending``.
"""

from __future__ import annotations

import json

import pytest
from werkzeug import Response

from fakeai_dash.api.client import ApiError, FineTuningClient, client_from_settings
from fakeai_dash.config import Settings

API_VERSION = "2024-10-21"
JOB = {"id": "ftjob-az1", "object": "fine_tuning.job", "model": "gpt-4o-mini-2024-07-18",
       "created_at": 1721764800, "status": "pending", "training_file": "file-1",
       "hyperparameters": {"n_epochs": -1, "batch_size": -1, "learning_rate_multiplier": 1}}


def listing(items):
    return {"object": "list", "data": items, "has_more": False}


@pytest.fixture
def azure_server(httpserver):
    """Every endpoint the client uses, under /openai/, answering with Azure-ish bodies."""
    routes = {
        ("GET", "/openai/fine_tuning/jobs"): listing([JOB]),
        ("GET", "/openai/fine_tuning/jobs/ftjob-az1"): JOB,
        ("POST", "/openai/fine_tuning/jobs"): JOB,
        ("POST", "/openai/fine_tuning/jobs/ftjob-az1/cancel"): {**JOB, "status": "cancelled"},
        ("POST", "/openai/fine_tuning/jobs/ftjob-az1/pause"): {**JOB, "status": "paused"},
        ("POST", "/openai/fine_tuning/jobs/ftjob-az1/resume"): {**JOB, "status": "running"},
        ("GET", "/openai/fine_tuning/jobs/ftjob-az1/events"): listing([
            {"id": "ftevent-2", "created_at": 2, "level": "info", "message": "Job started"},
            {"id": "ftevent-1", "created_at": 1, "level": "info", "message": "Job enqueued"}]),
        ("GET", "/openai/fine_tuning/jobs/ftjob-az1/checkpoints"): listing([]),
        ("GET", "/openai/files"): listing([{"id": "file-1", "created_at": 1, "filename": "t.jsonl",
                                            "purpose": "fine-tune", "status": "processed"}]),
        ("POST", "/openai/files"): {"id": "file-2", "created_at": 2, "filename": "u.jsonl",
                                    "purpose": "fine-tune", "status": "pending"},
        ("GET", "/openai/models"): listing([{"id": "gpt-4o-mini-2024-07-18"}]),
    }
    for (method, path), body in routes.items():
        httpserver.expect_request(path, method=method).respond_with_response(
            Response(json.dumps(body), content_type="application/json"))
    return httpserver


@pytest.fixture
def client(azure_server):
    api = FineTuningClient(azure_server.url_for("/"), "azure-key-123", api_type="azure",
                           azure_api_version=API_VERSION)
    yield api
    api.close()


def call_every_endpoint(api: FineTuningClient) -> None:
    assert [job.id for job in api.list_jobs()] == ["ftjob-az1"]
    assert api.retrieve_job("ftjob-az1").status == "pending"
    assert api.create_job({"model": "gpt-4o-mini-2024-07-18", "training_file": "file-1"}).id == "ftjob-az1"
    assert api.cancel_job("ftjob-az1").status == "cancelled"
    assert api.pause_job("ftjob-az1").status == "paused"
    assert api.resume_job("ftjob-az1").status == "running"
    assert [e.message for e in api.list_events("ftjob-az1")] == ["Job enqueued", "Job started"]
    assert api.list_checkpoints("ftjob-az1") == []
    assert [f.id for f in api.list_files()] == ["file-1"]
    assert api.upload_file("u.jsonl", b"{}\n").id == "file-2"
    assert [m.id for m in api.list_models()] == ["gpt-4o-mini-2024-07-18"]


def test_azure001_every_call_goes_under_openai_with_api_version(client, azure_server):
    call_every_endpoint(client)

    assert len(azure_server.log) == 11
    for request, response in azure_server.log:
        assert request.path.startswith("/openai/"), request.path
        assert "/v1/" not in request.path
        assert request.args.get("api-version") == API_VERSION, request.url
        assert response.status_code == 200, request.path


def test_azure002_api_key_header_and_no_authorization(client, azure_server):
    call_every_endpoint(client)

    for request, _ in azure_server.log:
        assert request.headers.get("api-key") == "azure-key-123", request.path
        assert "Authorization" not in request.headers, request.path


def test_azure003_pending_status_kept_and_active(client):
    job = client.retrieve_job("ftjob-az1")

    assert job.status == "pending"
    assert job.is_active and not job.is_finished
    assert job.hyperparameters.n_epochs == -1


def test_azure004_api_version_kept_beside_paging_params(client, azure_server):
    client.list_jobs(cap=7)

    request, _ = azure_server.log[0]
    assert request.args.get("api-version") == API_VERSION
    assert request.args.get("limit") == "7"


def test_azure005_settings_select_azure_transport(azure_server):
    settings = Settings(_env_file=None, api_base=azure_server.url_for("/"), api_type="azure",
                        api_key="from-settings", azure_api_version="2025-01-01-preview")
    api = client_from_settings(settings)

    api.list_jobs()

    request, _ = azure_server.log[0]
    assert request.path == "/openai/fine_tuning/jobs"
    assert request.headers.get("api-key") == "from-settings"
    assert request.args.get("api-version") == "2025-01-01-preview"


def test_azure006_azure_error_envelope(client, httpserver):
    httpserver.expect_request("/openai/fine_tuning/jobs/missing").respond_with_json(
        {"error": {"code": "NotFound", "message": "The specified job was not found."}}, status=404)

    with pytest.raises(ApiError) as caught:
        client.retrieve_job("missing")

    assert (caught.value.status, caught.value.code) == (404, "NotFound")
    assert caught.value.message == "The specified job was not found."
