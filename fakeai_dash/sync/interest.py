"""Admission: which job ids a reader may make the sync loop poll, so no reader floods the API.

The sync loop polls every member someone watches, every round; a member is a job id a browser
names. Without a gate, any signed-in reader could name thousands of made-up ids and spend the
organisation's API rate limit (issue #17, finding 4). So, before a job id is watched:

- an id the API answered 404 for is remembered (MISSING_TTL_S, in the shared picture, so every
  worker knows) and answered "No such job" without being watched;
- a reader's first look at a job (not each tick of its page) passes, in this order:
  - the per-user cap on ids outside the jobs list (unknown: each costs a lookup, and made-up ids
    are all unknown) per UNKNOWN_WINDOW_S;
  - the cap on members watched in total (each costs a round per refresh interval);
  - the "watch" rate limit (FAKEAI_DASH_RATE_LIMIT_WATCH), spent last so that a refusal by a
    cap costs nothing.

The checks read, then write: two workers admitting at the same instant may pass a cap by one
each, a bounded overshoot. Readers without a request (tests, the app's own code) are trusted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from fakeai_dash.api.client import ApiError
from fakeai_dash.i18n import _
from fakeai_dash.sync.picture import PictureKeys

MISSING_TTL_S = 600.0  # a 404 is remembered this long (a deleted job is gone for good)
UNKNOWN_WINDOW_S = MISSING_TTL_S  # unknown ids a user may name: UNKNOWN_PER_USER per this long
UNKNOWN = "?"  # prefix, in a user's group, of the members that were unknown when admitted
LOCAL_SEEN_S = 5.0  # a worker trusts its own admission this long before reading the store again

Spend = Callable[[], Any]  # spends one "watch" of the rate limit; the refusal (str) or None
Viewer = tuple[str, Spend]  # (the user's rate-limit key, spend)


class NoSuchJob(ApiError):
    """The API answered 404 for this id, recently: nothing is watched or requested."""

    def __init__(self, job_id: str):
        super().__init__(_("No such job: the API knows no job {job_id}.").format(job_id=job_id), 404)

    def __str__(self) -> str:  # the sentence alone: it is the dashboard's, not an HTTP answer
        return self.message


class WatchRefused(ApiError):
    """Over a cap or the rate limit: the job is not watched (nothing reaches the API)."""

    def __init__(self, message: str):
        super().__init__(message, 429)

    def __str__(self) -> str:
        return self.message


def is_missing(entry: dict[str, Any] | None, now: float) -> bool:
    """A job entry recording a 404 younger than MISSING_TTL_S."""
    error = (entry or {}).get("error") or {}
    return error.get("status") == 404 and now - float(entry.get("at") or 0) < MISSING_TTL_S


class Admission:
    def __init__(self, store, keys: PictureKeys, interest_ttl: float, unknown_per_user: int = 20,
                 max_watched: int = 200):
        self.store = store
        self.keys = keys
        self.interest_ttl = interest_ttl
        self.unknown_per_user = unknown_per_user
        self.max_watched = max_watched
        self._seen: dict[tuple[str, str], float] = {}  # (user, member) -> when this worker saw it admitted
        self._list_ids: tuple[str | None, frozenset[str]] = (None, frozenset())
        self._lock = threading.Lock()

    def admit(self, member: str, viewer: Viewer, entry: dict[str, Any] | None) -> None:
        """Let ``viewer`` watch job ``member`` (whose picture entry is ``entry``), or raise WatchRefused."""
        who, spend = viewer
        now = time.time()
        if now - self._seen.get((who, member), 0.0) < LOCAL_SEEN_S:
            return  # this worker admitted it a moment ago: a tick of an open page
        group = self.keys.viewing(who)
        mine = self.store.members_since(group, now - UNKNOWN_WINDOW_S)
        watching = max(mine.get(member, 0.0), mine.get(UNKNOWN + member, 0.0))
        if now - watching > self.interest_ttl:  # a new member for this user
            known = bool(entry and not entry.get("error")) or member in self.list_ids()
            if not known and sum(name.startswith(UNKNOWN) for name in mine) >= self.unknown_per_user:
                raise WatchRefused(_("Not followed: you opened {limit} jobs that are not in the jobs list within "
                                     "{minutes} minutes, the most allowed. Try again later.").format(
                    limit=self.unknown_per_user, minutes=int(UNKNOWN_WINDOW_S // 60)))
            watched = self.store.members_since(self.keys.watch(), now - self.interest_ttl)
            if member not in watched and len(watched) >= self.max_watched:
                raise WatchRefused(_("Not followed: the dashboard already follows {limit} jobs, the most it may. "
                                     "Try again in a minute.").format(limit=self.max_watched))
            refusal = spend()
            if refusal:
                raise WatchRefused(refusal)
            watching_as = member if known else UNKNOWN + member
        else:
            watching_as = member if member in mine else UNKNOWN + member
        self.store.touch(group, watching_as, now)
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen.clear()
            self._seen[(who, member)] = now

    def list_ids(self) -> frozenset[str]:
        """The ids in the jobs list's picture (decoded once per list version per worker)."""
        signature = (self.store.get(self.keys.jobs_signature()) or {}).get("signature")
        cached_signature, ids = self._list_ids
        if signature != cached_signature:
            rows = (self.store.get(self.keys.jobs()) or {}).get("rows") or []
            ids = frozenset(row.get("id") for row in rows)
            self._list_ids = (signature, ids)
        return ids
