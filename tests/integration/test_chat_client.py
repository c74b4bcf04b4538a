"""ChatClient against a real FakeAI process (complete, stream on ft: names) and against
pytest-httpserver for what FakeAI does not do: OpenAI's 429 with Retry-After, Azure's
deployment URL, a key echoed in an error, an answer cut off mid-stream."""

from __future__ import annotations

import json
import time

import pytest
from werkzeug import Response

from fakeai_dash.api.chat import ChatClient, NoDeployment, StreamEnd, TextDelta, retry_after
from fakeai_dash.api.client import ApiError

FT_MODEL = "ft:meta-llama/Llama-3.1-8B-Instruct:acme:support:abc123"
SECRET = "sk-test-never-shown-0123456789"
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello"}]


# -- a real FakeAI ---------------------------------------------------------------------------

def test_complete_on_fakeai(fakeai):
    client = ChatClient(fakeai.url, "any-key")
    answer = client.complete(FT_MODEL, MESSAGES, temperature=0, max_tokens=30, seed=1)
    assert answer.text.strip()
    assert answer.usage is not None and answer.usage.completion_tokens > 0
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + answer.usage.completion_tokens
    assert answer.latency > 0 and answer.model == FT_MODEL and answer.finish_reason


def test_stream_on_fakeai_arrives_in_pieces_as_they_are_generated(fakeai):
    client = ChatClient(fakeai.url, "any-key")
    started = time.monotonic()
    items, seen_at = [], []
    for item in client.stream(FT_MODEL, MESSAGES, temperature=0, max_tokens=30, seed=1):
        items.append(item)
        seen_at.append(time.monotonic() - started)
    deltas = [item.text for item in items if isinstance(item, TextDelta)]
    end = items[-1]
    assert len(deltas) > 1 and "".join(deltas).strip()
    assert isinstance(end, StreamEnd) and all(isinstance(i, TextDelta) for i in items[:-1])
    assert end.usage is not None and end.usage.completion_tokens > 0 and end.finish_reason == "stop"
    assert 0 < end.first_token_latency < end.latency
    # FakeAI paces its tokens: the caller got the first one well before the last one. A client
    # that read the whole body before parsing would hand them all over at once.
    first, last = seen_at[0], seen_at[len(deltas) - 1]
    assert last - first > 0.25 * last, (first, last)


def test_stream_deltas_make_up_exactly_the_text_fakeai_sent(fakeai):
    """FakeAI's streamed text differs from call to call, so the oracle is the raw SSE body of
    this very call, read by a response hook and parsed here line by line."""
    client = ChatClient(fakeai.url, "any-key")
    bodies = []

    def keep_body(response, **_):
        bodies.append(response.content)  # read here; the client then parses these same bytes

    client.session.hooks["response"].append(keep_body)
    deltas = [i.text for i in client.stream(FT_MODEL, MESSAGES, max_tokens=40) if isinstance(i, TextDelta)]
    sent = ""
    for line in bodies[0].decode().splitlines():
        if line.startswith("data: {"):
            for choice in json.loads(line[6:])["choices"]:
                sent += choice["delta"].get("content") or ""
    assert len(deltas) > 1 and "".join(deltas) == sent and sent.strip()


# -- OpenAI-shaped test server ---------------------------------------------------------------

