"""Failed Basic sign-ins slow down one user name from one address, and nobody else.

Issue #17, finding 7: a wall per address (10 failures, then 429 for everyone) let one address
lock every user out, and behind a proxy without TRUSTED_PROXIES all users share one address.
OWASP's advice instead (Authentication Cheat Sheet, login throttling): count failures per account
AND source, and answer with a growing delay rather than a lock. So, per (user name, address):

- the first ``free`` failures cost nothing (typos);
- from then on each failure sets a wait before the next try is checked: 1 s, 2 s, 4 s, ... up to
  ``max_delay``; a try inside the wait gets 429 with Retry-After, its password never checked (no
  hashing, nothing learnt, and the wait does not grow: a browser's retry cannot make it worse);
- a correct password after the wait signs in and clears the count; failures are forgotten
  ``forget_s`` after the last one.

Other users, and the same user from another address, never wait for these failures. There is no
per-address ceiling on top: one that let a correct password through would not stop a password
spray (the success is the answer), and one that did not would be the lock-out above again.

The counts live where the rate limits do: Redis when configured (one Lua script: every worker and
instance sees one count), else an SQLite file in the data directory (the workers of one host);
if Redis fails, a count per worker until it is back.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import sqlite3
import threading
import time
from typing import Protocol

from fakeai_dash.datadir import private_file

log = logging.getLogger(__name__)
FORGET_MIN_S = 900  # never sooner: waiting out a 60 s cap must not buy a fresh set of free tries


def delay_after(failures: int, free: int, max_delay: float) -> float:
    """Seconds to wait after ``failures`` failures: 0 while free, then 1, 2, 4, ... capped."""
    if failures < free:
        return 0.0
    return float(min(max_delay, 2 ** min(failures - free, 30)))


def throttle_key(name: str, address: str) -> str:
    # Hashed: a typed "name" may be anything up to 64 characters (and is nobody's business in a key).
    return hashlib.sha256(f"{name}\0{address}".encode()).hexdigest()[:40]


class Counts(Protocol):
    def until(self, key: str) -> float: ...
    def fail(self, key: str, now: float) -> float: ...
    def clear(self, key: str) -> None: ...


class MemoryCounts:
    """One worker's counts (Redis down, or tests of the logic)."""

    def __init__(self, free: int, max_delay: float, forget_s: float):
        self.free, self.max_delay, self.forget_s = free, max_delay, forget_s
        self._lock = threading.Lock()
        self._state: dict[str, tuple[int, float, float]] = {}  # key -> (failures, until, last failure)

    def until(self, key: str) -> float:
        with self._lock:
            return self._state.get(key, (0, 0.0, 0.0))[1]

    def fail(self, key: str, now: float) -> float:
        with self._lock:
            if len(self._state) > 10_000:
                self._state = {k: v for k, v in self._state.items() if v[2] > now - self.forget_s}
            failures, _until, last = self._state.get(key, (0, 0.0, 0.0))
            failures = failures + 1 if last > now - self.forget_s else 1
            until = now + delay_after(failures, self.free, self.max_delay)
            self._state[key] = (failures, until, now)
            return until

    def clear(self, key: str) -> None:
        with self._lock:
            self._state.pop(key, None)


