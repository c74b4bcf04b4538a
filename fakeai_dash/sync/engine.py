"""SyncEngine: one sync loop per deployment keeps a server-side picture of what browsers watch.

Every worker runs an engine thread; only the leader (see leader.py) talks to the API. Readers
(callbacks, in any worker) only read the picture and say what they watch; they never wait on
the API. The leader polls only while someone watches: once the last browser has been gone
for ``interest_ttl`` seconds, the API sees no requests at all.

Scheduling: every ``refresh_s`` the list and each watched job get a round, each on its own
pool thread so a slow round (thousands of jobs, a long backfill) never delays another. A job
watched for the first time, or a forced refresh, gets its round at once (within TICK_S).
While a push stream shows them, the list and each running job also get a quick round (one small
request) every ``live_poll_s`` between their full rounds: the fast lane.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from fakeai_dash.api.client import ApiError, FineTuningClient
from fakeai_dash.sync.changes import announce
from fakeai_dash.sync.job_sync import JobSync
from fakeai_dash.sync.list_sync import ListSync
from fakeai_dash.sync.picture import PictureKeys

log = logging.getLogger(__name__)

TICK_S = 0.1            # how soon a new watcher or a nudge is noticed
LEAD_EVERY_S = 1.0      # how often leadership is tried or renewed
MIN_REFRESH_GAP_S = 2.0  # a forced refresh never refetches an entry younger than this
LIST = "list"
POOL_THREADS = 8
LIVE = "live"  # this worker's own note of what it touched last (the group is PictureKeys.live)
LIVE_TTL_S = 40.0  # streams touch their members every keep-alive (15 s); gone after this long


def namespace(api_base: str) -> str:
    """Two backends (say FakeAI and OpenAI) sharing one store never share an entry."""
    return hashlib.blake2b(api_base.encode(), digest_size=6).hexdigest()


class SyncEngine:
    def __init__(self, client: FineTuningClient, store, leader, *, refresh_s: float,
                 interest_ttl: float = 45.0, max_jobs: int = 10_000, round_budget_s: float | None = None,
                 alert_rules=None, price_table: dict[str, float] | None = None, alert_active_jobs: int = 0,
                 alert_active_interval: float = 30.0, live_poll_s: float = 0.0):
        self.client = client
        self.store = store
        self.leader = leader
        self.refresh_s = refresh_s
        self.interest_ttl = interest_ttl
        # A round's total time budget: a stalled API ends a round with an error, not a hang.
        self.round_budget_s = round_budget_s or max(20.0, 4 * refresh_s)
        self.ns = namespace(client.api_base)
        self.keys = PictureKeys(self.ns)
        self.list_sync = ListSync(client, store, self.keys, max_jobs)
        self.job_sync = JobSync(client, store, self.keys, alert_rules, price_table)
        # Alerts for jobs nobody opened: while the list is watched, this many active jobs (newest
        # first) get a job round every alert_active_interval seconds; the rest cost nothing.
        self.alert_active_jobs = alert_active_jobs
        self.alert_active_interval = max(alert_active_interval, refresh_s)
        self.job_sync.in_use = lambda: set(self.store.members_since(self.keys.watch(), time.time() - self.interest_ttl))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        # Per-member state (bound: the members watched, capped by Admission's watch_max, and
        # dropped when a member's interest ends; _touched is cleared past 10,000 keys).
        self._running: dict[str, Future] = {}
        self._last_round: dict[str, float] = {}
        self._touched: dict[str, float] = {}
        self.leading = False
        # Fast lane (push): a running job that a live page watches gets its new events every
        # live_poll_s (one request each), between its full rounds; 0 turns it off.
        self.live_poll_s = live_poll_s
        self._last_quick: dict[str, float] = {}
        self._status: dict[str, str | None] = {}  # per job member: the status its last full round saw
        self._started: dict[str, float] = {}  # per member: when its running full round began
        self._silence_told: set[str] = set()  # members whose stalled round was announced

    # -- reader side (any worker) -------------------------------------------------------------

    def watch(self, member: str) -> None:
        """Say that a browser shows ``member`` (LIST or a job id); written at most once a second."""
        now = time.time()
        if now - self._touched.get(member, 0) >= 1.0:
            self._touched[member] = now
            if len(self._touched) > 10_000:
                self._touched.clear()
            self.store.touch(self.keys.watch(), member, now)

    def watch_live(self, member: str) -> None:
        """Say that a push stream shows ``member`` (its new events then come by the fast lane)."""
        self.watch(member)
        now = time.time()
        if now - self._touched.get(f"{LIVE}:{member}", 0) >= 1.0:
            self._touched[f"{LIVE}:{member}"] = now
            self.store.touch(self.keys.live(), member, now)

    @property
    def silent_after_s(self) -> float:
        """How long a round may run before readers say the API has been silent."""
        return max(10.0, 3 * self.refresh_s)

    def nudge(self, member: str) -> None:
        """Ask the leader for a fresh round of ``member`` now (never within MIN_REFRESH_GAP_S of the last)."""
        self.store.touch(self.keys.nudge(), member, time.time())

    # -- the loop (every worker; only the leader does API work) -------------------------------

    def start(self) -> SyncEngine:
        if self._thread is None:
            self._pool = ThreadPoolExecutor(POOL_THREADS, thread_name_prefix="sync")
            self._thread = threading.Thread(target=self._run, name="sync-loop", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self.leader.release()

    def _run(self) -> None:
        next_lead_try = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            # The store unreachable (sync/resilient.py): leadership cannot be proven, so none is
            # claimed, and the API is not polled for answers nobody could share. The probe tries
            # the store at most once a second; leadership is won again once it answers.
            down = self.store.probe() if hasattr(self.store, "probe") else None
            if down and self.leading:
                self.leader.release()
                self.leading = False
            if now >= next_lead_try and not down:
                next_lead_try = now + LEAD_EVERY_S
                try:
                    self.leading = self.leader.try_lead()
                except Exception:  # noqa: BLE001 - a broken store must not kill the loop
                    log.exception("Leadership check failed")
                    self.leading = False
            if self.leading:
                try:
                    self._schedule()
                except Exception:  # noqa: BLE001
                    log.exception("Sync scheduling failed")
            self._stop.wait(TICK_S)

    def _schedule(self) -> None:
        now = time.time()
        watched = self.store.members_since(self.keys.watch(), now - self.interest_ttl)
        nudged = self.store.members_since(self.keys.nudge(), now - self.refresh_s)
        background = self._background_members(watched, now)
        live = self.store.members_since(self.keys.live(), now - LIVE_TTL_S) if self.live_poll_s else {}
        for member in [*watched, *background]:
            running = self._running.get(member)
            if running is not None and not running.done():
                self._tell_silence(member, now)
                continue
            last = self._last_round.get(member, 0.0)
            due = now - last >= (self.refresh_s if member in watched else self.alert_active_interval)
            forced = member in nudged and nudged[member] > last and now - last >= MIN_REFRESH_GAP_S
            # The list has a fast lane too: a job created at the API reaches live pages within
            # about live_poll_s, as a chart's new step does, not after up to a refresh interval.
            quick = (member in live and (member == LIST or self._status.get(member) == "running")
                     and now - max(last, self._last_quick.get(member, 0.0)) >= self.live_poll_s)
            if (due or forced or quick) and not self._stop.is_set():
                if member != LIST and self.store.get(self.keys.cold_claim(member)) is not None:
                    continue  # a page's cold fetch (sync/cold.py) writes its first picture: the round follows it
                if due or forced:
                    self._last_round[member] = now
                    self._started[member] = now
                    task = self._round
                else:
                    self._last_quick[member] = now
                    task = self._quick
                try:
                    self._running[member] = self._pool.submit(task, member)
                except RuntimeError:  # the interpreter is exiting (its executors shut down first)
                    self._stop.set()
                    return
        for member in [m for m in self._running
                       if m not in watched and m not in background and self._running[m].done()]:
            del self._running[member]
            self._last_round.pop(member, None)
            self._last_quick.pop(member, None)
            self._status.pop(member, None)
            self._started.pop(member, None)

    def _tell_silence(self, member: str, now: float) -> None:
        """A round hanging past silent_after_s: announce it once, so live pages show the banner."""
        started = self._started.get(member)
        if started and now - started > self.silent_after_s and member not in self._silence_told:
            self._silence_told.add(member)
            announce(self.store, self.keys, member)

    def _quick(self, member: str) -> None:
        try:
            with self.client.budget(self.round_budget_s):
                if member == LIST:
                    self.list_sync.quick()
                else:
                    self.job_sync.quick(member)
        except ApiError as error:  # the full round, every refresh_s, reports errors
            log.debug("Live check of %s failed: %s", member, error)
        except Exception:  # noqa: BLE001
            log.exception("Live check of %s failed", member)

    def _background_members(self, watched: dict[str, float], now: float) -> list[str]:
        """The active jobs followed for alerts while someone watches the list (read from the
        live map the list round writes, at most once a refresh interval)."""
        if not self.alert_active_jobs or LIST not in watched:
            return []
        cached_at, members = getattr(self, "_background", (0.0, []))
        if now - cached_at >= self.refresh_s:
            live = self.store.get(self.keys.progress()) or {}
            members = list(live)[: self.alert_active_jobs]  # newest first, as the list orders them
            self._background = (now, members)
        return members

    def _round(self, member: str) -> None:
        self._mark_busy(member, True)
        try:
            with self.client.budget(self.round_budget_s):
                if member == LIST:
                    self.list_sync.run()
                else:
                    self._status[member] = self.job_sync.run(member)
        except ApiError as error:
            self._record(member, error)
        except Exception:  # noqa: BLE001 - one bad round must not stop the others
            log.exception("Sync round for %s failed", member)
            self._record(member, ApiError("The dashboard could not process the API's answer"))
        else:
            self._record(member, None)
        finally:
            self._mark_busy(member, False)
            if member in self._silence_told:  # it ended: the banner's next words are news too
                self._silence_told.discard(member)
                announce(self.store, self.keys, member)

    # -- API health, as the leader sees it ----------------------------------------------------

    def _mark_busy(self, member: str, busy: bool) -> None:
        key = self.keys.busy(member)
        if busy:
            self.store.set(key, time.time(), ttl=3600)
        else:
            self.store.delete(key)

    def _record(self, member: str, error: ApiError | None) -> None:
        """A round's outcome, per member: readers report it (problem()) beside what they show."""
        errors_key = self.keys.error(member)
        before = self.store.get(errors_key)
        if error is None:
            if before is not None:
                self.store.delete(errors_key)
        else:
            self.store.set(errors_key, {"message": error.message, "status": error.status, "at": time.time()},
                           ttl=3600)
        if (before or {}).get("message") != (error.message if error else None):
            announce(self.store, self.keys, member)  # push: the banner changes for live pages

    def busy_since(self, member: str) -> float | None:
        return self.store.get(self.keys.busy(member))

    def error_of(self, member: str) -> dict[str, Any] | None:
        return self.store.get(self.keys.error(member))
