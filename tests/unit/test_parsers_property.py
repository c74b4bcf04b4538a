"""Property tests: whatever the API sends, the client's parsers raise ApiError or nothing.

Hypothesis feeds arbitrary JSON (biased towards the field names the models read) to the
model parsing path, arbitrary bodies to ``error_from_response``, arbitrary text to
``parse_sse``, and finally arbitrary JSON and text through a real HTTP server to every
client method. A crash of any other kind would reach a Dash callback as a traceback.
"""

from __future__ import annotations

import json
import re

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakeai_dash.api.client import ApiError, FineTuningClient, error_from_response, parse_sse
from fakeai_dash.api.models import Checkpoint, Event, FileObject, Job, Model, Page

FIELD_NAMES = ("id", "status", "created_at", "finished_at", "model", "error", "hyperparameters",
               "method", "type", "supervised", "dpo", "beta", "n_epochs", "metadata", "data",
               "has_more", "last_id", "metrics", "step_number", "level", "message", "detail",
               "loc", "msg", "param", "code", "result_files", "fine_tuned_model", "purpose",
               "train_mean_token_accuracy", "suffix", "object")

scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=False) | st.text(max_size=12) | st.sampled_from(FIELD_NAMES))
keys = st.sampled_from(FIELD_NAMES) | st.text(max_size=6)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=6),
    max_leaves=10,
)
objects = st.dictionaries(keys, json_values, max_size=8)
# Something close to a list envelope, so the paging and item parsing paths are reached.
pages = st.fixed_dictionaries(
    {"data": st.lists(objects | json_values, max_size=4)},
    optional={"has_more": json_values, "last_id": json_values, "object": json_values},
)
# The error envelopes of FakeAI/FastAPI and OpenAI, with arbitrary contents.
error_bodies = (
    st.fixed_dictionaries({"detail": json_values | st.lists(
        st.dictionaries(st.sampled_from(["loc", "msg", "type", "input"]), json_values), max_size=3)})
    | st.fixed_dictionaries({"error": json_values | st.dictionaries(
        st.sampled_from(["message", "type", "param", "code"]), json_values)})
)
# Job-like objects: an id and any of the fields the model reads, with any values.
job_like = st.fixed_dictionaries(
    {"id": st.text(min_size=1, max_size=8)},
    optional={name: json_values for name in FIELD_NAMES if name != "id"},
)
bodies = pages | error_bodies | job_like | st.fixed_dictionaries({"data": st.lists(job_like, max_size=3)},
                                                                optional={"has_more": json_values}) \
    | objects | json_values

MODELS = (Job, Event, Checkpoint, FileObject, Model, Page)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# Fewer examples where each one is costly (a dozen HTTP requests, or a big serialisation).
SERVED = settings(FAST, max_examples=30)


def _response(status: int, content: bytes, content_type: str | None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = content
    response.reason = "Reason"
    response.encoding = "utf-8"
    if content_type:
        response.headers["content-type"] = content_type
    return response


# -- model parsing ------------------------------------------------------------------------


@FAST
@given(raw=bodies, model=st.sampled_from(MODELS))
def test_property001_model_parsing_raises_only_api_error(raw, model):
    try:
        parsed = FineTuningClient._parse(model, raw)
    except ApiError as error:
        assert error.message.startswith("The API sent an unexpected ")
    else:
        assert isinstance(parsed, model)


@FAST
@given(raw=objects)
def test_property002_parsed_job_has_text_status_and_dict_metrics(raw):
    raw = {**raw, "id": "ftjob-x"}
    try:
        job = FineTuningClient._parse(Job, raw)
    except ApiError:
        return
    assert isinstance(job.status, str)
    assert job.error is None or any((job.error.code, job.error.message, job.error.param))


# -- error bodies -------------------------------------------------------------------------


@FAST
@given(status=st.integers(400, 599), body=bodies)
def test_property003_error_from_any_json_body(status, body):
    error = error_from_response(_response(status, json.dumps(body).encode(), "application/json"))

    assert isinstance(error, ApiError)
    assert error.status == status
    assert isinstance(error.message, str) and error.message
    assert error.param is None or isinstance(error.param, str)


@FAST
@given(status=st.integers(400, 599), content=st.binary(max_size=200),
       content_type=st.sampled_from([None, "text/html", "text/plain", "application/json"]))
def test_property004_error_from_any_bytes(status, content, content_type):
    error = error_from_response(_response(status, content, content_type))

    assert error.status == status
    assert isinstance(error.message, str) and error.message
    assert len(error.message) <= 300


# -- SSE ----------------------------------------------------------------------------------


@FAST
@given(text=st.text(max_size=300))
def test_property005_parse_sse_on_any_text_gives_dicts(text):
    items = parse_sse(text)

    assert all(isinstance(item, dict) for item in items)


@SERVED
@given(events=st.lists(objects, max_size=4), noise=st.sampled_from(["", ": ping\n", "event: x\n", "data: [DONE]\n"]))
def test_property006_parse_sse_round_trips_events_in_order(events, noise):
    text = noise + "".join(f"data: {json.dumps(event)}\n\n" for event in events)

    assert parse_sse(text) == json.loads(json.dumps(events))


# -- whole client against a real server ---------------------------------------------------

statuses = st.sampled_from([200, 200, 200, 201, 400, 401, 404, 422])  # no retried codes: fast


def _call_everything(api: FineTuningClient) -> None:
    calls = (
        lambda: api.list_jobs(cap=50),
        lambda: api.retrieve_job("j"),
        lambda: api.create_job({"model": "m", "training_file": "f"}),
        lambda: api.cancel_job("j"),
        lambda: api.pause_job("j"),
        lambda: api.list_events("j", max_events=50),
        lambda: api.list_checkpoints("j"),
        lambda: api.list_files(),
        lambda: api.upload_file("a.jsonl", b"{}\n"),
        lambda: api.list_models(),
    )
    for call in calls:
        try:
            call()
        except ApiError as error:
            assert isinstance(error.message, str) and error.message


@pytest.fixture
def api(httpserver):
    client = FineTuningClient(httpserver.url_for("/"), "k", connect_timeout=1, read_timeout=5)
    yield client
    client.close()


@SERVED
@given(body=bodies, status=statuses)
def test_property007_every_client_method_survives_any_json(httpserver, api, body, status):
    httpserver.clear()
    httpserver.expect_request(re.compile(".*")).respond_with_json(body, status=status)

    _call_everything(api)

    assert {response.status_code for _, response in httpserver.log} == {status}


@SERVED
@given(text=st.text(max_size=300), status=statuses,
       content_type=st.sampled_from(["text/event-stream", "text/html", "text/plain", "application/json"]))
def test_property008_every_client_method_survives_any_text(httpserver, api, text, status, content_type):
    httpserver.clear()
    httpserver.expect_request(re.compile(".*")).respond_with_data(text, status=status, content_type=content_type)

    _call_everything(api)

    assert {response.status_code for _, response in httpserver.log} == {status}


@pytest.mark.parametrize("body", [{"error": ""}, {"detail": ""}, {"detail": []}, {"error": {"message": ""}}])
def test_property009_empty_error_texts_still_say_something(body):
    # Found by test_property003: an empty message would leave the banner blank.
    error = error_from_response(_response(400, json.dumps(body).encode(), "application/json"))
    assert error.status == 400 and error.message.strip() and str(error).strip()
