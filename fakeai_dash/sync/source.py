"""DataSource: every read and write a callback makes. Reads come from the sync loop's picture
and never wait on the API; writes go straight to the API (never cached, never retried), are
applied to the picture at once, and nudge the sync loop.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from flask import current_app

from fakeai_dash.api.client import ApiError, FineTuningClient
from fakeai_dash.api.models import Job
from fakeai_dash.budgets import month_spend
from fakeai_dash.series import MetricHistory
from fakeai_dash.sync.changes import ChangeFeed, announce
from fakeai_dash.sync.cold import ColdFetch
from fakeai_dash.sync.engine import LIST, SyncEngine
from fakeai_dash.sync.interest import Admission, NoSuchJob, Viewer, is_missing
from fakeai_dash.sync.list_sync import publish_list
from fakeai_dash.sync.listing import merge_rows
from fakeai_dash.shared_results import shared_results
from fakeai_dash.sync.rows import job_row
from fakeai_dash.sync.store import unpack, wait_for
from fakeai_dash.validation import checked_id, is_valid_id
from fakeai_dash.sync.picture import PictureKeys

EXTENSION_KEY = "fakeai_dash"
# A first visit waits this long on the picture (not on the API) for the leader's first answer.
FIRST_LOAD_WAIT_S = 1.5
# Decoded histories kept per worker: one version per job (the newest asked for: the picture holds
# no other), at most 8 jobs and 64 MB of arrays (a 100,000-step history is ~5 MB). Keyed by version
# alone, a live job's every event left one more ever longer history here until 8 were kept.
HISTORY_CACHE_SIZE = 8
HISTORY_CACHE_BYTES = 64 * 1024 * 1024
# Pages of a job's kept event log, per worker, keyed by the packed log's digest: every open page
# of a live job asks for the same newest page after each change, and decoding a 1,500-event
# window for each was most of the events panel's cost (~10 ms of ~12).
# Bound (per worker): 32 pages of at most 1,000 events (events_page caps ``limit``), and 8 MB.
_LOG_PAGES = shared_results(32, max_bytes=8 * 1024 * 1024)


def _total_nbytes(histories: OrderedDict[str, MetricHistory]) -> int:
    return sum(history.nbytes for history in histories.values())


_FAILED = {"failed": True}  # what a first read found when the leader's first answer was an error


def kept_page(window: list[dict[str, Any]], before: str | None, limit: int, complete: bool,
              version: str | None = None) -> dict[str, Any] | None:
    """``limit`` events of the kept ``window`` (oldest first) older than ``before`` (the newest
    without it), newest first; None when they lie beyond the window (the API has them).
    ``version`` names this page's content, for whoever shares what is built from it."""
    newest_first = window[::-1]
    start = 0
    if before is not None:
        index = next((i for i, event in enumerate(newest_first) if event.get("id") == before), None)
        if index is None or index + 1 >= len(newest_first):
            return None
        start = index + 1
    more_kept = start + limit < len(newest_first)
    return {"events": newest_first[start:start + limit], "has_older": more_kept or not complete, "version": version}


class NotReady(Exception):
    """Nothing is known yet of what was asked; the sync loop is fetching it."""


