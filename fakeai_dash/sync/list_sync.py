"""The jobs list's sync round: newest page plus the active jobs in steady state, a full walk
at start and at a slow cadence (to catch deletions). Runs on the leader only.

A first walk publishes after its first page, so a first visit shows the newest jobs while
the rest of thousands still load.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fakeai_dash.api.client import ApiError, FineTuningClient
from fakeai_dash.sync.changes import announce
from fakeai_dash.sync.rows import job_row, live_fields, rows_signature
from fakeai_dash.sync.listing import active_ids, merge_rows, order_rows, unique_by_id
from fakeai_dash.sync.picture import PictureKeys

RECONCILE_S = 300        # a full walk this often catches jobs deleted on the server
CATCH_UP_PAGES = 10      # newest pages read in one steady round before falling back to a full walk
LIST_MEMBER = "list"     # the engine's LIST (the engine imports this module)
# Active jobs' live fields (steps, ETA, tokens) announce a member of their own: they move several
# times a second while a job runs, and a page re-running its list fetch that often has each answer
# dropped by the next (Dash discards an in-flight callback re-triggered before it returns), so on a
# busy machine a new row waited behind them for seconds (issue #22, item 7).
LIST_PROGRESS = "list-progress"
ACTIVE_RECHECKS = 64     # active jobs off the newest page re-read per round (most recently created first)
RECHECK_THREADS = 8
QUICK_PAGE = 10          # jobs the fast lane reads (the newest): one small request


class ListSync:
    def __init__(self, client: FineTuningClient, store, keys: PictureKeys, max_jobs: int):
        self.client = client
        self.store = store
        self.keys = keys
        self.max_jobs = max_jobs

    def run(self) -> None:
        state = self.store.get(self.keys.list_state()) or {}
        current = (self.store.get(self.keys.jobs()) or {}).get("rows")
        if current is None or not state.get("complete") or time.time() - state.get("full_at", 0) > RECONCILE_S:
            self._full_walk(current)
        else:
            self._steady(current)

    def _full_walk(self, current: list[dict] | None) -> None:
        rows: list[dict[str, Any]] = []
        after = None
        while len(rows) < self.max_jobs:
            jobs, has_more = self.client.list_jobs_page(after)
            rows = unique_by_id(rows + [job_row(job) for job in jobs])
            if current is None:
                # Nothing on screen yet: show what we have now, the rest follows page by page.
                self.publish(rows, complete=False)
            if not has_more:
                break
            after = jobs[-1].id
        self.publish(rows[: self.max_jobs], complete=True)
        self.store.set(self.keys.list_state(), {"complete": True, "full_at": time.time()})

    def _steady(self, current: list[dict]) -> None:
        known = {row["id"] for row in current}
        fresh: list[dict] = []
        after = None
        for _ in range(CATCH_UP_PAGES):
            jobs, has_more = self.client.list_jobs_page(after)
            fresh.extend(job_row(job) for job in jobs)
            if not has_more or any(job.id in known for job in jobs):
                break
            after = jobs[-1].id
        else:
            self._full_walk(current)  # more new jobs than a catch-up reads: start over
            return
        seen = {row["id"] for row in fresh}
        recheck = [job_id for job_id in active_ids(current) if job_id not in seen][:ACTIVE_RECHECKS]
        updated, gone = self._recheck(recheck)
        self.publish(merge_rows(current, unique_by_id(fresh) + updated, gone), complete=True)

    def quick(self) -> bool:
        """The fast lane (live pages show the list): the newest few jobs, one small request; a job
        created since the last round is published now, not up to a refresh interval later.
        Statuses and the other rows wait for the full round. Returns whether anything was new."""
        current = (self.store.get(self.keys.jobs()) or {}).get("rows")
        state = self.store.get(self.keys.list_state()) or {}
        if current is None or not state.get("complete"):
            return False  # the first walk is still under way: it publishes page by page
        jobs, has_more = self.client.list_jobs_page(None, limit=QUICK_PAGE)
        known = {row["id"] for row in current}
        if all(job.id in known for job in jobs):
            return False
        if has_more and not any(job.id in known for job in jobs):
            self._steady(current)  # more new jobs than this page holds: catch up now, page by page
            return True
        self.publish(merge_rows(current, [job_row(job) for job in jobs])[: self.max_jobs], complete=True)
        return True

    def _recheck(self, job_ids: list[str]) -> tuple[list[dict], list[str]]:
        if not job_ids:
            return [], []

        def one(job_id: str):
            try:
                return job_row(self.client.retrieve_job(job_id)), None
            except ApiError as error:
                if error.status == 404:
                    return None, job_id
                raise

        with ThreadPoolExecutor(min(RECHECK_THREADS, len(job_ids)), thread_name_prefix="recheck") as pool:
            results = list(pool.map(one, job_ids))
        return [row for row, _ in results if row], [gone for _, gone in results if gone]

    def publish(self, rows: list[dict], complete: bool) -> None:
        publish_list(self.store, self.keys, rows, complete, time.time())


def publish_list(store, keys: PictureKeys, rows: list[dict], complete: bool, at: float | None) -> None:
    """The list, its signature (a tiny entry quiet ticks read) and the live fields of active jobs."""
    rows = order_rows(rows)
    signature = rows_signature(rows)
    before = ((store.get(keys.jobs_signature()) or {}).get("signature"), store.get(keys.progress()))
    live = live_updates(store, keys, rows)
    store.set(keys.jobs(), {"rows": rows, "signature": signature, "at": at, "complete": complete})
    store.set(keys.jobs_signature(), {"signature": signature, "at": at})
    store.set(keys.progress(), live)
    if before[0] != signature:
        announce(store, keys, LIST_MEMBER)  # push: browsers showing the list fetch its rows now
    if before[1] != live:
        announce(store, keys, LIST_PROGRESS)  # push: only the live fields, a few bytes


def live_updates(store, keys: PictureKeys, rows: list[dict]) -> dict[str, dict]:
    """{job id: live fields} of active jobs, with the steps of those whose picture knows them
    (someone opened them): the list then shows the details' progress, not the API's estimate."""
    live = live_fields(rows)
    job_ids = list(live)
    for job_id, entry in zip(job_ids, store.get_many([keys.job(j) for j in job_ids]), strict=True):
        steps = (entry or {}).get("progress") or {}
        if steps.get("total_steps"):
            live[job_id].update(list_steps(steps))
    return live


def list_steps(steps: dict[str, Any]) -> dict[str, Any]:
    """What a row of the list takes from a job's published progress (job_sync.job_steps): its
    steps and the percent the details show, computed once, on the server."""
    return {"step": steps.get("step") or 0, "total_steps": steps["total_steps"], "percent": steps.get("percent")}