def completion_body(text: str, model: str = "gpt-4o-mini") -> dict:
    return {"id": "chatcmpl-1", "object": "chat.completion", "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}}


def rate_limited(retry_after_header: dict) -> Response:
    body = {"error": {"message": "Rate limit reached for requests", "type": "requests", "code": "rate_limit_exceeded"}}
    return Response(json.dumps(body), status=429, headers=retry_after_header, content_type="application/json")


def test_429_with_retry_after_is_waited_out_then_answered(httpserver):
    arrivals = []

    def handler(request):
        arrivals.append(time.monotonic())
        if len(arrivals) == 1:
            return rate_limited({"Retry-After": "1"})
        assert request.headers["Authorization"] == f"Bearer {SECRET}"
        assert json.loads(request.data)["seed"] == 4
        return Response(json.dumps(completion_body("hi")), content_type="application/json")

    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(handler)
    answer = ChatClient(httpserver.url_for("/"), SECRET).complete("gpt-4o-mini", MESSAGES, seed=4)
    assert answer.text == "hi" and answer.usage.total_tokens == 7
    assert len(arrivals) == 2 and arrivals[1] - arrivals[0] >= 0.95  # the server's wait was kept


def test_429_retry_after_ms_and_a_stream_after_it(httpserver):
    waits = []
    calls = iter([rate_limited({"retry-after-ms": "250"}), None])

    def handler(request):
        limited = next(calls)
        if limited is not None:
            return limited
        chunks = [{"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]} for piece in ("Bon", "jour", " 👋")]
        chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        chunks.append({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6}})
        body = "".join(f"data: {json.dumps(c, ensure_ascii=False)}\n\n" for c in chunks) + "data: [DONE]\n\n"
        return Response(body.encode(), content_type="text/event-stream")

    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(handler)
    client = ChatClient(httpserver.url_for("/"), SECRET, wait=waits.append)
    items = list(client.stream("gpt-4o-mini", MESSAGES))
    assert waits == [0.25]
    assert [i.text for i in items if isinstance(i, TextDelta)] == ["Bon", "jour", " 👋"]
    assert items[-1].usage.total_tokens == 6  # OpenAI sends usage in a last chunk with no choices


def test_a_429_storm_gives_up_after_the_retries_and_says_429(httpserver):
    waits = []
    httpserver.expect_request("/v1/chat/completions").respond_with_response(rate_limited({"Retry-After": "2"}))
    client = ChatClient(httpserver.url_for("/"), SECRET, max_429_retries=3, wait=waits.append)
    with pytest.raises(ApiError) as caught:
        client.complete("gpt-4o-mini", MESSAGES)
    assert caught.value.status == 429 and "Rate limit" in str(caught.value)
    assert waits == [2.0, 2.0, 2.0] and len(httpserver.log) == 4


def test_a_wait_longer_than_allowed_is_not_waited(httpserver):
    waits = []
    httpserver.expect_request("/v1/chat/completions").respond_with_response(rate_limited({"Retry-After": "3600"}))
    with pytest.raises(ApiError, match="HTTP 429"):
        ChatClient(httpserver.url_for("/"), SECRET, wait=waits.append).complete("m", MESSAGES)
    assert waits == [] and len(httpserver.log) == 1


def test_azure_calls_the_deployment_url_with_its_api_version_and_key_header(httpserver):
    httpserver.expect_request("/openai/deployments/support-ft/chat/completions", method="POST",
                              query_string={"api-version": "2024-10-21"},
                              headers={"api-key": SECRET}).respond_with_json(completion_body("hello", FT_MODEL))
    client = ChatClient(httpserver.url_for("/"), SECRET, api_type="azure", deployments={FT_MODEL: "support-ft"})
    assert client.complete(FT_MODEL, MESSAGES).text == "hello"
    assert "Authorization" not in httpserver.log[0][0].headers
    with pytest.raises(NoDeployment, match="has no Azure deployment"):
        client.complete("gpt-4o-mini", MESSAGES)
    assert len(httpserver.log) == 1  # no request for a model with no deployment


def test_a_server_echoing_the_key_never_gets_it_into_an_error(httpserver, caplog):
    echo = {"error": {"message": f"Incorrect API key provided: {SECRET}", "code": "invalid_api_key"}}
    httpserver.expect_request("/v1/chat/completions").respond_with_json(echo, status=401)
    with caplog.at_level("DEBUG"), pytest.raises(ApiError) as caught:
        ChatClient(httpserver.url_for("/"), SECRET).complete("m", MESSAGES)
    assert SECRET not in str(caught.value) and SECRET not in repr(caught.value.args) and "***" in str(caught.value)
    assert SECRET not in caplog.text


def test_an_error_event_mid_stream_is_an_error_without_the_key(httpserver):
    body = ('data: {"choices": [{"index": 0, "delta": {"content": "par"}}]}\n\n'
            f'data: {{"error": {{"message": "overloaded for key {SECRET}"}}}}\n\n')
    httpserver.expect_request("/v1/chat/completions").respond_with_data(body, content_type="text/event-stream")
    stream = ChatClient(httpserver.url_for("/"), SECRET).stream("m", MESSAGES)
    assert next(stream) == TextDelta("par")
    with pytest.raises(ApiError, match="overloaded") as caught:
        next(stream)
    assert SECRET not in str(caught.value)


def test_a_stream_cut_off_before_its_end_is_not_a_whole_answer(httpserver):
    body = 'data: {"choices": [{"index": 0, "delta": {"content": "half an ans"}}]}\n\n'
    httpserver.expect_request("/v1/chat/completions").respond_with_data(body, content_type="text/event-stream")
    with pytest.raises(ApiError, match="ended before it was complete"):
        list(ChatClient(httpserver.url_for("/"), SECRET).stream("m", MESSAGES))


def test_retry_after_forms():
    assert retry_after({"retry-after": "3"}) == 3.0
    assert retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert retry_after({"retry-after": "soon"}) == 1.0
    assert retry_after({}) == 1.0
    in_two = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 2))
    assert 0.5 <= retry_after({"retry-after": in_two}) <= 2.01
