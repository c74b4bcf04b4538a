"""Cached fetches shared by every browser session, so N viewers cost the API about what one does.

Callbacks never talk to the API directly: they ask the DataSource of the running app
(``current_source()``), which answers from one flask-caching cache keyed by API base URL.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import current_app
from flask_caching import Cache

from fakeai_dash.api.client import ApiError, FineTuningClient
from fakeai_dash.api.models import FINISHED_STATUSES, Job
from fakeai_dash.series import MetricHistory, history_from_events

EXTENSION_KEY = "fakeai_dash"
LOCK_STRIPES = 64
SIGNATURE_SUFFIX = "#signature"
# A finished job's events and checkpoints no longer change: keep them for an hour.
FINISHED_TTL = 3600

# The fields the jobs list shows; the store carries these, not whole API payloads.
JOB_ROW_FIELDS = ("id", "model", "status", "created_at", "finished_at", "fine_tuned_model",
                  "trained_tokens", "suffix", "estimated_finish", "method_type")


def job_row(job: Job) -> dict[str, Any]:
    row = job.model_dump(include=set(JOB_ROW_FIELDS))
    row["has_error"] = job.error is not None
    return row


def job_detail_dict(job: Job) -> dict[str, Any]:
    return job.model_dump()


def snapshot_signature(rows: Any) -> str:
    """A short digest of a snapshot: equal digests mean nothing to re-render."""
    encoded = json.dumps(rows, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(encoded.encode(), digest_size=12).hexdigest()


def cache_config(settings: Any) -> dict[str, Any]:
    if settings.cache_url:
        return {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": settings.cache_url,
                "CACHE_KEY_PREFIX": "fakeai-dash:"}
    return {"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 2000}


class DataSource:
    """Every read the dashboard makes, through one cache; writes invalidate what they change."""

    def __init__(self, client: FineTuningClient, cache: Cache, ttl: float):
        self.client = client
        self.cache = cache
        self.ttl = ttl
        # Striped locks: bounded memory however many job ids pass through the cache.
        self._locks = tuple(threading.Lock() for _ in range(LOCK_STRIPES))

    # -- the cache ---------------------------------------------------------------------------

    def _key(self, *parts: str) -> str:
        # Two backends (say FakeAI and OpenAI) must never share an entry.
        return "|".join((self.client.api_base, *parts))

    def _lock(self, key: str) -> threading.Lock:
        return self._locks[hash(key) % LOCK_STRIPES]

    def cached(self, key: str, fetch: Callable[[], Any], ttl: float | None = None) -> Any:
        """``fetch()``'s answer, reused for ``ttl`` seconds; failures are cached too.

        Concurrent misses of one key wait for a single fetch, so five sessions polling at
        once still send one request. Caching a failure for a TTL keeps a struggling API from
        being hammered by every open browser.
        """
        full_key = self._key(key)
        hit = self._fresh(full_key)
        if hit is None:
            with self._lock(full_key):
                hit = self._fresh(full_key)
                if hit is None:
                    hit = self._fetch(key, fetch)
                    seconds = self.ttl if "error" in hit else (ttl or self.ttl)
                    hit["expires"] = time.time() + seconds
                    # The backend's own expiry counts whole seconds (cachelib truncates the
                    # clock): give it slack and judge freshness by our exact stamp instead.
                    self.cache.set(full_key, hit, timeout=math.ceil(seconds) + 1)
                    value = hit.get("value")
                    if isinstance(value, dict) and "signature" in value:
                        # A tiny companion entry: a quiet tick can compare signatures without
                        # unpickling the whole value (10,000 job rows).
                        companion = {"value": value["signature"], "expires": hit["expires"]}
                        self.cache.set(f"{full_key}{SIGNATURE_SUFFIX}", companion, timeout=math.ceil(seconds) + 1)
        if "error" in hit:
            raise ApiError(hit["error"], hit.get("status"), hit.get("param"), hit.get("code"))
        return hit["value"]

    def _fresh(self, full_key: str) -> dict[str, Any] | None:
        hit = self.cache.get(full_key)
        return hit if hit is not None and hit.get("expires", 0) > time.time() else None

    def _fetch(self, key: str, fetch: Callable[[], Any]) -> dict[str, Any]:
        try:
            value = fetch()
        except ApiError as exc:
            return {"error": exc.message, "status": exc.status, "param": exc.param, "code": exc.code}
        now = time.time()
        # Remembered without expiry: the banner says how old the data on screen is.
        self.cache.set(self._key("last-success", key), now, timeout=0)
        return {"value": value, "at": now}

    def last_success(self, key: str) -> float | None:
        """When ``key`` was last fetched successfully (epoch seconds), if ever."""
        return self.cache.get(self._key("last-success", key))

    def signature(self, key: str) -> str | None:
        """The signature of ``key``'s fresh value, if it has one, without loading the value."""
        hit = self._fresh(self._key(key) + SIGNATURE_SUFFIX)
        return hit["value"] if hit else None

    def invalidate(self, *keys: str) -> None:
        for key in keys:
            self.cache.delete(self._key(key))
            self.cache.delete(self._key(key) + SIGNATURE_SUFFIX)

    # -- reads -------------------------------------------------------------------------------

    def jobs_snapshot(self) -> dict[str, Any]:
        """``{"rows": [...], "signature": str}`` for the jobs list, newest first."""

        def fetch() -> dict[str, Any]:
            rows = [job_row(job) for job in self.client.list_jobs()]
            return {"rows": rows, "signature": snapshot_signature(rows)}

        return self.cached("jobs", fetch)

    def job(self, job_id: str) -> dict[str, Any]:
        return self.cached(f"job:{job_id}", lambda: job_detail_dict(self.client.retrieve_job(job_id)))

    def events(self, job_id: str, finished: bool = False) -> list[dict[str, Any]]:
        key = f"events:{job_id}:{'final' if finished else 'live'}"
        return self.cached(key, lambda: [e.model_dump() for e in self.client.list_events(job_id)],
                           FINISHED_TTL if finished else None)

    def checkpoints(self, job_id: str, finished: bool = False) -> list[dict[str, Any]]:
        key = f"checkpoints:{job_id}:{'final' if finished else 'live'}"
        return self.cached(key, lambda: [c.model_dump() for c in self.client.list_checkpoints(job_id)],
                           FINISHED_TTL if finished else None)

    def job_detail(self, job_id: str) -> dict[str, Any]:
        """Job, events and checkpoints of one job, as one store value."""
        job = self.job(job_id)
        finished = job.get("status") in FINISHED_STATUSES
        return {
            "job": job,
            "events": self.events(job_id, finished),
            "checkpoints": self.checkpoints(job_id, finished),
        }

    # -- histories (server-side; the browser gets downsampled figures and pages, not these) ----

    def metric_history(self, job_id: str) -> MetricHistory | None:
        """The job's complete metric curves, or None before anything is known of it."""
        detail = self.job_detail(job_id)
        return history_from_events(detail["events"])

    def history_loaded(self, job_id: str) -> float:
        """How much of the job's history the server holds, 0..1 (1: complete)."""
        return 1.0

    def events_page(self, job_id: str, before: str | None = None, limit: int = 100) -> dict[str, Any]:
        """``{"events": [...newest first], "has_older": bool}``: ``limit`` events older than
        the event ``before`` (the newest ones without it)."""
        newest_first = list(reversed(self.job_detail(job_id)["events"]))
        start = 0
        if before is not None:
            start = next((i + 1 for i, event in enumerate(newest_first) if event.get("id") == before),
                         len(newest_first))
        page = newest_first[start:start + limit]
        return {"events": page, "has_older": start + limit < len(newest_first)}

    def files(self) -> list[dict[str, Any]]:
        return self.cached("files", lambda: [f.model_dump() for f in self.client.list_files()])

    def models(self) -> list[str]:
        # Models change rarely; a backend without /models answers with an error we cache too.
        return self.cached("models", lambda: sorted(m.id for m in self.client.list_models()), 300)

    # -- writes (never cached, never retried) ------------------------------------------------

    def create_job(self, payload: dict[str, Any]) -> dict[str, Any]:
        job = self.client.create_job(payload)
        self.invalidate("jobs")
        return job_detail_dict(job)

    def cancel_job(self, job_id: str) -> dict[str, Any]:
        return self._job_action(job_id, self.client.cancel_job)

    def pause_job(self, job_id: str) -> dict[str, Any]:
        return self._job_action(job_id, self.client.pause_job)

    def resume_job(self, job_id: str) -> dict[str, Any]:
        return self._job_action(job_id, self.client.resume_job)

    def _job_action(self, job_id: str, action: Callable[[str], Job]) -> dict[str, Any]:
        job = action(job_id)
        self.invalidate("jobs", f"job:{job_id}", f"events:{job_id}:live", f"checkpoints:{job_id}:live")
        return job_detail_dict(job)

    def upload_file(self, filename: str, content: bytes) -> dict[str, Any]:
        uploaded = self.client.upload_file(filename, content)
        self.invalidate("files")
        return uploaded.model_dump()


def current_source() -> DataSource:
    """The DataSource of the app serving this request (callbacks run inside one)."""
    return current_app.extensions[EXTENSION_KEY]
