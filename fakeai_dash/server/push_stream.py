"""The push route: ``GET <prefix>_push`` streams Server-Sent Events telling one page what changed.

A page asks for the members it shows — the list, the job it has open, the jobs it compares —
and gets one ``change`` event per member whose version moved (never the data itself: the page
fetches through its usual callbacks, so there is one rendering path). It passes the versions it
last saw (``v``), so a page that reconnects — to this worker or another — hears at once about
what changed while it was away. Sign-in applies as on every route (auth.protect runs first).

Threads: a stream holds one server thread while open (gunicorn's gthread worker). Streams per
worker are capped (FAKEAI_DASH_PUSH_STREAMS, set by gunicorn_conf from its thread count), so
ordinary requests always find a thread; past the cap the page is told 503 and polls.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator

from flask import Flask, Response, request

from fakeai_dash.sync.changes import ChangeFeed
from fakeai_dash.sync.engine import LIST
from fakeai_dash.sync.list_sync import LIST_PROGRESS
from fakeai_dash.validation import is_valid_id

log = logging.getLogger(__name__)

PATH = "_push"
MAX_STREAMS_ENV = "FAKEAI_DASH_PUSH_STREAMS"
REQUEST_THREADS_ENV = "FAKEAI_DASH_REQUEST_THREADS"  # set by gunicorn_conf: its threads for requests
_SLOT_KEY = "fakeai_dash.request_slot"
KEEPALIVE_S = 15.0   # a ping this often: proxies keep the connection, the page knows it is alive
MAX_COMPARED = 8     # jobs a page compares (the picker's own limit is lower)
RETRY_MS = 2000      # EventSource's own reconnect delay, if the page's bridge does not take over first
MAX_VERSION_TEXT = 2000
# The shared store is unreachable (sync/resilient.py): no change can be heard, so the page is told
# to poll (assets/push.js) and to try the stream again with its backoff.
PAUSE = "event: pause\ndata: {}\n\n"


def members_asked(args) -> list[str]:
    """LIST, the open job and the compared jobs a request asks for (ids checked, bounded)."""
    members = [LIST]
    job = args.get("job") or ""
    if job and is_valid_id(job):
        members.append(job)
    for job_id in (args.get("compare") or "").split(",")[:MAX_COMPARED]:
        if job_id and is_valid_id(job_id) and job_id not in members:
            members.append(job_id)
    return members


def heard(members: list[str]) -> list[str]:
    """What a stream tells the page about: its members, plus the list's live fields beside the
    list (a member of their own, so the rows' fetch is not re-run for each step; never watched)."""
    return [*members, LIST_PROGRESS] if LIST in members else list(members)


def versions_seen(text: str | None, members: list[str]) -> dict[str, int]:
    """``member:version,...`` as the page last saw them (only the members it asks for)."""
    seen: dict[str, int] = {}
    for part in (text or "")[:MAX_VERSION_TEXT].split(","):
        member, _, version = part.rpartition(":")
        if member in members and version.isdigit():
            seen[member] = int(version)
    return seen


def paused_stream() -> Iterator[str]:
    """A stream that says at once "no live updates for now": a 200 that ends cleanly, so the page
    falls back to polling with no HTTP error and no console error (a 503 would log one)."""
    yield f"retry: {RETRY_MS}\n\n"
    yield PAUSE


def sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def stream(feed: ChangeFeed, engine, members: list[str], seen: dict[str, int],
           keepalive_s: float = KEEPALIVE_S) -> Iterator[str]:
    """The events of one page; ends when the feed closes (the worker stops) or the page goes."""
    for member in members:
        engine.watch_live(member)
    yield f"retry: {RETRY_MS}\n\n"
    told = heard(members)
    seq = feed.seq
    current = feed.current(told)
    yield sse("hello", {"versions": current})
    # Whatever changed since the page last looked (all of it on a first connection).
    for member in told:
        if seen.get(member) != current[member]:
            yield sse("change", {"member": member, "version": current[member]})
    sent = dict(current)
    while not feed.closing:
        new_seq = feed.wait(seq, keepalive_s)
        if feed.closing:
            break
        if feed.paused:
            yield PAUSE  # the store went away: the page polls (last picture, banner) and retries
            return
        # Still shown: the sync loop keeps the members current (the fast lane for a running job).
        # On every wake, not only on keep-alives, which a busy job's stream never reaches
        # (watch_live writes at most once a second per member).
        for member in members:
            engine.watch_live(member)
        if new_seq == seq:
            # An event, not a comment: EventSource hides comments from the page, which must see
            # that the stream is alive (push.js drops a stream silent for 40 s).
            yield "event: ping\ndata: {}\n\n"
            continue
        seq = new_seq
        current = feed.current(told)
        for member in told:
            if current[member] != sent.get(member):
                sent[member] = current[member]
                yield sse("change", {"member": member, "version": current[member]})
    yield sse("bye", {})  # the worker is stopping: reconnect (to another one) at once


class StreamSlots:
    """How many streams this worker may hold (None: no cap, a development server)."""

    def __init__(self, limit: int | None):
        self.limit = limit
        self._open = 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.limit is not None and self._open >= self.limit:
                return False
            self._open += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self._open = max(0, self._open - 1)


def _stream_limit() -> int | None:
    value = os.environ.get(MAX_STREAMS_ENV)
    return int(value) if value and value.isdigit() else None


def limit_request_concurrency(server: Flask, exempt: set[str]) -> None:
    """At most REQUEST_THREADS_ENV requests run at once per worker, streams and ``exempt`` aside.

    The worker has a thread per possible stream (hundreds), so without this a burst of callbacks
    (every page fetching after one change) would run on hundreds of threads at once, fighting
    for the GIL: each gets slower and /healthz waits behind them all. Waiting here costs no CPU.
    """
    value = os.environ.get(REQUEST_THREADS_ENV)
    if not value or not value.isdigit():
        return  # a development or test server: its own threads, no cap
    slots = threading.BoundedSemaphore(int(value))

    @server.before_request
    def _take_slot():
        if request.path not in exempt:
            slots.acquire()
            request.environ[_SLOT_KEY] = True

    @server.teardown_request
    def _give_slot(_error=None):
        if request.environ.pop(_SLOT_KEY, False):
            slots.release()


def configure_push(server: Flask, source, prefix: str = "/") -> None:
    """Register the push route on ``server`` (the source's feed and engine serve it)."""
    slots = StreamSlots(_stream_limit())

    def push():
        # Only the jobs this user may have watched (sync/interest.py): a stream keeps its members
        # watched for as long as it is open, so a forged one must not name made-up ids freely.
        if source.feed.paused or source.store_down_since():
            return Response(paused_stream(), mimetype="text/event-stream", headers={"Cache-Control": "no-store"})
        members = source.admitted(members_asked(request.args))
        seen = versions_seen(request.args.get("v"), heard(members))
        if source.feed.closing or not slots.take():
            # Busy (or stopping): the page polls and retries later, perhaps on another worker.
            return Response("Push is busy; the page polls instead.\n", status=503, mimetype="text/plain",
                            headers={"Retry-After": "10"})
        source.feed.open_stream()
        response = Response(stream(source.feed, source.engine, members, seen), mimetype="text/event-stream",
                            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

        @response.call_on_close
        def _closed():  # the server closes every response, even one whose body never started
            source.feed.close_stream()
            slots.give_back()

        return response

    server.add_url_rule(f"{prefix}{PATH}", "fakeai_dash_push", push, methods=["GET"])
