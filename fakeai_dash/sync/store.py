"""PictureStore: where the sync loop keeps its picture, shared by every worker of a deployment.

Two backends with one small interface: Redis when configured (every worker and instance),
otherwise a diskcache directory on the host (every worker of one host; SQLite does the
locking). Values are msgpack: plain data, never pickles, so whoever can write to the store
cannot run code in the workers (the diskcache file is read through BytesDisk, which refuses
the pickles diskcache itself would load).
"""

from __future__ import annotations

import os
import time
from typing import Any, Protocol

import msgpack


SEQ = "#seq"  # in a versions group: the newest version of any member
MAX_VERSIONED = 4000


def pack(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=True)


def unpack(raw: bytes | None) -> Any:
    return None if raw is None else msgpack.unpackb(raw, raw=False, strict_map_key=False)


class PictureStore(Protocol):
    def get(self, key: str) -> Any: ...
    def get_raw(self, key: str) -> bytes | None: ...
    def get_many(self, keys: list[str]) -> list[Any]: ...
    def set(self, key: str, value: Any, ttl: float | None = None) -> None: ...
    def add(self, key: str, value: Any, ttl: float | None = None) -> bool: ...
    def delete(self, key: str) -> None: ...
    def touch(self, group: str, member: str, stamp: float) -> None: ...
    def members_since(self, group: str, since: float) -> dict[str, float]: ...
    def forget(self, group: str, members: list[str]) -> None: ...
    def bump(self, group: str, member: str) -> int: ...
    def versions(self, group: str) -> dict[str, int]: ...
    def close(self) -> None: ...


