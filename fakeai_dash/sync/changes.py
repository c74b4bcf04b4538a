"""ChangeFeed: what changed, for push updates. The sync loop (on the leader) announces a change of
a member — LIST or a job id — with ``announce``; every worker's feed hears it and wakes the push
streams it serves (fakeai_dash/server/push_stream.py), each of which passes on only its own members.

A member's version is the number of a deployment-wide sequence at its last change (the store's
``bump``), so a version is never reused and a stream that reconnects elsewhere can tell from the
versions it last saw what it missed. How a worker hears a change:
- Redis configured: pub/sub (one subscription per worker, not per browser); on every
  (re)subscription the worker re-reads all versions, so a Redis blip loses nothing.
- one host without Redis: each worker reads the versions entry of the local store (one small
  SQLite read) every POLL_S, and only while it serves at least one stream.
"""

from __future__ import annotations

import logging
import threading

from fakeai_dash.sync.store import SEQ, unpack
from fakeai_dash.sync.picture import PictureKeys

log = logging.getLogger(__name__)

POLL_S = 0.05        # local store: a change reaches the streams within this (+ the round's own time)
REDIS_RETRY_S = (0.5, 1, 2, 5)


def announce(store, keys: PictureKeys, member: str) -> int:
    """Leader side: ``member`` changed (a new version, heard by every worker)."""
    return store.bump(keys.changes(), member)


def entry_changed(before: dict | None, after: dict | None, ignore: tuple[str, ...] = ("at",)) -> bool:
    """Whether a picture entry changed in what a browser shows (its fetch time aside)."""
    def shown(entry):
        return None if entry is None else {k: v for k, v in entry.items() if k not in ignore}

    return shown(before) != shown(after)


class ChangeFeed:
    """One per worker: the newest versions, and a condition the push streams wait on."""

    def __init__(self, store, keys: PictureKeys):
        self.store = store
        self.group = keys.changes()
        self._versions: dict[str, int] = {}  # bound: the store's MAX_VERSIONED (4,000) members
        self._seq = 0
        self._cond = threading.Condition()
        self._streams = 0
        self._wanted = threading.Event()  # set while at least one stream is open
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.closing = False
        # The Redis subscription is lost (the store is down): no change can be heard, so the
        # streams end and their pages poll until it is back (server/push_stream.py's "pause").
        self.paused = False

    # -- stream side ---------------------------------------------------------------------------

    def open_stream(self) -> None:
        with self._start_lock:
            if self._thread is None:
                listen = self._listen_redis if hasattr(self.store, "redis") else self._poll_local
                self._thread = threading.Thread(target=listen, name="push-feed", daemon=True)
                self._thread.start()
        with self._cond:
            self._streams += 1
            self._wanted.set()
        self._refresh()  # a first stream must not compare against versions read long ago

    def close_stream(self) -> None:
        with self._cond:
            self._streams = max(0, self._streams - 1)
            if self._streams == 0:
                self._wanted.clear()

    @property
    def streams(self) -> int:
        return self._streams

    @property
    def seq(self) -> int:
        return self._seq

    def current(self, members) -> dict[str, int]:
        with self._cond:
            return {member: self._versions.get(member, 0) for member in members}

    def wait(self, seen_seq: int, timeout: float) -> int:
        """The sequence once it differs from ``seen_seq``, or after ``timeout`` s, or when closing."""
        with self._cond:
            self._cond.wait_for(lambda: self._seq != seen_seq or self.closing or self.paused, timeout)
            return self._seq

    def close(self) -> None:
        """End every stream (the worker is stopping: browsers reconnect to another one)."""
        self.closing = True
        self._stop.set()
        self._wanted.set()
        with self._cond:
            self._cond.notify_all()

    # -- hearing changes -----------------------------------------------------------------------

    def _apply(self, versions: dict[str, int]) -> None:
        with self._cond:
            changed = False
            for member, version in versions.items():
                if member == SEQ:
                    continue
                if self._versions.get(member) != version:
                    self._versions[member] = version
                    changed = True
            seq = versions.get(SEQ, max(versions.values(), default=0))
            if changed or seq != self._seq:
                self._seq = max(self._seq + 1, seq)
                self._cond.notify_all()

    def _refresh(self) -> None:
        try:
            self._apply(self.store.versions(self.group))
        except Exception:  # noqa: BLE001 - a store hiccup: the next poll or message catches up
            log.debug("Reading change versions failed", exc_info=True)

    def _poll_local(self) -> None:
        last = None
        while not self._stop.is_set():
            if not self._wanted.wait(timeout=1.0):
                continue
            try:
                versions = self.store.versions(self.group)
            except Exception:  # noqa: BLE001
                log.debug("Reading change versions failed", exc_info=True)
                versions = None
            if versions is not None and versions.get(SEQ) != last:
                last = versions.get(SEQ)
                self._apply(versions)
            self._stop.wait(POLL_S)

    def _listen_redis(self) -> None:
        channel = self.store.channel(self.group)
        failures = 0
        while not self._stop.is_set():
            pubsub = None
            try:
                pubsub = self.store.redis.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(channel)
                self._refresh()  # whatever was announced while we were not subscribed
                failures = 0
                self.paused = False
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message and message.get("type") == "message":
                        member, version = unpack(message["data"])
                        self._apply({member: int(version), SEQ: int(version)})
            except Exception as error:  # noqa: BLE001 - Redis away: polling browsers, retry with backoff
                delay = REDIS_RETRY_S[min(failures, len(REDIS_RETRY_S) - 1)]
                if failures == 0:
                    # info: the store's own breaker (sync/resilient.py) gives the outage's warning
                    log.info("Push updates: Redis subscription lost (%s); retrying", error)
                failures += 1
                with self._cond:
                    self.paused = True
                    self._cond.notify_all()
                self._stop.wait(delay)
            finally:
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except Exception:  # noqa: BLE001
                        pass

