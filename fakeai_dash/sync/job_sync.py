"""One watched job's sync round: the job, new events since the newest known, older history in the
background, the result file of a finished job, and checkpoints. Runs on the leader only.

What it keeps (all plain data in the picture):
- ``job:<id>``: what the details panels read each tick (job, checkpoints, a bounded event summary);
- ``series:<id>``: the complete metric curves (MetricHistory), never cut;
- ``log:<id>``: the newest LOG_WINDOW events for the events log;
- ``jobstate:<id>``: the leader's cursors (newest id known, backfill cursor, done flags).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Any

from fakeai_dash.alerts import AlertRules, earliest, first_non_finite, job_alerts
from fakeai_dash.api.client import ApiError, FineTuningClient
from fakeai_dash.api.models import FINISHED_STATUSES
from fakeai_dash.cost import cost_summary, estimate_total_tokens
from fakeai_dash.metrics import shown_progress
from fakeai_dash.sync.changes import announce, entry_changed
from fakeai_dash.sync.interest import MISSING_TTL_S, is_missing
from fakeai_dash.sync.list_sync import LIST_MEMBER, LIST_PROGRESS, list_steps
from fakeai_dash.series import MetricHistory, history_event, rows_from_events, rows_from_result_csv
from fakeai_dash.sync.picture import CHECKPOINT_FIELDS, EVENT_FIELDS, PictureKeys, trimmed

log = logging.getLogger(__name__)

LOG_WINDOW = 2000          # newest events kept for the log; older ones live on in the curves
SUMMARY_METRIC_EVENTS = 20  # the newest metric events the panels see (progress, rate, ETA): every
# panel callback receives the store on every tick of a live job, so it stays small
LIFECYCLE_CAP = 500        # message events (created, validated, started, …) kept for the timeline
NEW_PAGES_PER_ROUND = 20   # newest-first pages read to catch up in one round
BACKFILL_PAGES_PER_ROUND = 20  # older pages read per round: history loads without hogging the API
# Jobs whose picture (curves, log, state) is kept. A 100,000-step curve is ~4 MB packed, so the
# store holds at most ~100 × (4 MB + 0.4 MB of log) ≈ 0.5 GB; the least recently synced go
# first, and a job evicted is fetched again (result file: one request) when someone opens it.
KEPT_JOBS = 100


def _event(event) -> dict[str, Any]:
    raw = event.model_dump() if hasattr(event, "model_dump") else dict(event)
    return trimmed(raw, EVENT_FIELDS)


def _is_metrics(event: dict[str, Any]) -> bool:
    return event.get("type") in (None, "metrics") and isinstance(event.get("data"), dict)


def append_newer(window: list[dict], newer_oldest_first: list[dict], cap: int = LOG_WINDOW) -> list[dict]:
    """The log window with newer events appended (by id, once each), the oldest dropped past ``cap``."""
    known = {event["id"] for event in window}
    merged = window + [event for event in newer_oldest_first if event["id"] not in known]
    return merged[-cap:]


def prepend_older(window: list[dict], older_newest_first: list[dict], cap: int = LOG_WINDOW) -> list[dict]:
    """The log window with backfilled older events in front, while it has room (the newest stay)."""
    if len(window) >= cap:
        return window
    known = {event["id"] for event in window}
    older = [event for event in reversed(older_newest_first) if event["id"] not in known]
    return (older + window)[-cap:]


def lifecycle_merge(lifecycle: list[dict], events: list[dict]) -> list[dict]:
    """Message events, once each, ordered by time (few per job; capped)."""
    by_id = {event["id"]: event for event in lifecycle}
    for event in events:
        if not _is_metrics(event):
            by_id.setdefault(event["id"], event)
    ordered = sorted(by_id.values(), key=lambda e: (e.get("created_at") or 0))
    if len(ordered) <= LIFECYCLE_CAP:
        return ordered
    half = LIFECYCLE_CAP // 2  # the first stages and the latest news matter; the middle gives way
    return ordered[:half] + ordered[-half:]


def summary_events(lifecycle: list[dict], window: list[dict]) -> list[dict]:
    """What the panels get: every lifecycle event and the newest metric events, oldest first."""
    metrics = [event for event in window if _is_metrics(event)][-SUMMARY_METRIC_EVENTS:]
    ids = {event["id"] for event in metrics}
    merged = [e for e in lifecycle if e["id"] not in ids] + metrics
    return sorted(merged, key=lambda e: (e.get("created_at") or 0))


def job_steps(job: dict[str, Any], summary: list[dict], history: MetricHistory) -> dict[str, Any]:
    """``{"step", "total_steps", "percent"}`` by the details' rule (training_progress.progress_view
    reads the same summary and history): what the job's entry and the list's live map carry."""
    return shown_progress(job, [*summary, *history_event(history)])


def history_version(history: MetricHistory) -> str:
    last = history.last_step
    digest = hashlib.blake2b(digest_size=6)
    digest.update(f"{len(history)}:{last}:{history.total_steps}:{sorted(history.metrics)}".encode())
    if len(history):
        for column in history.metrics.values():
            digest.update(column[-1:].tobytes())
    return digest.hexdigest()


class JobSync:
    """The leader's view of one job: read from and written to the store under ``ns``-prefixed keys."""

    def __init__(self, client: FineTuningClient, store, keys: PictureKeys, alert_rules: AlertRules | None = None,
                 price_table: dict[str, float] | None = None):
        self.client = client
        self.store = store
        self.keys = keys
        self.in_use = lambda: set()  # job ids someone watches now (set by the engine): never evicted
        self.alert_rules = alert_rules or AlertRules()
        self.price_table = price_table
        self._alerts_lock = threading.Lock()  # rounds run in parallel; the alerts map is shared

    def run(self, job_id: str, first_look: bool = False) -> str | None:
        """One full round; the job's status (None when nothing was fetched). A ``first_look``
        (sync/cold.py: a page waits for it) leaves the older event pages and the training file's
        size to the next round: it writes the same entries, from the newest page."""
        state = self.store.get(self.keys.job_state(job_id)) or {}
        if state.get("final"):
            self.store.touch(self.keys.kept(), job_id, time.time())  # still in use: keep it
            return  # a finished job whose whole history is kept: no request at all
        if not state and is_missing(self.store.get(self.keys.job(job_id)), time.time()):
            return None  # the API said 404 a moment ago (interest.py remembers it): not asked again
        try:
            job = self.client.retrieve_job(job_id).model_dump()
        except ApiError as error:
            if error.status == 404:
                self._publish_error(job_id, error)
                return
            raise
        # Checkpoints before events: the events read last are the freshest when the round publishes.
        checkpoints = [trimmed(c.model_dump(), CHECKPOINT_FIELDS)
                       for c in self.client.list_checkpoints(job_id)]
        window = self.store.get(self.keys.log(job_id)) or []
        lifecycle = state.get("lifecycle") or []
        history = self._history(job_id)
        finished = job.get("status") in FINISHED_STATUSES

        newer, reached_known, streamed, saw_first = self._newer_events(job_id, state.get("newest_id"))
        state["streamed"] = streamed
        if saw_first:
            state["log_complete"] = True
        if newer:
            state["newest_id"] = newer[-1]["id"]
            if state.get("backfill_after") is None and not state.get("streamed"):
                state["backfill_after"] = newer[0]["id"]
            if not reached_known and state.get("seen_any"):
                log.warning("Job %s: more than %d new event pages in one round; older ones come by backfill",
                            job_id, NEW_PAGES_PER_ROUND)
            state["seen_any"] = True
        window = append_newer(window, newer)
        lifecycle = lifecycle_merge(lifecycle, newer)
        rows, total = rows_from_events(newer)
        history = history.merge_rows(rows).with_total(total)
        state["non_finite"] = earliest(state.get("non_finite"), first_non_finite(rows))

        result_file = (job.get("result_files") or [None])[0] if finished else None
        if result_file and not state.get("result_read"):
            history = self._merge_result_file(job_id, result_file, history, state)
        if not first_look and not state.get("result_read") and not state.get("backfill_done") \
                and not state.get("streamed"):
            history, lifecycle, window = self._backfill(job_id, state, history, lifecycle, window)

        if "training_file_bytes" not in state and not finished and job.get("trained_tokens") is None \
                and not first_look:
            state["training_file_bytes"] = self._file_bytes(job.get("training_file"))
        loaded = self._loaded(state, history)
        version = history_version(history)
        if version != state.get("version"):
            self.store.set(self.keys.series(job_id), {**history.to_dict(), "version": version})
        state.update(lifecycle=lifecycle, version=version,
                     final=finished and loaded >= 1.0)
        self.store.set(self.keys.log(job_id), window)
        self.store.set(self.keys.job_state(job_id), state)
        self._keep(job_id)
        summary = summary_events(lifecycle, window)
        steps = job_steps(job, summary, history)
        self._share_steps(job_id, steps)
        alerts = self._alerts(job_id, job, history, summary, window, checkpoints, state)
        self._publish(job_id, {
            "job": job, "events": summary, "checkpoints": checkpoints,
            "progress": steps,
            "history": {"loaded": loaded, "version": version, "points": len(history)},
            "at": time.time(), "final": state["final"],
            "training_file_bytes": state.get("training_file_bytes"),
            "alerts": alerts,
        })
        return job.get("status")

    # -- pieces ------------------------------------------------------------------------------

    def _history(self, job_id: str) -> MetricHistory:
        raw = self.store.get(self.keys.series(job_id))
        return MetricHistory.from_dict(raw) if raw else MetricHistory()

    def _newer_events(self, job_id: str, newest_known: str | None) -> tuple[list[dict], bool, bool, bool]:
        """(events newer than ``newest_known`` oldest first, whether the known one was reached,
        whether the server streams its newest events as SSE, whether a first look saw them all)."""
        collected: list[dict] = []
        after = None
        # A first look reads the newest page only: older history is the backfill's, in the background.
        for _ in range(NEW_PAGES_PER_ROUND if newest_known else 1):
            page = self.client.events_page(job_id, after=after)
            events = [_event(e) for e in page.events]
            if page.streamed:
                # FakeAI: the newest events in one body; merged by id (the window drops repeats).
                return list(reversed(events)), True, True, False
            for event in events:
                if event["id"] == newest_known:
                    return list(reversed(collected)), True, False, False
                collected.append(event)
            if not page.has_more or not events:
                # A first look that reached the end saw every event there is.
                return list(reversed(collected)), True, False, newest_known is None
            after = events[-1]["id"]
        return list(reversed(collected)), newest_known is None, False, False

    def _backfill(self, job_id, state, history, lifecycle, window):
        """Older pages, a bounded number per round, from the oldest event known towards the first."""
        after = state.get("backfill_after")
        if after is None:
            state["backfill_done"] = True
            return history, lifecycle, window
        for _ in range(BACKFILL_PAGES_PER_ROUND):
            page = self.client.events_page(job_id, after=after)
            older = [_event(e) for e in page.events]
            rows, total = rows_from_events(older)
            history = history.merge_rows(rows).with_total(total)
            state["non_finite"] = earliest(state.get("non_finite"), first_non_finite(rows))
            lifecycle = lifecycle_merge(lifecycle, older)
            window = prepend_older(window, older)
            if older:
                after = older[-1]["id"]
            if not page.has_more or not older:
                state["backfill_done"] = True
                # The log reaches the first event only if it had room for all of them.
                state["log_complete"] = len(window) < LOG_WINDOW
                break
        state["backfill_after"] = after
        return history, lifecycle, window

    def _merge_result_file(self, job_id, file_id, history, state):
        try:
            rows = rows_from_result_csv(self.client.file_content(str(file_id)))
        except ApiError as error:
            log.info("Job %s: result file %s unreadable (%s); history comes from events", job_id, file_id, error)
            state["result_read"] = False
            return history
        state["non_finite"] = earliest(state.get("non_finite"), first_non_finite(rows))
        if rows:
            # The file has every step: it settles the curves, and no event backfill is needed.
            history = history.merge_rows(rows)
            state["result_read"] = True
            state["backfill_done"] = True
        return history

    def _file_bytes(self, file_id: str | None) -> int | None:
        """The training file's size, read once per job: an unfinished job's token estimate needs it."""
        if not file_id:
            return None
        try:
            files = self.client.list_files()
        except ApiError:
            return None
        return next((f.bytes for f in files if f.id == file_id), None)

    @staticmethod
    def _loaded(state: dict[str, Any], history: MetricHistory) -> float:
        if state.get("result_read") or state.get("backfill_done") or state.get("streamed"):
            return 1.0
        if history.total_steps and len(history):
            return min(0.99, len(history) / history.total_steps)
        return 0.0

    def _share_steps(self, job_id: str, steps: dict[str, Any]) -> None:
        """Tell the jobs list this job's steps now, not at the list's next round: the list and
        the details must not show one job at two different percentages."""
        live = self.store.get(self.keys.progress())
        if live is None or job_id not in live or not steps.get("total_steps"):
            return
        shared = {**live[job_id], **list_steps(steps)}
        if shared == live[job_id]:
            return
        live[job_id] = shared
        self.store.set(self.keys.progress(), live)
        announce(self.store, self.keys, LIST_PROGRESS)  # push: the list's progress moved with the details

    def _alerts(self, job_id, job, history, summary, window, checkpoints, state) -> list[dict]:
        """The job's training-health alerts, from the curves this round just updated (no extra
        request), kept in the job's entry and in the shared {job id: alerts} map the list reads."""
        now = time.time()
        projected = None
        if self.alert_rules.job_budget is not None:
            expected = estimate_total_tokens(state.get("training_file_bytes"),
                                             (job.get("hyperparameters") or {}).get("n_epochs"))
            cost = cost_summary(job, summary, self.price_table, now, expected_total_tokens=expected)
            projected = cost["projected_cost"] if cost["projected_cost"] is not None else cost["cost"]
        stamps = [t for t in ((window[-1].get("created_at") if window else None), history.times[-1:].max(initial=0))
                  if isinstance(t, (int, float)) and t > 0]
        alerts = job_alerts(history, status=job.get("status"), checkpoints=checkpoints,
                            non_finite=state.get("non_finite"), last_event_at=max(stamps) if stamps else None,
                            projected_cost=projected, now=now, rules=self.alert_rules)
        self._share_alerts({job_id: alerts})
        return alerts

    def _share_alerts(self, changes: dict[str, list[dict] | None]) -> None:
        """Update the {job id: alerts} map (jobs without alerts are left out: it stays small)."""
        with self._alerts_lock:
            shared = self.store.get(self.keys.alerts()) or {}
            updated = dict(shared)
            for job_id, alerts in changes.items():
                if alerts:
                    updated[job_id] = alerts
                else:
                    updated.pop(job_id, None)
            if updated != shared:
                self.store.set(self.keys.alerts(), updated)
                announce(self.store, self.keys, LIST_MEMBER)  # live pages refetch the list's badges

    def _keep(self, job_id: str) -> None:
        """Mark ``job_id`` as just synced and evict the least recently synced past KEPT_JOBS."""
        group = self.keys.kept()
        self.store.touch(group, job_id, time.time())
        kept = self.store.members_since(group, 0)
        if len(kept) <= KEPT_JOBS:
            return
        in_use = self.in_use()
        evictable = sorted((m for m in kept if m not in in_use), key=kept.get)
        evicted = evictable[: len(kept) - KEPT_JOBS]
        for old in evicted:
            for key in self.keys.job_entries(old):
                self.store.delete(key)
        self.store.forget(group, evicted)
        self._share_alerts(dict.fromkeys(evicted))  # an evicted job's alerts go with its curves

    def _publish_error(self, job_id: str, error: ApiError) -> None:
        # A 404 is remembered for MISSING_TTL_S, then forgotten: made-up ids never fill the store.
        self._publish(job_id, {"error": {"message": error.message, "status": error.status}, "at": time.time()},
                      ttl=MISSING_TTL_S if error.status == 404 else None)

    def _publish(self, job_id: str, entry: dict[str, Any], ttl: float | None = None) -> None:
        """Write what the details panels read; announce it (push) when it changed."""
        key = self.keys.job(job_id)
        before = self.store.get(key)
        self.store.set(key, entry, ttl=ttl)
        if entry_changed(before, entry):
            announce(self.store, self.keys, job_id)

    # -- live lane: new events only, between full rounds ----------------------------------------

    def quick(self, job_id: str) -> bool:
        """Events newer than the newest known, merged into the picture (one API request when
        nothing is new). The job itself and its checkpoints wait for the next full round.
        Returns whether anything new came."""
        state = self.store.get(self.keys.job_state(job_id)) or {}
        entry = self.store.get(self.keys.job(job_id))
        if not entry or entry.get("error") or state.get("final") or not (state.get("newest_id") or state.get("streamed")):
            return False  # no full round yet (it sets the cursors), or nothing can change
        window = self.store.get(self.keys.log(job_id)) or []
        newer, _reached, _streamed, _first = self._newer_events(job_id, state.get("newest_id"))
        known = {event["id"] for event in window}
        newer = [event for event in newer if event["id"] not in known]
        if not newer:
            return False
        state["newest_id"] = newer[-1]["id"]
        window = append_newer(window, newer)
        lifecycle = lifecycle_merge(state.get("lifecycle") or [], newer)
        rows, total = rows_from_events(newer)
        history = self._history(job_id).merge_rows(rows).with_total(total)
        # NaN leaves no trace in the merged history: note it here, or the full round (which reads
        # only events newer than these) never would.
        state["non_finite"] = earliest(state.get("non_finite"), first_non_finite(rows))
        version = history_version(history)
        if version != state.get("version"):
            self.store.set(self.keys.series(job_id), {**history.to_dict(), "version": version})
        state.update(lifecycle=lifecycle, version=version)
        self.store.set(self.keys.log(job_id), window)
        self.store.set(self.keys.job_state(job_id), state)
        summary = summary_events(lifecycle, window)
        steps = job_steps(entry["job"], summary, history)
        self._share_steps(job_id, steps)
        self._publish(job_id, {
            **entry, "events": summary,
            "progress": steps,
            "history": {**(entry.get("history") or {}), "version": version, "points": len(history)},
            "at": time.time(),
        })
        return True
