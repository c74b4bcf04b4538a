"""Ids from a browser are untrusted: a hostile one gets a clear message and no request reaches
the API (the owner's key would go with it)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakeai_dash.api.client import FineTuningClient, client_from_settings
from fakeai_dash.config import Settings
from fakeai_dash.sync import build_source
from fakeai_dash.validation import InvalidId, is_valid_id

TRAVERSALS = ["../../batches/batch_123", "../../files/file-abc/content", "..", ".", "ftjob-1/../../x",
              "ftjob-1?x=1", "ftjob-1#x", "ftjob 1", "", "a" * 200, "%2e%2e", "ftjob-1\n", "ftjob-\u00e9"]


@pytest.fixture(scope="module")
def api(httpserver_listen_address=None):
    from pytest_httpserver import HTTPServer

    server = HTTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def source(api, tmp_path_factory):
    settings = Settings(_env_file=None, api_base=api.url_for("").rstrip("/"),
                        data_dir=str(tmp_path_factory.mktemp("d")))
    source = build_source(settings, client_from_settings(settings))
    source.engine.start()
    yield source
    source.close()


def _calls(source, job_id):
    return [lambda: source.job_detail(job_id), lambda: source.cancel_job(job_id),
            lambda: source.pause_job(job_id), lambda: source.resume_job(job_id),
            lambda: source.events_page(job_id), lambda: source.events_page("ftjob-1", before=job_id)]


@pytest.mark.parametrize("job_id", TRAVERSALS)
def test_ids001_known_hostile_ids_are_refused_before_any_request(source, api, job_id):
    api.clear_log()
    for call in _calls(source, job_id):
        with pytest.raises(InvalidId, match="not a valid"):
            call()
    assert api.log == []


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.text(max_size=300))
def test_ids002_any_text_that_is_not_an_id_never_reaches_the_api(source, api, job_id):
    if is_valid_id(job_id):
        return
    api.clear_log()
    for call in _calls(source, job_id):
        with pytest.raises(InvalidId):
            call()
    assert api.log == []


def test_ids003_the_client_quotes_ids_so_a_slash_stays_inside_one_segment(httpserver):
    httpserver.expect_request("/v1/batches/batch_123/cancel").respond_with_json({"id": "batch_123"})
    client = FineTuningClient(httpserver.url_for("").rstrip("/"))
    with pytest.raises(Exception):  # noqa: B017 - whatever the server says, it is not the batches route
        client.cancel_job("../../batches/batch_123")
    [(request, _)] = httpserver.log
    assert "%2F" in request.environ["REQUEST_URI"] and "/v1/batches/" not in request.environ["REQUEST_URI"]
