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
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import time
from typing import Any

from fakeai_dash.sync.store import LocalStore, PictureStore, RedisStore

log = logging.getLogger(__name__)

SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}")  # what token_urlsafe(32) makes


def _key(session_id: str) -> str:
    return "session:" + hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore:
    """Sessions in a PictureStore (msgpack values, a TTL per record)."""

    def __init__(self, store: PictureStore, lifetime_s: float):
        self.store = store
        self.lifetime_s = lifetime_s

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
        try:
            record = self.store.get(_key(session_id))
        except Exception as error:  # noqa: BLE001 - Redis down: refuse, never a server error
            log.error("session store unavailable (%s): treating the request as signed out", error)
            return None
        if not isinstance(record, dict) or not isinstance(record.get("exp"), (int, float)) \
                or record["exp"] < time.time():
            return None
        return record

    def revoke(self, session_id: object) -> bool:
        """End a session; False (and an error logged) when the store did not answer."""
        if not isinstance(session_id, str) or not SESSION_ID.fullmatch(session_id):
            return True
        try:
            self.store.delete(_key(session_id))
        except Exception as error:  # noqa: BLE001
            log.error("session store unavailable (%s): a session could not be ended", error)
            return False
        return True


def build_sessions(settings: Any, directory: str) -> SessionStore:
    """Redis when FAKEAI_DASH_CACHE_URL is set, else ``<data dir>/sessions`` (every worker of the host)."""
    if settings.cache_url:
        store: PictureStore = RedisStore(settings.cache_url)
    else:
        store = LocalStore(os.path.join(directory, "sessions"), size_limit=256 * 1024**2)
    return SessionStore(store, settings.session_hours * 3600)
