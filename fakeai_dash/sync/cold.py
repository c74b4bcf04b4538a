"""ColdFetch: a job's URL that the picture does not hold yet is fetched on the spot, so its first
view arrives drawn (server/first_view.py) instead of waiting for the sync loop's round.

A link from a colleague or a notification names a job nobody has opened: the leader's round
for it reads the job, then its checkpoints, then its newest events, one after another, and for
a live job the whole older history (page after page) before it writes the picture. The page
waited for all of that (2.1 s for a 1,500-step live job at 150 ms per answer). Here the job, its
checkpoints and its newest events page are asked for at once (a finished job's result file
follows the job), by the sync loop's own round code (JobSync.run with ``first_look``), so the
picture gets exactly the entries a round writes and the loop continues from them: older pages
and the training file's size come with the leader's next round, which the claim holds back
until this write is done (SyncEngine._schedule), so nothing is asked twice.

One fetch per job across every worker: the store's atomic ``add`` is the claim; whoever loses
it waits on the picture. Either waits at most ``deadline_s`` for the API (the claim's holder a
little longer, GRACE_S, when every answer is in and only their reading is left); past it the
page is built as for any job not yet in the picture (its callbacks load it), while the fetch
goes on in the background and fills the picture they wait on: no work is wasted.

Any worker may do this, not only the leader: it is a read a user triggered, admitted first
(sync/interest.py: ids validated, the per-user and total caps, the "watch" rate limit), one
round of a few requests, like the leader's round it spares. Sending it to the leader (a nudge,
then a wait) costs the leader's tick and runs its one-request-after-another round.
"""

from __future__ import annotations

import copy
import logging
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from fakeai_dash.api.client import ApiError, FineTuningClient
from fakeai_dash.sync.store import wait_for

log = logging.getLogger(__name__)

DEADLINE_S = 0.4  # what a page waits for the API's answers on its cold job; then the ordinary path
# And at most this much more while every answer is in and only being read: with it the page
# waits at most what it waited on the picture before (source.FIRST_LOAD_WAIT_S, 1.5 s), never on
# the API. A 20,000-row result file takes ~0.2 s to read on an idle machine, over 1 s on a busy one,
# and the ordinary path costs more than that (the page's callbacks, then their own wait).
GRACE_S = 1.1
BUDGET_S = 10.0   # the background fetch's own time budget (it outlives the page's wait)
POOL_THREADS = 4   # per worker: fetches at once (each admitted: the interest caps bound them)


class PrefetchingClient:
    """The client, with a job's first requests of a round (the job, its checkpoints, its newest
    events page) sent at once; the round then takes each answer where it would have asked.
    ``asking`` counts the requests under way: none left means the round is only working."""

    def __init__(self, client: FineTuningClient, job_id: str, pool: ThreadPoolExecutor, budget_s: float):
        self._client = client
        self._job_id = job_id
        self._lock = threading.Lock()
        self.asking = 0
        end = time.monotonic() + budget_s

        def ask(method: str, **kwargs: Any) -> Future:
            def call():
                with client.budget(max(0.0, end - time.monotonic())):  # budgets are per thread
                    return self._counted(getattr(client, method), job_id, **kwargs)
            with self._lock:
                self.asking += 1  # counted from now, not from when a thread picks it up
            return pool.submit(call)

        self._ahead = {"list_checkpoints": ask("list_checkpoints"), "events_page": ask("events_page")}

    def _counted(self, request, *args: Any, **kwargs: Any) -> Any:
        try:
            return request(*args, **kwargs)
        finally:
            with self._lock:
                self.asking -= 1

    def _ask(self, request, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self.asking += 1
        return self._counted(request, *args, **kwargs)

    def retrieve_job(self, job_id: str):
        return self._ask(self._client.retrieve_job, job_id)

    def list_checkpoints(self, job_id: str):
        ahead = self._ahead.pop("list_checkpoints", None) if job_id == self._job_id else None
        return ahead.result() if ahead else self._ask(self._client.list_checkpoints, job_id)

    def events_page(self, job_id: str, after: str | None = None, **kwargs: Any):
        ahead = self._ahead.pop("events_page", None) if job_id == self._job_id and after is None and not kwargs else None
        return ahead.result() if ahead else self._ask(self._client.events_page, job_id, after=after, **kwargs)

    def __getattr__(self, name: str) -> Any:  # every other request (the result file): as the round makes it
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute
        return lambda *args, **kwargs: self._ask(attribute, *args, **kwargs)


class ColdFetch:
    """Fetches a cold job's first picture once across workers; see the module's docstring."""

    def __init__(self, engine, deadline_s: float = DEADLINE_S, budget_s: float = BUDGET_S,
                 grace_s: float = GRACE_S):
        self.engine = engine
        self.grace_s = grace_s
        self.store = engine.store
        self.deadline_s = deadline_s
        self.budget_s = budget_s
        self._pool = ThreadPoolExecutor(POOL_THREADS, thread_name_prefix="cold")
        # The requests sent ahead have their own threads: a round waiting on them must never
        # hold the thread they queue for.
        self._requests = ThreadPoolExecutor(2 * POOL_THREADS, thread_name_prefix="cold-ask")
        self._owner = f"{os.getpid()}"

    def claim_key(self, job_id: str) -> str:
        return self.engine.keys.cold_claim(job_id)

    def fetch(self, job_id: str) -> dict[str, Any] | None:
        """The job's picture entry within the deadline, or None (the fetch may go on). Call only
        for a valid id the reader was admitted to watch."""
        key = self.engine.keys.job(job_id)
        if not self.store.add(self.claim_key(job_id), self._owner, ttl=self.budget_s + 1):
            # Another page (or worker) fetches it: wait for its write, or for its claim to go.
            return wait_for(lambda: self.store.get(key) or self._given_up(job_id), self.deadline_s) or None
        try:
            client = PrefetchingClient(self.engine.client, job_id, self._requests, self.budget_s)
            future = self._pool.submit(self._round, job_id, client)
        except RuntimeError:  # shutting down
            self.store.delete(self.claim_key(job_id))
            return None
        try:
            future.result(timeout=self.deadline_s)
        except FutureTimeout:
            if client.asking:
                return None  # the API is slow: the page takes the ordinary path; the round goes on
            try:
                # Every answer is in and the round is only working (GRACE_S): a short wait beats
                # the ordinary path's second of callbacks.
                future.result(timeout=self.grace_s)
            except FutureTimeout:
                return None
        return self.store.get(key)

    def _given_up(self, job_id: str) -> dict[str, Any] | None:
        """An empty answer ({}) once the claim is gone without an entry: stop waiting."""
        return {} if self.store.get(self.claim_key(job_id)) is None else None

    def _round(self, job_id: str, client: PrefetchingClient) -> None:
        sync = copy.copy(self.engine.job_sync)  # the loop's round code and locks, with requests ahead
        sync.client = client
        try:
            with self.engine.client.budget(self.budget_s):
                sync.run(job_id, first_look=True)
        except ApiError as error:  # the leader's round, let through by the claim's end, reports it
            log.info("Cold fetch of %s failed: %s", job_id, error)
        except Exception:  # noqa: BLE001 - a page's one-off fetch must never take a worker down
            log.exception("Cold fetch of %s failed", job_id)
        finally:
            self.store.delete(self.claim_key(job_id))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._requests.shutdown(wait=False, cancel_futures=True)