class SqliteCounts:
    """The host's counts in ``signin.sqlite3`` in the data directory."""

    def __init__(self, path: str, free: int, max_delay: float, forget_s: float):
        self.free, self.max_delay, self.forget_s = free, max_delay, forget_s
        self._lock = threading.Lock()
        private_file(path)  # before SQLite creates it as the umask says (its -wal/-shm follow its mode)
        self._db = sqlite3.connect(path, timeout=10, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS failures (key TEXT PRIMARY KEY, failures INTEGER NOT NULL, "
                         "until REAL NOT NULL, last REAL NOT NULL)")
        self._db.execute("CREATE INDEX IF NOT EXISTS failures_last ON failures (last)")

    def until(self, key: str) -> float:
        with self._lock:
            row = self._db.execute("SELECT until FROM failures WHERE key = ?", (key,)).fetchone()
        return row[0] if row else 0.0

    def fail(self, key: str, now: float) -> float:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")  # the host's workers count one after another
            try:
                self._db.execute("DELETE FROM failures WHERE last <= ?", (now - self.forget_s,))
                row = self._db.execute("SELECT failures FROM failures WHERE key = ?", (key,)).fetchone()
                failures = (row[0] if row else 0) + 1
                until = now + delay_after(failures, self.free, self.max_delay)
                self._db.execute("INSERT OR REPLACE INTO failures (key, failures, until, last) VALUES (?,?,?,?)",
                                 (key, failures, until, now))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return until

    def clear(self, key: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM failures WHERE key = ?", (key,))


# KEYS[1] the (name, address) hash; ARGV: now, free, max delay, forget s. Returns "until".
FAIL_SCRIPT = """
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local free, cap = tonumber(ARGV[2]), tonumber(ARGV[3])
local delay = 0
if failures >= free then delay = math.min(cap, 2 ^ math.min(failures - free, 30)) end
local wait_until = tostring(tonumber(ARGV[1]) + delay)
redis.call('HSET', KEYS[1], 'until', wait_until)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return wait_until
"""


class RedisCounts:
    def __init__(self, url: str, free: int, max_delay: float, forget_s: float, prefix: str = "fakeai-dash:"):
        import redis

        # Short timeouts, like the picture's (sync/store.py): a dead Redis costs a request little.
        self.redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=0.5, health_check_interval=30)
        self.prefix = f"{prefix}signin:"
        self.args = (free, max_delay, int(forget_s))
        self._fail = self.redis.register_script(FAIL_SCRIPT)

    def until(self, key: str) -> float:
        value = self.redis.hget(self.prefix + key, "until")
        return float(value) if value else 0.0

    def fail(self, key: str, now: float) -> float:
        return float(self._fail(keys=[self.prefix + key], args=[repr(now), *self.args]))

    def clear(self, key: str) -> None:
        self.redis.delete(self.prefix + key)


class SigninThrottle:
    """The wait before a (name, address)'s next sign-in is checked, and the counts behind it."""

    def __init__(self, counts: Counts, fallback: MemoryCounts):
        from fakeai_dash.sync.resilient import Breaker

        self.counts, self.fallback = counts, fallback
        # Every Basic request asks: while Redis is unreachable it is tried once a second, not per
        # request, and the outage is logged by the picture's store, not once per request here.
        self.breaker = Breaker("sign-in throttle", quiet=True)

    def _call(self, method: str, *args):
        fallback = lambda: getattr(self.fallback, method)(*args)  # noqa: E731
        try:
            return self.breaker.call(lambda: getattr(self.counts, method)(*args), fallback)
        except Exception as error:  # noqa: BLE001 - any other storage failure: count in this worker meanwhile
            log.warning("sign-in throttle storage failed (%s); counting in this worker", error)
            return fallback()

    def wait(self, name: str, address: str) -> int:
        """Whole seconds before this name's next try from this address is checked (0: now)."""
        key = throttle_key(name, address)
        until = max(self._call("until", key), self.fallback.until(key))
        return max(0, math.ceil(until - time.time()))

    def failed(self, name: str, address: str) -> int:
        """Count a wrong password; the wait (whole seconds) it sets before the next try."""
        now = time.time()
        return max(0, math.ceil(self._call("fail", throttle_key(name, address), now) - now))

    def succeeded(self, name: str, address: str) -> None:
        key = throttle_key(name, address)
        self._call("clear", key)
        self.fallback.clear(key)


def build_throttle(settings, data_dir: str) -> SigninThrottle:
    from limits import parse_many

    rate = parse_many(settings.rate_limit_signin)[0]  # "10/minute": 10 free failures, kept >= a minute
    free, max_delay = rate.amount, settings.signin_max_delay
    forget_s = max(rate.get_expiry(), FORGET_MIN_S)
    fallback = MemoryCounts(free, max_delay, forget_s)
    if settings.cache_url:
        counts = RedisCounts(settings.cache_url, free, max_delay, forget_s)
    else:
        counts = SqliteCounts(os.path.join(data_dir, "signin.sqlite3"), free, max_delay, forget_s)
    return SigninThrottle(counts, fallback)
