"""FineTuningClient: one pooled HTTP session to an OpenAI-shaped fine-tuning API.

It hides what differs between FakeAI, OpenAI and Azure OpenAI (auth header, path prefix,
events as SSE or as paged JSON, error envelopes) and turns every failure into ApiError.
Over 400 lines for that one concern: the differences it hides are the module's whole point.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import time
from collections.abc import Iterator
from typing import Any, NamedTuple, TypeVar
from urllib.parse import quote

import requests
from pydantic import BaseModel, ValidationError
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader, ReadTimeoutError
from urllib3.util.retry import Retry

from fakeai_dash.api.models import Checkpoint, Event, FileObject, Job, Model, Page

T = TypeVar("T", bound=BaseModel)
log = logging.getLogger(__name__)

PAGE_LIMIT = 100  # FakeAI rejects limit > 100; OpenAI allows it too.
MAX_EVENT_PAGES = 100
RETRY_STATUSES = (408, 409, 429, 500, 502, 503, 504)


class EventsPage(NamedTuple):
    events: list[Event]  # newest first
    has_more: bool
    streamed: bool  # SSE (FakeAI): the newest events only, no cursor


class ApiError(Exception):
    """Anything that went wrong talking to the API, in words a person can act on."""

    def __init__(self, message: str, status: int | None = None, param: str | None = None,
                 code: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.param = param
        self.code = code

    def __str__(self) -> str:
        return f"HTTP {self.status}: {self.message}" if self.status else self.message


class _CappedRetry(Retry):
    """urllib3's Retry, but a server asking us to wait minutes gets its error shown instead.

    A read timeout is not retried: the server has the request and is slow, and asking again
    would only multiply the wait (and make "did not answer within N s" untrue). A dropped
    connection on a GET still is. An unreadable Retry-After falls back to the backoff.
    """

    MAX_RETRY_AFTER = 5.0

    def get_retry_after(self, response):  # noqa: ANN001 - urllib3's signature
        try:
            seconds = super().get_retry_after(response)
        except InvalidHeader:
            return None
        return None if seconds is None else min(seconds, self.MAX_RETRY_AFTER)

    def increment(self, method=None, url=None, response=None, error=None, _pool=None,  # noqa: ANN001
                  _stacktrace=None):
        if isinstance(error, ReadTimeoutError):
            raise error
        return super().increment(method, url, response, error, _pool, _stacktrace)


def _retry_policy() -> Retry:
    # GETs only: a create or cancel must never be sent twice. Connection errors happen before
    # a request reaches the server, so one retry of those is safe for any method.
    return _CappedRetry(
        total=3, connect=1, read=2, status=3, backoff_factor=0.25,
        status_forcelist=RETRY_STATUSES, allowed_methods=frozenset({"GET"}),
        respect_retry_after_header=True, raise_on_status=False,
    )


def error_from_response(response: requests.Response) -> ApiError:
    """Read FakeAI's ``{"detail": ...}`` or OpenAI's ``{"error": {...}}`` into one ApiError."""
    error = _error_from_body(response)
    if not error.message.strip():  # e.g. {"error": ""} or {"detail": ""}: say something useful
        error.message = response.reason or "request failed"
        error.args = (error.message,)
    return error


def _error_from_body(response: requests.Response) -> ApiError:
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        return ApiError(_text_message(response), status)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        return ApiError(str(err.get("message") or response.reason or "request failed"), status,
                        _text_or_none(err.get("param")), _text_or_none(err.get("code")))
    if isinstance(body, dict) and "detail" in body:
        return _error_from_detail(body["detail"], status)
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return ApiError(body["error"], status)
    return ApiError(response.reason or "request failed", status)


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def _text_message(response: requests.Response) -> str:
    """A non-JSON error body in words: an HTML page's title, never its markup; the first line of
    plain text, never a server's traceback (it would reach the browser's banner)."""
    text = (response.text or "").strip()
    if text.startswith("<") or "html" in response.headers.get("content-type", ""):
        title = _TITLE.search(text)
        words = " ".join(_TAG.sub(" ", title.group(1) if title else "").split())
        text = words or ""
    first_line = text.splitlines()[0].strip() if text else ""
    if first_line.startswith("Traceback") or "File \"" in text:
        first_line = ""
    return first_line[:300] or response.reason or "request failed"


def _error_from_detail(detail: Any, status: int) -> ApiError:
    if isinstance(detail, list):  # FastAPI 422: [{"loc": [...], "msg": ...}]
        parts, param = [], None
        for item in detail:
            if not isinstance(item, dict):
                continue
            raw_loc = item.get("loc")
            raw_loc = raw_loc if isinstance(raw_loc, list) else []
            loc = [str(p) for p in raw_loc if p not in ("body", "query", "path")]
            field = ".".join(loc)
            param = param or field or None
            parts.append(f"{field}: {item.get('msg', 'invalid')}" if field else str(item.get("msg")))
        return ApiError("; ".join(parts) or "invalid request", status, param)
    return ApiError(str(detail), status)


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _segment(value: str) -> str:
    """One URL path segment: a slash or ``..`` in an id can never reach another endpoint."""
    text = quote(str(value), safe="")
    return text.replace(".", "%2E") if set(text) <= {"."} else text


def parse_sse(text: str) -> list[dict[str, Any]]:
    """The JSON objects carried by ``data:`` lines of a Server-Sent Events body."""
    items = []
    for line in text.splitlines():
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if not payload or payload == "[DONE]":
            continue
        try:
            item = json.loads(payload)
        except ValueError:
            continue  # one bad line must not hide the rest of the log
        if isinstance(item, dict):
            items.append(item)
    return items


class FineTuningClient:
    """The fine-tuning endpoints the dashboard uses, with timeouts, retries and lenient parsing."""

    def __init__(self, api_base: str, api_key: str | None = None, *, api_type: str = "openai",
                 azure_api_version: str = "2024-10-21", connect_timeout: float = 3.05,
                 read_timeout: float = 15.0, max_jobs: int = 10_000, page_size: int = PAGE_LIMIT):
        self.api_base = api_base.rstrip("/")
        self.page_size = max(1, min(page_size, PAGE_LIMIT))
        self.api_type = api_type
        self.max_jobs = max_jobs
        self.timeout = (connect_timeout, read_timeout)
        self._prefix = "/openai" if api_type == "azure" else "/v1"
        self._params = {"api-version": azure_api_version} if api_type == "azure" else {}
        self.session = requests.Session()
        self._local = threading.local()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=_retry_policy())
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self._secret = api_key
        if api_key:
            if api_type == "azure":
                self.session.headers["api-key"] = api_key
            else:
                self.session.headers["Authorization"] = f"Bearer {api_key}"

    # -- transport ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def budget(self, seconds: float) -> Iterator[None]:
        """Every request in this block (this thread) shares ``seconds`` in total: a fetch of
        many pages ends with an error when its budget runs out, not after pages × timeout."""
        previous = getattr(self._local, "deadline", None)
        self._local.deadline = time.monotonic() + seconds
        try:
            yield
        finally:
            self._local.deadline = previous

    def _timeout(self) -> tuple[float, float]:
        deadline = getattr(self._local, "deadline", None)
        if deadline is None:
            return self.timeout
        left = deadline - time.monotonic()
        if left <= 0:
            raise ApiError(f"The API at {self.api_base} did not finish answering within this fetch's time budget")
        return min(self.timeout[0], left), min(self.timeout[1], left)

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = f"{self.api_base}{self._prefix}{path}"
        params = {**self._params, **(kwargs.pop("params", None) or {})}
        timeout = self._timeout()
        try:
            response = self.session.request(method, url, params=params, timeout=timeout,
                                            allow_redirects=False, **kwargs)
        except requests.exceptions.Timeout:
            raise ApiError(f"The API at {self.api_base} did not answer within "
                           f"{timeout[1]:g} s") from None
        except requests.exceptions.ConnectionError:
            raise ApiError(f"Cannot reach the API at {self.api_base}") from None
        except requests.exceptions.RequestException as exc:
            raise ApiError(f"Request to the API failed: {type(exc).__name__}") from None
        if response.status_code >= 400:
            raise self._redacted(error_from_response(response))
        if response.is_redirect:
            # Never followed: the key would travel to wherever the redirect points.
            raise ApiError(f"The API answered with a redirect (HTTP {response.status_code}); set the "
                           "API base to the address it redirects to", response.status_code)
        return response

    def _redacted(self, error: ApiError) -> ApiError:
        # Error texts reach the browser; a server that echoes our key must not leak it there.
        if self._secret and self._secret in error.message:
            error.message = error.message.replace(self._secret, "***")
            error.args = (error.message,)
        return error

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise ApiError("The API sent an answer that is not JSON", response.status_code) from None

    @staticmethod
    def _parse(model: type[T], raw: Any) -> T:
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or model.__name__
            raise ApiError(f"The API sent an unexpected {model.__name__.lower()} ({where}: "
                           f"{first['msg']})") from None

    def _parse_items(self, model: type[T], items: list[dict[str, Any]]) -> list[T]:
        """Every readable item of a list; one unreadable item is logged and skipped, so it
        cannot hide the rest (a list where nothing is readable is still an error)."""
        parsed, first_error = [], None
        for item in items:
            try:
                parsed.append(self._parse(model, item))
            except ApiError as error:
                first_error = first_error or error
                log.warning("Skipped an unreadable %s from %s: %s", model.__name__, self.api_base, error)
        if first_error is not None and not parsed:
            raise first_error
        return parsed

    def _pages(self, path: str, params: dict[str, Any], cap: int) -> Iterator[list[dict[str, Any]]]:
        """Walk an ``after``-cursor list until ``has_more`` is false or ``cap`` items came.

        An item whose id came on an earlier page is dropped (the first copy wins, order kept):
        a server repeating a page, or a list shifting under an offset-paging proxy, must not
        show one job twice — the grid keys its rows by id.
        """
        seen, after = 0, None
        ids_seen: set[str] = set()
        while seen < cap:
            query = {**params, "limit": min(self.page_size, cap - seen)}
            if after:
                query["after"] = after
            page = self._parse(Page, self._json("GET", path, params=query))
            yield self._first_copies(page.data, ids_seen)
            seen += len(page.data)
            next_after = page.last_id or (page.data[-1].get("id") if page.data else None)
            if not page.has_more or not next_after or next_after == after:
                return
            after = next_after

    @staticmethod
    def _first_copies(items: list[dict[str, Any]], ids_seen: set[str]) -> list[dict[str, Any]]:
        """``items`` without those whose id is in ``ids_seen`` (which learns the new ids).

        Ids compare as text, as the models read them (12345 and "12345" are one job); an item
        without an id is kept for the parser to judge.
        """
        fresh = []
        for item in items:
            raw_id = item.get("id")
            if raw_id is not None:
                key = str(raw_id)
                if key in ids_seen:
                    continue
                ids_seen.add(key)
            fresh.append(item)
        return fresh

    # -- jobs --------------------------------------------------------------------------------

    def list_jobs(self, cap: int | None = None) -> list[Job]:
        cap = cap or self.max_jobs
        jobs: list[Job] = []
        for items in self._pages("/fine_tuning/jobs", {}, cap):
            jobs.extend(self._parse_items(Job, items))
        return jobs[:cap]

    def list_jobs_page(self, after: str | None = None, limit: int | None = None) -> tuple[list[Job], bool]:
        """One newest-first page of jobs after the cursor ``after``, and whether more follow."""
        query: dict[str, Any] = {"limit": min(limit or self.page_size, self.page_size)}
        if after:
            query["after"] = after
        page = self._parse(Page, self._json("GET", "/fine_tuning/jobs", params=query))
        return self._parse_items(Job, page.data), bool(page.has_more) and bool(page.data)

    def events_page(self, job_id: str, after: str | None = None, limit: int = PAGE_LIMIT) -> EventsPage:
        """One page of a job's events, newest first, older than the event ``after``.

        FakeAI streams its newest ``limit`` events as SSE and knows no cursor: that comes back
        as one page with ``streamed`` set and ``has_more`` false.
        """
        params: dict[str, Any] = {"limit": min(limit, PAGE_LIMIT)}
        if after:
            params["after"] = after
        response = self._request("GET", f"/fine_tuning/jobs/{_segment(job_id)}/events", params=params)
        if "text/event-stream" in response.headers.get("content-type", ""):
            events = self._parse_items(Event, parse_sse(response.text))
            return EventsPage(list(reversed(events)), False, True)
        try:
            page = self._parse(Page, response.json())
        except ValueError:
            raise ApiError("The API sent events that are neither JSON nor SSE", response.status_code) from None
        events = self._parse_items(Event, page.data) if page.data else []
        repeated = bool(after and events and events[-1].id == after)  # a server ignoring `after`
        return EventsPage(events, bool(page.has_more) and bool(events) and not repeated, False)

    def file_content(self, file_id: str) -> bytes:
        return self._request("GET", f"/files/{_segment(file_id)}/content").content

    def retrieve_job(self, job_id: str) -> Job:
        return self._parse(Job, self._json("GET", f"/fine_tuning/jobs/{_segment(job_id)}"))

    def create_job(self, payload: dict[str, Any]) -> Job:
        return self._parse(Job, self._json("POST", "/fine_tuning/jobs", json=payload))

    def cancel_job(self, job_id: str) -> Job:
        return self._parse(Job, self._json("POST", f"/fine_tuning/jobs/{_segment(job_id)}/cancel"))

    def pause_job(self, job_id: str) -> Job:
        return self._parse(Job, self._json("POST", f"/fine_tuning/jobs/{_segment(job_id)}/pause"))

    def resume_job(self, job_id: str) -> Job:
        return self._parse(Job, self._json("POST", f"/fine_tuning/jobs/{_segment(job_id)}/resume"))

    # -- events and checkpoints --------------------------------------------------------------

    def list_events(self, job_id: str, max_events: int = 10_000) -> list[Event]:
        """All events of a job, oldest first, whichever way the backend sends them."""
        path = f"/fine_tuning/jobs/{_segment(job_id)}/events"
        response = self._request("GET", path, params={"limit": PAGE_LIMIT})
        if "text/event-stream" in response.headers.get("content-type", ""):
            # FakeAI: one SSE body, already oldest first, the newest `limit` events.
            return self._parse_items(Event, parse_sse(response.text))
        try:
            first = self._parse(Page, response.json())
        except ValueError:
            raise ApiError("The API sent events that are neither JSON nor SSE", response.status_code) from None
        newest_first = list(first.data)
        after = newest_first[-1].get("id") if newest_first else None
        pages = 1
        # OpenAI: newest first; `after` walks towards older events.
        while first.has_more and after and len(newest_first) < max_events and pages < MAX_EVENT_PAGES:
            page = self._parse(Page, self._json("GET", path, params={"limit": PAGE_LIMIT, "after": after}))
            pages += 1
            if not page.data or page.data[-1].get("id") == after:
                break  # an empty page, or a server ignoring `after` and repeating itself
            newest_first.extend(page.data)
            first, after = page, page.data[-1].get("id")
        return self._parse_items(Event, list(reversed(newest_first)))

    def list_checkpoints(self, job_id: str) -> list[Checkpoint]:
        checkpoints: list[Checkpoint] = []
        for items in self._pages(f"/fine_tuning/jobs/{_segment(job_id)}/checkpoints", {}, 1000):
            checkpoints.extend(self._parse_items(Checkpoint, items))
        return checkpoints

    # -- files and models --------------------------------------------------------------------

    def list_files(self, purpose: str = "fine-tune") -> list[FileObject]:
        body = self._parse(Page, self._json("GET", "/files", params={"purpose": purpose}))
        files = [f for f in self._parse_items(FileObject, body.data) if f.purpose in (None, purpose)]
        return sorted(files, key=lambda f: f.created_at, reverse=True)

    def upload_file(self, filename: str, content: bytes, purpose: str = "fine-tune") -> FileObject:
        files = {"file": (filename, content, "application/jsonl")}
        return self._parse(FileObject, self._json("POST", "/files", files=files, data={"purpose": purpose}))

    def list_models(self) -> list[Model]:
        body = self._parse(Page, self._json("GET", "/models"))
        return self._parse_items(Model, body.data)

    def close(self) -> None:
        self.session.close()


def client_from_settings(settings: Any, api_base: str | None = None) -> FineTuningClient:
    key = settings.api_key.get_secret_value() if settings.api_key else None
    return FineTuningClient(
        api_base or settings.api_base, key, api_type=settings.api_type,
        azure_api_version=settings.azure_api_version, connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout, max_jobs=settings.max_jobs,
    )

