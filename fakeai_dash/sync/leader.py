"""Leadership: exactly one process of a deployment runs the sync loop's API work.

With Redis, a lock with expiry (redis-py's Lock): the leader renews it every couple of
seconds, and if the leader dies the lock expires and another worker takes over within
``ttl`` seconds. Without Redis, an OS file lock in the host's data directory: the kernel
releases it the moment the leader's process dies, so a sibling worker takes over at its next try.
"""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger(__name__)


class FileLeader:
    def __init__(self, path: str):
        from filelock import FileLock

        # thread_local=False: the sync thread acquires, and stop() may release from another thread.
        # mode: a lock file made anew (filelock may remove it on release) is private, like the
        # rest of the data directory (fakeai_dash/datadir.py).
        self._lock = FileLock(path, thread_local=False, mode=0o600)
        self.path = path

    def try_lead(self) -> bool:
        from filelock import Timeout

        if self._lock.is_locked:
            return True
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            return False
        log.info("This process (pid %s) leads the sync loop (file lock %s)", os.getpid(), self.path)
        return True

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release(force=True)


class RedisLeader:
    def __init__(self, redis_client, name: str, ttl: float = 5.0):
        self.ttl = ttl
        self._lock = redis_client.lock(name, timeout=ttl, blocking=False, thread_local=False)
        self._mutex = threading.Lock()
        self._leading = False
        self._warned = False

    def try_lead(self) -> bool:
        """Acquire, or renew if already leading; False when another process leads."""
        import redis

        with self._mutex:
            try:
                if self._leading:
                    self._lock.reacquire()  # resets the expiry; fails if the lock was lost
                    return True
                self._leading = bool(self._lock.acquire(blocking=False))
                self._warned = False
                if self._leading:
                    log.info("This process (pid %s) leads the sync loop (Redis lock)", os.getpid())
                return self._leading
            except redis.exceptions.LockError:
                log.warning("Lost the sync loop's Redis lock; another worker will lead")
                self._leading = False
                return False
            except redis.exceptions.RedisError as error:
                if not self._warned:  # once per outage, not once a second; the warning is the store's
                    log.info("Redis unavailable for the sync lock: %s", error)
                    self._warned = True
                self._leading = False
                return False

    def release(self) -> None:
        import redis

        with self._mutex:
            if self._leading:
                try:
                    self._lock.release()
                except redis.exceptions.RedisError:
                    pass
                self._leading = False
