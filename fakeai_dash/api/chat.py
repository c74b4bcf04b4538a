"""ChatClient: chat completions (whole or streamed) on the connection settings of FineTuningClient.

Same base URL, key header, Azure ``api-version``, timeouts and ApiError as
fakeai_dash/api/client.py. What differs is the retry policy: a chat completion is a POST, which
client.py never repeats; but a 429 means the server did not run it, so here a 429 is asked again
after the server's ``Retry-After`` (or ``retry-after-ms``, which OpenAI and Azure also send),
up to ``max_429_retries`` times and ``max_retry_wait`` seconds per wait. That is how an eval
of a thousand completions slows down under rate limits instead of failing.

On Azure a model is reached through a deployment: ``deployments`` maps model names to them, and
a model with none raises NoDeployment rather than calling a URL that cannot exist.
"""

from __future__ import annotations

import email.utils
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from fakeai_dash.api.client import ApiError, _segment, error_from_response

log = logging.getLogger(__name__)

MAX_429_RETRIES = 5
MAX_RETRY_WAIT = 60.0  # a server asking for longer gets its 429 shown instead
DEFAULT_RETRY_WAIT = 1.0  # a 429 with no readable Retry-After


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


@dataclass(frozen=True)
class Completion:
    text: str
    usage: Usage | None  # None: the server sent no usage
    latency: float  # seconds from sending the request to the whole answer
    model: str
    finish_reason: str | None


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class StreamEnd:
    """The last item of stream(): the whole answer's totals."""

    usage: Usage | None
    latency: float  # seconds to the last byte
    first_token_latency: float | None  # seconds to the first text, None when no text came
    finish_reason: str | None


class NoDeployment(ApiError):
    """Azure: the model has no deployment mapped to it, so it cannot be called."""


