"""ResilientStore: the shared store as a worker sees it when Redis may blink — reads that never fail.

Every read that Redis answers is remembered (the packed bytes, per key, in a per-worker LRU
bounded in BYTES: MEMORY_BYTES, 32 MB by default — a job's full history is a few MB, so the open
jobs and the list fit, and the worker's memory cannot grow with the number of jobs). When Redis
does not answer (a refused or timed-out connection), the worker serves what it remembers, says
since when the store is down (the page's banner), and drops writes: the leader's loop is paused
anyway (RedisLeader stops leading the moment it cannot reach Redis), and what must not be lost —
the audit trail — has its own spool (auth/audit_spool.py).

A Breaker keeps a dead Redis cheap: after a failure, at most one call per RETRY_S tries Redis
again; every other call is answered from memory at once. Its state changes are logged once each
way (one warning when the store goes away, one when it is back), never a traceback per request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from fakeai_dash.sync.store import pack, unpack

log = logging.getLogger(__name__)

MEMORY_BYTES = 32 * 1024**2  # per worker: the bound on what is remembered of the picture
RETRY_S = 1.0                # a down store is tried again at most this often
CLAIM_KEEP = 10_000          # one-shot claims made in this worker while the store is down


def unreachable_errors() -> tuple[type[BaseException], ...]:
    """What "the store does not answer" looks like (not a bad command: that one still raises)."""
    try:
        import redis
    except ImportError:  # installed without the redis extra: only local stores, whose errors are OSErrors
        return (OSError,)
    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class Breaker:
    """Whether the store is reachable, as this worker last saw it; ``call`` runs an operation
    or, while the store is down and the retry time has not come, answers ``fallback()`` at once."""

    def __init__(self, name: str, retry_s: float = RETRY_S, clock: Callable[[], float] = time.monotonic,
                 quiet: bool = False):
        self.name = name
        self.retry_s = retry_s
        self.clock = clock
        self.quiet = quiet  # a second breaker on the same Redis (sessions) leaves the telling to the first
        self.down_since: float | None = None  # wall-clock time of the first failure of this outage
        self._next_try = 0.0
        self._lock = threading.Lock()
        self._errors = unreachable_errors()
        self.on_recover: list[Callable[[], None]] = []

    def _may_try(self) -> bool:
        with self._lock:
            if self.down_since is None:
                return True
            now = self.clock()
            if now < self._next_try:
                return False
            self._next_try = now + self.retry_s  # this caller probes; the others keep short-circuiting
            return True

    def call(self, operation: Callable[[], Any], fallback: Callable[[], Any]) -> Any:
        if not self._may_try():
            return fallback()
        try:
            result = operation()
        except self._errors as error:
            self._failed(error)
            return fallback()
        self._succeeded()
        return result

    def _failed(self, error: BaseException) -> None:
        with self._lock:
            self._next_try = self.clock() + self.retry_s
            if self.down_since is not None:
                return
            self.down_since = time.time()
        if not self.quiet:
            log.warning("The shared store (%s) is unreachable (%s: %s); serving the last picture, "
                        "live updates paused", self.name, type(error).__name__, error)

    def _succeeded(self) -> None:
        with self._lock:
            since, self.down_since = self.down_since, None
        if since is None:
            return
        if not self.quiet:
            log.warning("The shared store (%s) answers again after %.0f s; live updates resume",
                        self.name, time.time() - since)
        for hook in list(self.on_recover):
            try:
                hook()
            except Exception:  # noqa: BLE001 - a hook's failure must not fail the read that noticed
                log.exception("A recovery hook of the shared store failed")


class ByteLRU:
    """key -> bytes, least recently used first out once the total passes ``max_bytes``."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.size = 0
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, key: str, raw: bytes | None) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.size -= len(old)
            if raw is None or len(raw) > self.max_bytes:
                return  # nothing (a deleted entry) or too big to keep: forgotten
            self._items[key] = raw
            self.size += len(raw)
            while self.size > self.max_bytes:
                _, gone = self._items.popitem(last=False)
                self.size -= len(gone)

    def get(self, key: str) -> bytes | None:
        with self._lock:
            raw = self._items.get(key)
            if raw is not None:
                self._items.move_to_end(key)
            return raw