class LocalStore:
    """A diskcache directory: shared by the processes of one host, safe across processes."""

    def __init__(self, directory: str, size_limit: int = 2 * 1024**3):
        import diskcache

        from fakeai_dash.datadir import private_dir, private_file
        from fakeai_dash.sync.bytes_disk import BytesDisk

        # Made private before diskcache (0755) and SQLite (umask) make them; SQLite gives the
        # -wal and -shm files the database's mode.
        private_file(os.path.join(private_dir(directory), diskcache.core.DBNAME))
        # Least-recently-stored eviction past the size bound: a finished job's history can be
        # fetched again, so nothing is lost but time. BytesDisk: bytes only, never a pickle.
        self.cache = diskcache.Cache(directory, size_limit=size_limit, eviction_policy="least-recently-stored",
                                     disk=BytesDisk)

    def get(self, key: str) -> Any:
        return unpack(self.cache.get(key))

    def get_raw(self, key: str) -> bytes | None:
        """The packed value: readers that share decoded results key them by its digest."""
        return self.cache.get(key)

    def get_many(self, keys: list[str]) -> list[Any]:
        return [self.get(key) for key in keys]

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        self.cache.set(key, pack(value), expire=ttl)

    def add(self, key: str, value: Any, ttl: float | None = None) -> bool:
        return bool(self.cache.add(key, pack(value), expire=ttl))

    def delete(self, key: str) -> None:
        self.cache.delete(key)

    def touch(self, group: str, member: str, stamp: float) -> None:
        with self.cache.transact():  # one SQLite transaction: workers never lose each other's touches
            members = unpack(self.cache.get(group)) or {}
            members[member] = max(stamp, members.get(member, 0))
            if len(members) > 1000:  # bounded: members not touched for an hour fall away
                members = {m: t for m, t in members.items() if t >= stamp - 3600}
            self.cache.set(group, pack(members))

    def members_since(self, group: str, since: float) -> dict[str, float]:
        members = unpack(self.cache.get(group)) or {}
        return {m: t for m, t in members.items() if t >= since}

    def forget(self, group: str, members: list[str]) -> None:
        with self.cache.transact():
            kept = unpack(self.cache.get(group)) or {}
            for member in members:
                kept.pop(member, None)
            self.cache.set(group, pack(kept))

    # Change versions (push updates, fakeai_dash/sync/changes.py): one global sequence, each member
    # holding the sequence number of its last change, so a number is never reused for a member.
    def bump(self, group: str, member: str) -> int:
        with self.cache.transact():
            versions = unpack(self.cache.get(group)) or {}
            seq = versions.get(SEQ, 0) + 1
            versions[SEQ] = seq
            versions[member] = seq
            if len(versions) > MAX_VERSIONED:  # bounded: the members changed longest ago fall away
                versions = dict(sorted(versions.items(), key=lambda item: item[1])[-MAX_VERSIONED // 2:])
                versions[SEQ] = seq
            self.cache.set(group, pack(versions))
        return seq

    def versions(self, group: str) -> dict[str, int]:
        """{member: version} plus SEQ, the newest version of all (one small read)."""
        return unpack(self.cache.get(group)) or {}

    def close(self) -> None:
        self.cache.close()


class RedisStore:
    """Redis: shared by every worker and instance; keys prefixed so deployments can share a server."""

    def __init__(self, url: str, prefix: str = "fakeai-dash:"):
        import redis

        # Short timeouts: a dead or unreachable Redis costs a request a fraction of a second, after
        # which the workers serve their last picture (sync/resilient.py) and try again each second.
        self.redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=0.5,
                                          health_check_interval=30)
        self.prefix = prefix

    def _k(self, key: str) -> str:
        return self.prefix + key

    def get(self, key: str) -> Any:
        return unpack(self.redis.get(self._k(key)))

    def get_raw(self, key: str) -> bytes | None:
        return self.redis.get(self._k(key))

    def get_many(self, keys: list[str]) -> list[Any]:
        return [unpack(raw) for raw in self.get_many_raw(keys)]

    def get_many_raw(self, keys: list[str]) -> list[bytes | None]:
        return self.redis.mget([self._k(k) for k in keys]) if keys else []

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        self.redis.set(self._k(key), pack(value), px=int(ttl * 1000) if ttl else None)

    def add(self, key: str, value: Any, ttl: float | None = None) -> bool:
        return bool(self.redis.set(self._k(key), pack(value), nx=True, px=int(ttl * 1000) if ttl else None))

    def delete(self, key: str) -> None:
        self.redis.delete(self._k(key))

    def touch(self, group: str, member: str, stamp: float) -> None:
        self.redis.zadd(self._k(group), {member: stamp}, gt=True)

    def members_since(self, group: str, since: float) -> dict[str, float]:
        key = self._k(group)
        if since > 0:
            self.redis.zremrangebyscore(key, "-inf", since - 3600)  # bounded: old members fall away
        return {(m.decode() if isinstance(m, bytes) else m): t
                for m, t in self.redis.zrangebyscore(key, since, "+inf", withscores=True)}

    def forget(self, group: str, members: list[str]) -> None:
        if members:
            self.redis.zrem(self._k(group), *members)

    def bump(self, group: str, member: str) -> int:
        """A new version of ``member``, announced on the group's pub/sub channel (every worker and
        instance subscribes once: fakeai_dash/sync/changes.py)."""
        key = self._k(group)
        seq = int(self.redis.hincrby(key, SEQ, 1))
        pipe = self.redis.pipeline(transaction=False)
        pipe.hset(key, member, seq)
        pipe.publish(self.channel(group), pack([member, seq]))
        pipe.execute()
        if seq % 1000 == 0 and self.redis.hlen(key) > MAX_VERSIONED:
            # bounded: start over from this version (a member that lost its entry reads as changed)
            self.redis.delete(key)
            self.redis.hset(key, mapping={SEQ: seq, member: seq})
        return seq

    def versions(self, group: str) -> dict[str, int]:
        return {(m.decode() if isinstance(m, bytes) else m): int(v)
                for m, v in self.redis.hgetall(self._k(group)).items()}

    def channel(self, group: str) -> str:
        return self._k(group) + "#channel"

    def close(self) -> None:
        self.redis.close()


def wait_for(read, deadline_s: float, poll_s: float = 0.05):
    """``read()``'s first non-None answer within ``deadline_s`` seconds, else None.

    Used by readers waiting on the picture (never on the API) for the leader's first fetch.
    """
    end = time.monotonic() + deadline_s
    while True:
        value = read()
        if value is not None or time.monotonic() >= end:
            return value
        time.sleep(poll_s)
