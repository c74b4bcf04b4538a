"""Server-side sign-in sessions: the cookie holds a random id, the record lives in the shared store.

A signed cookie alone cannot be taken back: signing out only deletes the browser's copy, and a
saved copy keeps working until it expires; and what it holds (role, e-mail) is readable by anyone
who base64-decodes it. Here the cookie carries only ``secrets.token_urlsafe(32)``; the record
(sub, verified e-mail, groups, expiry) is kept under the SHA-256 of that id — so whoever reads
the store still holds no cookie — with the session's lifetime as its TTL:

- Redis (FAKEAI_DASH_CACHE_URL): ``fakeai-dash:session:<sha256 hex>``, shared by every worker and
  instance;
- else a diskcache directory ``sessions`` in FAKEAI_DASH_DATA_DIR, shared by one host's workers
  (apart from the picture, whose size-bound eviction must not sign people out).

Sign-out deletes the record: the saved cookie then signs nobody in, on whichever worker.

When the store does not answer (Redis blinks), a session this worker verified in the last
RECENT_S seconds is still accepted from its memory (at most RECENT_KEEP of them), so a signed-in
user is not thrown out mid-work; any other request is treated as signed out, never a server error.
The price: a session revoked on another worker during those minutes may live on here until the
memory expires (sign-out on this worker forgets it at once).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import threading
import time
from collections import OrderedDict
from typing import Any

from fakeai_dash.sync.store import LocalStore, PictureStore, RedisStore

log = logging.getLogger(__name__)

SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}")  # what token_urlsafe(32) makes
RECENT_S = 300.0     # how long a verified session is trusted from memory while the store is down
RECENT_KEEP = 10_000  # sessions remembered per worker (a few hundred bytes each)


def _key(session_id: str) -> str:
    return "session:" + hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore:
    """Sessions in a PictureStore (msgpack values, a TTL per record)."""

    def __init__(self, store: PictureStore, lifetime_s: float):
        from fakeai_dash.sync.resilient import Breaker

        self.store = store
        self.lifetime_s = lifetime_s
        self._recent: OrderedDict[str, tuple[dict[str, Any], float]] = OrderedDict()
        self._recent_lock = threading.Lock()
        # A dead store is tried at most once a second, not once per request; the picture's
        # breaker (sync/resilient.py) logs the outage.
        self.breaker = Breaker("sessions", quiet=True)

    def create(self, record: dict[str, Any]) -> str:
        """A new session holding ``record`` (plain data); its id, for the cookie."""
        session_id = secrets.token_urlsafe(32)
        now = time.time()
        self.store.set(_key(session_id), {**record, "iat": now, "exp": now + self.lifetime_s}, ttl=self.lifetime_s)
        return session_id

    def get(self, session_id: object) -> dict[str, Any] | None:
        """The record of a live session; None for an unknown, ended or expired one, or a store
        that does not answer (nobody is signed in on a guess)."""
        if not isinstance(session_id, str) or not SESSION_ID.fullmatch(session_id):
            return None
        key = _key(session_id)
        try:
            record = self.breaker.call(lambda: self._verify(key), lambda: self._remembered(key))
        except Exception as error:  # noqa: BLE001 - a store error: refuse, never a server error
            log.error("session store unavailable (%s): treating the request as signed out", error)
            return None
        return record if _live(record) else None

    def _verify(self, key: str) -> dict[str, Any] | None:
        record = self.store.get(key)
        with self._recent_lock:
            if _live(record):
                self._recent[key] = (record, time.monotonic())
                self._recent.move_to_end(key)
                while len(self._recent) > RECENT_KEEP:
                    self._recent.popitem(last=False)
            else:
                self._recent.pop(key, None)
        return record

    def _remembered(self, key: str) -> dict[str, Any] | None:
        """The store is down: a session verified here within RECENT_S still counts."""
        with self._recent_lock:
            record, verified = self._recent.get(key, (None, 0.0))
        return record if record is not None and time.monotonic() - verified <= RECENT_S else None

    def revoke(self, session_id: object) -> bool:
        """End a session; False (and an error logged) when the store did not answer."""
        if not isinstance(session_id, str) or not SESSION_ID.fullmatch(session_id):
            return True
        with self._recent_lock:
            self._recent.pop(_key(session_id), None)
        try:
            self.store.delete(_key(session_id))
        except Exception as error:  # noqa: BLE001
            log.error("session store unavailable (%s): a session could not be ended", error)
            return False
        return True


def _live(record: Any) -> bool:
    return isinstance(record, dict) and isinstance(record.get("exp"), (int, float)) and record["exp"] >= time.time()


def build_sessions(settings: Any, directory: str) -> SessionStore:
    """Redis when FAKEAI_DASH_CACHE_URL is set, else ``<data dir>/sessions`` (every worker of the host)."""
    if settings.cache_url:
        store: PictureStore = RedisStore(settings.cache_url)
    else:
        store = LocalStore(os.path.join(directory, "sessions"), size_limit=256 * 1024**2)
    return SessionStore(store, settings.session_hours * 3600)
