"""The dashboard in Azure OpenAI mode, in the browser, against an Azure-shaped API (pytest-httpserver).

Azure differs in transport: the key travels in an ``api-key`` header (never ``Authorization``),
every call carries ``api-version``, paths live under ``/openai/``; jobs may report ``pending``.
"""

from __future__ import annotations

import json
import re

import pytest
from werkzeug import Response

from fakeai_dash import ids
from tests.support.browser_support import LOAD_TICKS, row_selector, ticks, wait_rows, wait_until

pytestmark = pytest.mark.browser

TICK = 1.0
API_KEY = "azure-secret-key-4f1c9e"
API_VERSION = "2025-02-01-preview"  # not the default: proves the setting reaches every request
T0 = 1_790_000_000
MODEL = "gpt-4o-mini-2024-07-18"


def azure_job(job_id: str, status: str, created_at: int, **extra) -> dict:
    job = {"id": job_id, "object": "fine_tuning.job", "model": MODEL, "created_at": created_at,
           "finished_at": None, "fine_tuned_model": None, "status": status, "training_file": "file-train",
           "validation_file": None, "result_files": [], "trained_tokens": None, "seed": 7,
           "hyperparameters": {"n_epochs": 4, "batch_size": 2, "learning_rate_multiplier": 0.5}}
    job.update(extra)
    return job


PENDING = azure_job("ftjob-az-pending", "pending", T0 + 600)
SUCCEEDED = azure_job("ftjob-az-done", "succeeded", T0, finished_at=T0 + 900, trained_tokens=52_000,
                      fine_tuned_model=f"{MODEL}.ft-az0123456789")
EVENTS = {  # newest first, as Azure (like OpenAI) sends them
    SUCCEEDED["id"]: [
        {"object": "fine_tuning.job.event", "id": "ftevent-3", "created_at": T0 + 900, "level": "info",
         "message": "Training completed on Azure", "type": "message"},
        {"object": "fine_tuning.job.event", "id": "ftevent-2", "created_at": T0 + 120, "level": "info",
         "message": "Job started.", "type": "message"},
        {"object": "fine_tuning.job.event", "id": "ftevent-1", "created_at": T0, "level": "info",
         "message": "Job enqueued.", "type": "message"},
    ],
    PENDING["id"]: [],
}


def listing(items: list) -> dict:
    return {"object": "list", "data": items, "has_more": False}


def azure_error(status: int, message: str) -> Response:
    body = {"error": {"code": "NotFound" if status == 404 else "BadRequest", "message": message}}
    return Response(json.dumps(body), status=status, content_type="application/json")


@pytest.fixture
def azure_api(httpserver):
    """Azure's fine-tuning routes under /openai/; anything else (a /v1/ path included) is a 404."""
    jobs = {job["id"]: job for job in (PENDING, SUCCEEDED)}

    def handle(request):
        path = request.path.removeprefix("/openai")
        if path == "/fine_tuning/jobs":
            body = listing(sorted(jobs.values(), key=lambda j: -j["created_at"]))
        elif match := re.fullmatch(r"/fine_tuning/jobs/([^/]+)(?:/(events|checkpoints))?", path):
            job_id, part = match.groups()
            if job_id not in jobs:
                return azure_error(404, f"The specified job {job_id} was not found.")
            body = jobs[job_id] if part is None else listing(EVENTS[job_id] if part == "events" else [])
        elif path == "/files":
            body = listing([{"id": "file-train", "object": "file", "created_at": T0, "filename": "train.jsonl",
                             "purpose": "fine-tune", "status": "processed", "bytes": 1000}])
        elif path == "/models":
            body = listing([{"id": MODEL, "object": "model"}])
        else:
            return azure_error(404, "Resource not found")
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request(re.compile(r"/.*")).respond_with_handler(handle)
    return httpserver


def test_azure_browser001_lists_and_opens_jobs_over_azure_transport(azure_api, start_dash):
    dash_duo = start_dash(azure_api.url_for("/").rstrip("/"), refresh_interval=TICK, api_type="azure",
                          api_key=API_KEY, azure_api_version=API_VERSION)

    # The list shows both jobs, Azure's "pending" as a known status.
    wait_rows(dash_duo, lambda seen: seen == {PENDING["id"], SUCCEEDED["id"]}, ticks(LOAD_TICKS, TICK),
              "the Azure jobs")
    badge = dash_duo.find_element(row_selector(PENDING["id"]) + " .status-badge")
    assert badge.get_attribute("class").split() == ["status-badge", "status-pending"]
    dash_duo.wait_for_text_to_equal("#stat-total .stat-value", "2", timeout=ticks(5, TICK))
    dash_duo.wait_for_text_to_equal("#stat-active .stat-value", "1", timeout=ticks(5, TICK))

    # Opening a job shows its details, fetched over the same transport.
    dash_duo.find_element(row_selector(SUCCEEDED["id"]) + " .job-cell").click()
    wait_until(lambda: dash_duo.driver.current_url.endswith(f"/jobs/{SUCCEEDED['id']}"), ticks(10, TICK))
    dash_duo.wait_for_text_to_equal(f"#{ids.JobDetails.JOB_ID}", SUCCEEDED["id"], timeout=ticks(10, TICK))
    dash_duo.wait_for_text_to_equal(f"#{ids.JobDetails.FINE_TUNED}", SUCCEEDED["fine_tuned_model"],
                                    timeout=ticks(10, TICK))
    assert dash_duo.find_element(f"#{ids.JobDetails.STATUS}").get_attribute("textContent").lower() == "succeeded"
    assert MODEL in dash_duo.find_element(f"#{ids.JobDetails.MODEL}").text
    dash_duo.wait_for_contains_text(f"#{ids.Hyperparameters.BODY}", "Epochs", timeout=ticks(10, TICK))
    epochs = dash_duo.driver.execute_script("""
        const dt = [...document.querySelectorAll('#hyperparameters dt')].find(d => d.textContent === 'Epochs');
        return dt ? dt.nextElementSibling.textContent : null;""")
    assert epochs == "4"
    dash_duo.wait_for_contains_text("#events-log-grid", "Training completed on Azure", timeout=ticks(10, TICK))

    # Every request really went the Azure way: /openai/ paths, the api-key header, the api-version.
    requests = [request for request, _ in azure_api.log]
    paths = {request.path for request in requests}
    assert {"/openai/fine_tuning/jobs", f"/openai/fine_tuning/jobs/{SUCCEEDED['id']}",
            f"/openai/fine_tuning/jobs/{SUCCEEDED['id']}/events"} <= paths
    for request in requests:
        assert request.path.startswith("/openai/"), request.path
        assert request.headers.get("api-key") == API_KEY, request.path
        assert "Authorization" not in request.headers, request.path
        assert request.args.get("api-version") == API_VERSION, request.url
    assert all(response.status_code == 200 for _, response in azure_api.log), [
        (r.path, s.status_code) for r, s in azure_api.log if s.status_code != 200]

    # The key stays on the server: not in the page, not in anything Dash holds in the browser.
    assert API_KEY not in dash_duo.driver.page_source
    assert API_KEY not in dash_duo.driver.execute_script("return JSON.stringify(window.store.getState())")
    assert "Traceback" not in dash_duo.driver.page_source
    assert dash_duo.get_logs() == []