class ResilientStore:
    """A RedisStore (the PictureStore interface) whose reads outlive Redis and whose writes wait
    for it quietly. ``down_since`` says whether, and since when, this worker cannot reach it."""

    def __init__(self, inner, max_bytes: int = MEMORY_BYTES, retry_s: float = RETRY_S):
        self.inner = inner
        self.redis = inner.redis  # the change feed subscribes on it (it has its own retries)
        self.prefix = inner.prefix
        self.breaker = Breaker("Redis", retry_s)
        self.memory = ByteLRU(max_bytes)
        self._claims: OrderedDict[str, float] = OrderedDict()  # key -> expiry, while down

    @property
    def down_since(self) -> float | None:
        return self.breaker.down_since

    def probe(self) -> float | None:
        """``down_since`` after trying the store if it is down and its retry time has come (the
        sync loop asks every tick: nobody else may read while no page is open)."""
        if self.breaker.down_since is not None:
            self.breaker.call(self.redis.ping, lambda: None)
        return self.breaker.down_since

    def channel(self, group: str) -> str:
        return self.inner.channel(group)

    # -- reads: remembered as packed bytes ------------------------------------------------------

    def _read(self, memo_key: str, fetch: Callable[[], bytes | None]) -> bytes | None:
        def fresh():
            raw = fetch()
            self.memory.put(memo_key, raw)
            return raw

        return self.breaker.call(fresh, lambda: self.memory.get(memo_key))

    def get_raw(self, key: str) -> bytes | None:
        return self._read(key, lambda: self.inner.get_raw(key))

    def get(self, key: str) -> Any:
        return unpack(self.get_raw(key))

    def get_many(self, keys: list[str]) -> list[Any]:
        def fetch():
            raws = self.inner.get_many_raw(keys)
            for key, raw in zip(keys, raws):
                self.memory.put(key, raw)
            return raws

        raws = self.breaker.call(fetch, lambda: [self.memory.get(key) for key in keys])
        return [unpack(raw) for raw in raws]

    def _read_value(self, memo_key: str, fetch: Callable[[], Any], empty: Any) -> Any:
        raw = self._read(memo_key, lambda: pack(fetch()))
        return empty if raw is None else unpack(raw)

    def members_since(self, group: str, since: float) -> dict[str, float]:
        # Remembered as last answered (its own ``since``); served filtered by the newer one.
        members = self._read_value("#members:" + group, lambda: self.inner.members_since(group, since), {})
        return {m: t for m, t in members.items() if t >= since}

    def versions(self, group: str) -> dict[str, int]:
        return self._read_value("#versions:" + group, lambda: self.inner.versions(group), {})

    # -- writes: dropped while the store is down -------------------------------------------------

    def _write(self, operation: Callable[[], Any], fallback: Any = None) -> Any:
        return self.breaker.call(operation, lambda: fallback)

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        self._write(lambda: self.inner.set(key, value, ttl))

    def add(self, key: str, value: Any, ttl: float | None = None) -> bool:
        """An atomic claim; while Redis is down, claimed in this worker only (a double submit
        that reaches two workers during an outage is the price of creating jobs at all)."""
        return self.breaker.call(lambda: self.inner.add(key, value, ttl), lambda: self._claim_here(key, ttl))

    def _claim_here(self, key: str, ttl: float | None) -> bool:
        now = time.time()
        if self._claims.get(key, 0) > now:
            return False
        self._claims[key] = now + (ttl or 60)
        while len(self._claims) > CLAIM_KEEP:
            self._claims.popitem(last=False)
        return True

    def delete(self, key: str) -> None:
        self._write(lambda: self.inner.delete(key))

    def touch(self, group: str, member: str, stamp: float) -> None:
        self._write(lambda: self.inner.touch(group, member, stamp))

    def forget(self, group: str, members: list[str]) -> None:
        self._write(lambda: self.inner.forget(group, members))

    def bump(self, group: str, member: str) -> int:
        return self._write(lambda: self.inner.bump(group, member), 0)

    def close(self) -> None:
        self.inner.close()