class DataSource:
    def __init__(self, client: FineTuningClient, store, engine: SyncEngine, ttl: float,
                 admission: Admission | None = None):
        self.client = client
        self.store = store
        self.engine = engine
        self.feed = ChangeFeed(store, engine.keys)  # this worker's ear for changes (push streams)
        self.ttl = ttl  # for the few direct reads (files, models) that the create dialog makes
        self._histories: OrderedDict[str, MetricHistory] = OrderedDict()  # job id -> newest decoded
        self._histories_lock = threading.Lock()
        # Who asks (gate.watch_viewer in the app): a request's first look at a job passes the caps
        # and the "watch" rate limit; None (no request: tests, the app's own code) is trusted.
        self.viewer: Callable[[], Viewer | None] = lambda: None
        self.admission = admission or Admission(store, engine.keys, engine.interest_ttl)
        self.cold = ColdFetch(engine)

    @property
    def keys(self) -> PictureKeys:
        return self.engine.keys

    def close(self) -> None:
        """Stop this worker's sync loop (giving up leadership) and close the store."""
        self.feed.close()
        self.cold.close()
        self.engine.stop()
        self.store.close()

    # -- API health ---------------------------------------------------------------------------

    def problem(self, member: str = LIST) -> ApiError | None:
        """Why ``member``'s picture may be stale: the last round's error, or an API silent for long."""
        error = self.engine.error_of(member)
        if error:
            return ApiError(error["message"], error.get("status"))
        busy = self.engine.busy_since(member)
        silent_after = self.engine.silent_after_s
        if busy and time.time() - busy > silent_after:
            return ApiError(f"The API has not answered for {int(time.time() - busy)} s")
        return None

    def store_down_since(self) -> float | None:
        """Since when this worker cannot reach the shared store (None: it answers, or is local).
        Meanwhile reads serve this worker's last picture and live updates are paused."""
        return getattr(self.store, "down_since", None)

    def last_success(self, member: str = LIST) -> float | None:
        entry = self.store.get(self.keys.jobs_signature() if member == LIST else self.keys.job(member))
        return (entry or {}).get("at")

    # -- reads: the picture -------------------------------------------------------------------

    def _read(self, key: str, member: str) -> Any:
        """The picture's entry; a first read waits (on the picture) for the leader's first answer,
        and stops waiting as soon as that answer is an error."""
        entry = self.store.get(key)
        if entry is not None:
            return entry
        found = wait_for(lambda: self.store.get(key) or (self.engine.error_of(member) and _FAILED), FIRST_LOAD_WAIT_S)
        return None if found is _FAILED else found

    def jobs_snapshot(self) -> dict[str, Any]:
        """``{"rows", "signature", "at", "complete"}`` for the jobs list, newest first."""
        self.engine.watch(LIST)
        entry = self._read(self.keys.jobs(), LIST)
        if entry is None:
            raise self.problem(LIST) or NotReady()
        return entry

    def jobs_snapshot_now(self) -> dict[str, Any] | None:
        """The jobs list as the picture holds it now, or None: never waits (a page's first
        layout is drawn from it and must not stall on a worker's first round)."""
        self.engine.watch(LIST)
        return self.store.get(self.keys.jobs())

    def signature(self) -> str | None:
        """The jobs list's signature, without loading the rows (a quiet tick reads only this)."""
        self.engine.watch(LIST)
        return (self.store.get(self.keys.jobs_signature()) or {}).get("signature")

    def progress(self) -> dict[str, dict]:
        """{job id: live fields (estimated_finish, trained_tokens; step and total_steps where
        known)} of the active jobs."""
        return self.store.get(self.keys.progress()) or {}

    def alerts(self) -> dict[str, list[dict]]:
        """{job id: training-health alerts} of the jobs the sync loop follows (see alerts.py)."""
        return self.store.get(self.keys.alerts()) or {}

    def month_spend(self, price_table: dict[str, float] | None, now: float) -> float:
        """Dollars of this month's jobs (budgets.month_spend over the list; 0 while it loads)."""
        entry = self.store.get(self.keys.jobs())
        return month_spend((entry or {}).get("rows") or [], price_table, now)

    def job_detail(self, job_id: str) -> dict[str, Any]:
        """``{"job", "events" (a bounded summary, oldest first), "checkpoints", "history", "at"}``.
        Raises NoSuchJob for an id the API recently answered 404 for, WatchRefused past a cap."""
        checked_id(job_id)  # a browser's id: never watched, stored or sent unless it is an id
        key = self.keys.job(job_id)
        entry = self.store.get(key)
        self._admit(job_id, entry)
        self.engine.watch(job_id)
        entry = entry if entry is not None else self._read(key, job_id)
        if entry is None:
            raise self.problem(job_id) or NotReady()
        if is_missing(entry, time.time()):
            raise NoSuchJob(job_id)
        if entry.get("error"):
            raise ApiError(entry["error"]["message"], entry["error"].get("status"))
        return entry

    def first_view_detail(self, job_id: str) -> dict[str, Any]:
        """job_detail for a page being built (server/first_view.py): a job the picture does
        not hold yet is fetched on the spot, admitted first, within ColdFetch's short deadline;
        past it, NotReady (the page's callbacks then wait for it as usual)."""
        checked_id(job_id)
        key = self.keys.job(job_id)
        entry = self.store.get(key)
        self._admit(job_id, entry)  # before any request: a refused id costs the API nothing
        if is_missing(entry, time.time()):
            entry = None  # a remembered 404 that _admit let through: in the jobs list now, look again
        if entry is None and self.store_down_since() is None:
            # (While the shared store is down nobody polls: the page waits for it, as every read does.)
            entry = self.cold.fetch(job_id)
        self.engine.watch(job_id)
        if entry is None:
            raise NotReady()
        if is_missing(entry, time.time()):
            raise NoSuchJob(job_id)
        if entry.get("error"):
            raise ApiError(entry["error"]["message"], entry["error"].get("status"))
        return entry

    def _admit(self, job_id: str, entry: dict[str, Any] | None) -> None:
        """Whether this request may have ``job_id`` watched (sync/interest.py); raises if not."""
        if is_missing(entry, time.time()):
            if job_id not in self.admission.list_ids():
                raise NoSuchJob(job_id)  # remembered: no watch, no request
            self.store.delete(self.keys.job(job_id))  # in the list now (a new job): look again
        viewer = self.viewer()
        if viewer is not None:
            self.admission.admit(job_id, viewer, entry)

    def admitted(self, members: list[str]) -> list[str]:
        """The members of ``members`` this request may have watched (LIST always): for the push
        streams, which watch what a page names for as long as it stays open."""
        kept = []
        for member in members:
            try:
                if member != LIST:
                    self._admit(member, self.store.get(self.keys.job(member)))
            except ApiError:
                continue
            kept.append(member)
        return kept

    def metric_history(self, job_id: str) -> MetricHistory | None:
        """The job's complete metric curves (decoded once per version per worker)."""
        entry = self.store.get(self.keys.series(job_id))
        if not entry:
            return None
        version = str(entry.get("version") or "")
        with self._histories_lock:
            history = self._histories.get(job_id)
            if history is not None and history.version == version:
                self._histories.move_to_end(job_id)
                return history
        history = MetricHistory.from_dict(entry)
        with self._histories_lock:
            self._histories.pop(job_id, None)  # an older version: never asked for again
            self._histories[job_id] = history
            while len(self._histories) > 1 and (len(self._histories) > HISTORY_CACHE_SIZE
                                                or _total_nbytes(self._histories) > HISTORY_CACHE_BYTES):
                self._histories.popitem(last=False)
        return history

    def history_loaded(self, job_id: str) -> float:
        entry = self.store.get(self.keys.job(job_id)) or {}
        return float((entry.get("history") or {}).get("loaded", 0.0))

    def events_page(self, job_id: str, before: str | None = None, limit: int = 100) -> dict[str, Any]:
        """``{"events": [...newest first], "has_older": bool}``: ``limit`` events older than the
        event ``before`` (the newest without it). Past the kept window: one API request."""
        checked_id(job_id)
        if before is not None:
            checked_id(before, "event")
        limit = max(1, min(int(limit), 1000))  # bounded: a forged request cannot ask for the whole window
        raw_log = self.store.get_raw(self.keys.log(job_id))
        state = self.store.get(self.keys.job_state(job_id)) or {}
        # Older events exist beyond the kept window unless the window holds the job's first event.
        complete = bool(state.get("streamed") or state.get("log_complete"))
        digest = hashlib.blake2b(raw_log or b"", digest_size=16).hexdigest()
        key = (self.keys.log(job_id), digest, before, limit, complete)
        page = _LOG_PAGES(key, lambda: kept_page(unpack(raw_log) or [], before, limit, complete, version=repr(key)))
        return page if page is not None else self._older_from_api(job_id, before, limit, complete)

    def _older_from_api(self, job_id: str, before: str, limit: int, complete: bool) -> dict[str, Any]:
        if complete or self.store.get(self.keys.job_state(job_id)) is None:
            # Nothing older (or an SSE server: no cursor), or a job the sync loop never fetched
            # (a forged id: its events are not asked for).
            return {"events": [], "has_older": False}
        page = self.client.events_page(job_id, after=before, limit=min(limit, 100))
        return {"events": [e.model_dump() for e in page.events], "has_older": page.has_more}

    # -- forced refreshes ---------------------------------------------------------------------

    def refresh_list(self) -> None:
        """Ask the sync loop to read the list now (it never refetches within 2 s): a nudge."""
        self.engine.nudge(LIST)

    def refresh_job(self, job_id: str) -> None:
        """Ask the sync loop to read ``job_id`` now: a nudge (an id from a browser is checked first)."""
        if is_valid_id(job_id):
            self.engine.nudge(job_id)

    # -- direct reads for the create dialog (cached briefly, shared by workers) ----------------

    def cached(self, key: str, fetch: Callable[[], Any], ttl: float | None = None) -> Any:
        store_key = self.keys.cached(key)
        hit = self.store.get(store_key)
        if hit is None:
            try:
                hit = {"value": fetch()}
            except ApiError as exc:
                hit = {"error": exc.message, "status": exc.status}
            # A failure is kept too (for the normal TTL): a struggling API is not hammered.
            self.store.set(store_key, hit, ttl=self.ttl if "error" in hit else (ttl or self.ttl))
        if "error" in hit:
            raise ApiError(hit["error"], hit.get("status"))
        return hit["value"]

    def files(self) -> list[dict[str, Any]]:
        return self.cached("files", lambda: [f.model_dump() for f in self.client.list_files()])

    def models(self) -> list[str]:
        return self.cached("models", lambda: sorted(m.id for m in self.client.list_models()), 300)

    # -- writes (never cached, never retried) ---------------------------------------------------

    def create_job(self, payload: dict[str, Any]) -> dict[str, Any]:
        job = self.client.create_job(payload)
        self._apply(job)
        return job.model_dump()

    def cancel_job(self, job_id: str) -> dict[str, Any]:
        return self._job_action(job_id, self.client.cancel_job)

    def pause_job(self, job_id: str) -> dict[str, Any]:
        return self._job_action(job_id, self.client.pause_job)

    def resume_job(self, job_id: str) -> dict[str, Any]:
        return self._job_action(job_id, self.client.resume_job)

    def _job_action(self, job_id: str, action: Callable[[str], Job]) -> dict[str, Any]:
        job = action(checked_id(job_id))
        self._apply(job)
        return job.model_dump()

    def _apply(self, job: Job) -> None:
        """Show a write's answer at once (every viewer), then let the sync loop confirm it."""
        row = job_row(job)
        jobs_key = self.keys.jobs()
        snapshot = self.store.get(jobs_key)
        if snapshot is not None:
            publish_list(self.store, self.keys, merge_rows(snapshot["rows"], [row]), snapshot.get("complete", True),
                         snapshot.get("at"))
        detail_key = self.keys.job(job.id)
        detail = self.store.get(detail_key)
        if detail is not None and not detail.get("error"):
            self.store.set(detail_key, {**detail, "job": job.model_dump(), "final": False})
            announce(self.store, self.keys, job.id)  # push: every page showing the job sees the write
        self.engine.nudge(LIST)
        self.engine.nudge(job.id)

    def upload_file(self, filename: str, content: bytes) -> dict[str, Any]:
        uploaded = self.client.upload_file(filename, content)
        self.store.delete(self.keys.cached("files"))
        return uploaded.model_dump()

    # -- one-shot claims (the create dialog's submit token) ------------------------------------

    def claim(self, name: str, value: Any, ttl: float) -> bool:
        """True for exactly one caller across every worker (an atomic add in the store)."""
        return self.store.add(self.keys.claim(name), value, ttl)

    def claimed(self, name: str) -> Any:
        return self.store.get(self.keys.claim(name))

    def set_claim(self, name: str, value: Any, ttl: float) -> None:
        self.store.set(self.keys.claim(name), value, ttl)

    def release_claim(self, name: str) -> None:
        self.store.delete(self.keys.claim(name))


def current_source() -> DataSource:
    """The DataSource of the app serving this request (callbacks run inside one)."""
    return current_app.extensions[EXTENSION_KEY]