class ChatClient:
    def __init__(self, api_base: str, api_key: str | None = None, *, api_type: str = "openai",
                 azure_api_version: str = "2024-10-21", deployments: Mapping[str, str] | None = None,
                 connect_timeout: float = 3.05, read_timeout: float = 60.0,
                 max_429_retries: int = MAX_429_RETRIES, max_retry_wait: float = MAX_RETRY_WAIT,
                 wait: Callable[[float], Any] | None = None):
        self.api_base = api_base.rstrip("/")
        self.api_type = api_type
        self.timeout = (connect_timeout, read_timeout)
        self.deployments = dict(deployments or {})
        self.max_429_retries = max_429_retries
        self.max_retry_wait = max_retry_wait
        # How a Retry-After is waited out; a task queue passes its cancel event's wait.
        self._wait = wait or threading.Event().wait
        self._params = {"api-version": azure_api_version} if api_type == "azure" else {}
        self._secret = api_key
        self.session = requests.Session()
        # Only failures to connect are retried by urllib3 (the request never reached the server);
        # statuses are ours to judge, a read error on a POST never repeated.
        retry = Retry(total=1, connect=1, read=0, status=0, other=0, allowed_methods=None, raise_on_status=False)
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        if api_key:
            if api_type == "azure":
                self.session.headers["api-key"] = api_key
            else:
                self.session.headers["Authorization"] = f"Bearer {api_key}"

    def url(self, model: str) -> str:
        if self.api_type != "azure":
            return f"{self.api_base}/v1/chat/completions"
        deployment = self.deployments.get(model)
        if not deployment:
            raise NoDeployment(f"{model} has no Azure deployment; map it to one in the settings to call it")
        return f"{self.api_base}/openai/deployments/{_segment(deployment)}/chat/completions"

    def _body(self, model: str, messages: list[dict[str, Any]], temperature: float | None,
              max_tokens: int | None, seed: int | None, extra: Mapping[str, Any] | None) -> dict[str, Any]:
        body: dict[str, Any] = {"model": model, "messages": messages}
        for key, value in (("temperature", temperature), ("max_tokens", max_tokens), ("seed", seed)):
            if value is not None:
                body[key] = value
        return {**body, **(extra or {})}

    def complete(self, model: str, messages: list[dict[str, Any]], temperature: float | None = None,
                 max_tokens: int | None = None, seed: int | None = None,
                 extra: Mapping[str, Any] | None = None) -> Completion:
        """One whole answer of ``model`` to ``messages``."""
        started = time.monotonic()
        response = self._post(model, self._body(model, messages, temperature, max_tokens, seed, extra))
        try:
            body = response.json()
        except ValueError:
            raise ApiError("The API sent an answer that is not JSON", response.status_code) from None
        choice = _first_choice(body)
        message = choice.get("message") if isinstance(choice.get("message"), dict) else {}
        return Completion(text=_text(message.get("content")), usage=_usage(body.get("usage")),
                          latency=time.monotonic() - started, model=str(body.get("model") or model),
                          finish_reason=choice.get("finish_reason"))

    def stream(self, model: str, messages: list[dict[str, Any]], temperature: float | None = None,
               max_tokens: int | None = None, seed: int | None = None,
               extra: Mapping[str, Any] | None = None) -> Iterator[TextDelta | StreamEnd]:
        """The answer as it is generated: TextDelta after TextDelta, then one StreamEnd.

        Usage is asked for (``stream_options.include_usage``) and reported where the server sends
        it. An answer cut off before the server said it was done raises ApiError, so a partial
        answer is never taken for a whole one.
        """
        body = self._body(model, messages, temperature, max_tokens, seed, extra)
        body.update(stream=True, stream_options={"include_usage": True})
        started = time.monotonic()
        response = self._post(model, body, stream=True)
        first: float | None = None
        usage: Usage | None = None
        finish: str | None = None
        done = False
        try:
            for event in _sse_events(response):
                if event == "[DONE]":
                    done = True
                    break
                chunk = _chunk(event, self._redact)
                usage = _usage(chunk.get("usage")) or usage
                for choice in chunk.get("choices") or []:
                    if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                        continue
                    delta = choice.get("delta") if isinstance(choice.get("delta"), dict) else {}
                    text = _text(delta.get("content"))
                    if text:
                        first = first if first is not None else time.monotonic() - started
                        yield TextDelta(text)
                    finish = choice.get("finish_reason") or finish
        except requests.exceptions.RequestException:
            raise ApiError(f"The answer from {self.api_base} broke off mid-stream") from None
        finally:
            response.close()
        if not done and finish is None:
            raise ApiError(f"The answer from {self.api_base} ended before it was complete")
        yield StreamEnd(usage, time.monotonic() - started, first, finish)

    # -- transport ---------------------------------------------------------------------------

    def _post(self, model: str, body: dict[str, Any], stream: bool = False) -> requests.Response:
        url = self.url(model)
        for attempt in range(self.max_429_retries + 1):
            response = self._send(url, body, stream)
            if response.status_code != 429 or attempt == self.max_429_retries:
                break
            seconds = retry_after(response.headers)
            if seconds > self.max_retry_wait:
                break  # shown as the 429 it is: waiting that long is not ours to decide
            response.close()
            log.info("429 from %s for %s; asking again in %.2f s", self.api_base, model, seconds)
            self._wait(seconds)
        if response.status_code >= 400:
            error = error_from_response(response)
            response.close()
            raise self._redacted(error)
        if response.is_redirect:
            response.close()  # never followed: the key would travel wherever it points
            raise ApiError(f"The API answered with a redirect (HTTP {response.status_code})", response.status_code)
        return response

    def _send(self, url: str, body: dict[str, Any], stream: bool) -> requests.Response:
        try:
            return self.session.post(url, json=body, params=self._params, timeout=self.timeout,
                                     allow_redirects=False, stream=stream)
        except requests.exceptions.Timeout:
            raise ApiError(f"The API at {self.api_base} did not answer within {self.timeout[1]:g} s") from None
        except requests.exceptions.ConnectionError:
            raise ApiError(f"Cannot reach the API at {self.api_base}") from None
        except requests.exceptions.RequestException as exc:
            raise ApiError(f"Request to the API failed: {type(exc).__name__}") from None

    def _redact(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text

    def _redacted(self, error: ApiError) -> ApiError:
        # Error texts reach the browser and the logs; a server echoing the key must not leak it.
        error.message = self._redact(error.message)
        error.args = (error.message,)
        return error

    def close(self) -> None:
        self.session.close()


def chat_client_from_settings(settings: Any, deployments: Mapping[str, str] | None = None) -> ChatClient:
    key = settings.api_key.get_secret_value() if settings.api_key else None
    return ChatClient(settings.api_base, key, api_type=settings.api_type,
                      azure_api_version=settings.azure_api_version, deployments=deployments,
                      connect_timeout=settings.connect_timeout, read_timeout=max(settings.read_timeout, 60.0))


def retry_after(headers: Mapping[str, str]) -> float:
    """Seconds a 429 asks us to wait: ``retry-after-ms``, else ``Retry-After`` in seconds or as
    an HTTP date; DEFAULT_RETRY_WAIT when neither is readable."""
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) / scale)
        except ValueError:
            pass
        if scale == 1.0:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                continue
            return max(0.0, when.timestamp() - time.time())
    return DEFAULT_RETRY_WAIT


def _sse_events(response: requests.Response) -> Iterator[str]:
    """The data of each Server-Sent Event, as it arrives (multi-line data joined with "\\n")."""
    data: list[str] = []
    for raw in response.iter_lines():  # whole lines, so a multi-byte character is never split
        line = raw.decode("utf-8", "replace")
        if not line:
            if data:
                yield "\n".join(data)
                data = []
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
    if data:
        yield "\n".join(data)


def _chunk(event: str, redact: Callable[[str], str]) -> dict[str, Any]:
    try:
        chunk = json.loads(event)
    except ValueError:
        raise ApiError("The API streamed an event that is not JSON") from None
    if not isinstance(chunk, dict):
        raise ApiError("The API streamed an event that is not a JSON object")
    if chunk.get("error"):
        error = chunk["error"]
        message = error.get("message") if isinstance(error, dict) else error
        raise ApiError(redact(f"The API stopped the answer: {message}"))
    return chunk


def _first_choice(body: Any) -> dict[str, Any]:
    choices = body.get("choices") if isinstance(body, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise ApiError("The API sent a chat completion with no choices")
    return choices[0]


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def _usage(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    numbers = {key: raw.get(key) for key in ("prompt_tokens", "completion_tokens", "total_tokens")}
    if not any(isinstance(v, int) for v in numbers.values()):
        return None
    return Usage(**{key: v if isinstance(v, int) and not isinstance(v, bool) else 0 for key, v in numbers.items()})
