"""Refused writes on the audit trail: merged and bounded, so a flood of them evicts nothing.

A refusal costs whoever sends it nothing (issue #17, finding 5: 60 forged cancels in 0.2 s pushed
an operator's real cancel out of the job's history). So refusals are kept apart from the allowed
and failed writes, which are the record of what happened to a job and are never dropped for them:

- repeats merge: the same user, action, target and reason within ``WINDOW_S`` of the entry's
  first attempt is one entry whose ``count`` and ``last_ts`` grow;
- a user opens at most ``PER_USER_PER_MINUTE`` entries a minute; past that, their refusals merge
  into one overflow entry per user (no target: it shows in no job's history);
- the store keeps the newest ``MAX`` entries (Redis: also ``MAX_PER_TARGET`` per job).

Redis: a hash per entry, a sorted set (by last time) of all entries and one per target, and a key
per open entry (expiring with the window), changed by one Lua script (atomic across workers).
SQLite: the table ``refusals`` beside ``audit``; triggers let an entry only count up, and let only
entries past the bound be deleted.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import datetime, timezone
from typing import Any

from fakeai_dash.auth.wording import words
from fakeai_dash.i18n import N_

WINDOW_S = 600
PER_USER_PER_MINUTE = 20
MAX = 10_000
MAX_PER_TARGET = 50
TTL_S = 180 * 24 * 3600
OVERFLOW = N_("More than {limit} different refusals a minute for {user}: the rest are counted in this entry.")


def merge_key(record: dict[str, Any]) -> str:
    """Who, what, on which target, and why (the sentence without its values: "Try again in 41 s"
    and "in 40 s" are one reason)."""
    parts = record.get("message_parts")
    reason = parts[0][0] if parts else record.get("message")
    raw = json.dumps([record["user"], record["action"], record["target"], reason])
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def overflow_key(user: str) -> str:
    return hashlib.sha256(json.dumps([user, "overflow"]).encode()).hexdigest()[:32]


def overflow_record(record: dict[str, Any]) -> dict[str, Any]:
    message = words(OVERFLOW, limit=PER_USER_PER_MINUTE, user=record["user"])
    return {**record, "target": None, "message": str(message), "message_parts": message.parts,
            "detail": {"overflow": True}}


def merged(record: dict[str, Any], count: int, last_ts: float) -> dict[str, Any]:
    """The entry as read: the first attempt's record, how many, and when the last one came."""
    last_ts = round(float(last_ts), 6)
    return {**record, "count": int(count), "last_ts": last_ts,
            "last_time": datetime.fromtimestamp(last_ts, tz=timezone.utc).isoformat(timespec="seconds")}


def newest_first(*lists: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """Records of both kinds merged by when they last happened, newest first."""
    return sorted((r for records in lists for r in records), key=lambda r: r.get("last_ts", r.get("ts", 0)),
                  reverse=True)[:int(limit)]


class SqliteRefusals:
    """The ``refusals`` table of the host's audit file (its caller holds the connection's lock)."""

    SCHEMA = f"""
    CREATE TABLE IF NOT EXISTS refusals (
        id INTEGER PRIMARY KEY AUTOINCREMENT, merge_key TEXT NOT NULL, user TEXT NOT NULL, target TEXT,
        first_ts REAL NOT NULL, last_ts REAL NOT NULL, count INTEGER NOT NULL, record TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS refusals_key ON refusals (merge_key, id);
    CREATE INDEX IF NOT EXISTS refusals_target ON refusals (target, last_ts);
    CREATE INDEX IF NOT EXISTS refusals_user ON refusals (user, first_ts);
    CREATE INDEX IF NOT EXISTS refusals_last ON refusals (last_ts);
    CREATE TRIGGER IF NOT EXISTS refusals_only_count_up BEFORE UPDATE ON refusals
        WHEN NEW.id IS NOT OLD.id OR NEW.merge_key IS NOT OLD.merge_key OR NEW.user IS NOT OLD.user
          OR NEW.target IS NOT OLD.target OR NEW.first_ts IS NOT OLD.first_ts OR NEW.record IS NOT OLD.record
          OR NEW.count < OLD.count OR NEW.last_ts < OLD.last_ts
        BEGIN SELECT RAISE(ABORT, 'a refusal entry only counts up'); END;
    CREATE TRIGGER IF NOT EXISTS refusals_only_past_the_bound BEFORE DELETE ON refusals
        WHEN OLD.id > (SELECT max(id) FROM refusals) - {MAX}
        BEGIN SELECT RAISE(ABORT, 'only refusals past the bound are dropped'); END;
    """

    def __init__(self, db: sqlite3.Connection):
        self.db = db
        db.executescript(self.SCHEMA)

    def _bump(self, key: str, now: float) -> dict[str, Any] | None:
        row = self.db.execute("SELECT id, count, record FROM refusals WHERE merge_key = ? AND first_ts > ? "
                              "ORDER BY id DESC LIMIT 1", (key, now - WINDOW_S)).fetchone()
        if row is None:
            return None
        self.db.execute("UPDATE refusals SET count = count + 1, last_ts = max(last_ts, ?) WHERE id = ?", (now, row[0]))
        return merged(json.loads(row[2]), row[1] + 1, now)

    def _open(self, record: dict[str, Any], key: str, now: float) -> dict[str, Any]:
        self.db.execute("INSERT INTO refusals (merge_key, user, target, first_ts, last_ts, count, record) "
                        "VALUES (?,?,?,?,?,1,?)", (key, record["user"], record["target"], now, now,
                                                   json.dumps(record, sort_keys=True)))
        self.db.execute(f"DELETE FROM refusals WHERE id <= (SELECT max(id) FROM refusals) - {MAX}")
        return merged(record, 1, now)

    def add(self, record: dict[str, Any]) -> dict[str, Any]:
        now = record["ts"]
        # IMMEDIATE: the host's other workers wait, so two never open the same entry twice.
        self.db.execute("BEGIN IMMEDIATE")
        try:
            found = self._bump(merge_key(record), now)
            if found is None:
                opened = self.db.execute("SELECT count(*) FROM refusals WHERE user = ? AND first_ts > ?",
                                         (record["user"], now - 60)).fetchone()[0]
                if opened < PER_USER_PER_MINUTE:
                    found = self._open(record, merge_key(record), now)
                else:
                    key = overflow_key(record["user"])
                    found = self._bump(key, now) or self._open(overflow_record(record), key, now)
            self.db.execute("COMMIT")
            return found
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def _read(self, where: str, args: tuple, limit: int) -> list[dict[str, Any]]:
        rows = self.db.execute(f"SELECT record, count, last_ts FROM refusals {where} ORDER BY last_ts DESC LIMIT ?",
                               (*args, int(limit))).fetchall()
        return [merged(json.loads(record), count, last_ts) for record, count, last_ts in rows]

    def history(self, target: str, limit: int) -> list[dict[str, Any]]:
        return self._read("WHERE target = ?", (target,), limit)

    def recent(self, limit: int) -> list[dict[str, Any]]:
        return self._read("", (), limit)


# KEYS: 1 the entry's open key, 2 the user's overflow open key, 3 the user's entries this minute,
# 4 the id sequence, 5 all entries (sorted set), 6 the target's entries (sorted set).
# ARGV: 1 record, 2 overflow record, 3 now, 4 window s, 5 per-user limit, 6 max, 7 max per target,
# 8 ttl s, 9 entry key prefix, 10 "1" when the record has a target.
MERGE_SCRIPT = """
local now, ttl = ARGV[3], tonumber(ARGV[8])
local function bump(open_key, in_target)
  local id = redis.call('GET', open_key)
  if not id then return false end
  local entry = ARGV[9] .. id
  if redis.call('EXISTS', entry) == 0 then return false end
  local count = redis.call('HINCRBY', entry, 'count', 1)
  redis.call('HSET', entry, 'last_ts', now)
  redis.call('ZADD', KEYS[5], now, id)
  if in_target then redis.call('ZADD', KEYS[6], now, id) end
  return {redis.call('HGET', entry, 'record'), tostring(count), now}
end
local function open(open_key, record, in_target)
  local id = tostring(redis.call('INCR', KEYS[4]))
  local entry = ARGV[9] .. id
  redis.call('HSET', entry, 'record', record, 'count', '1', 'last_ts', now)
  redis.call('EXPIRE', entry, ttl)
  redis.call('SET', open_key, id, 'EX', tonumber(ARGV[4]))
  redis.call('ZADD', KEYS[5], now, id)
  local extra = redis.call('ZCARD', KEYS[5]) - tonumber(ARGV[6])
  if extra > 0 then
    for _, gone in ipairs(redis.call('ZRANGE', KEYS[5], 0, extra - 1)) do redis.call('DEL', ARGV[9] .. gone) end
    redis.call('ZREMRANGEBYRANK', KEYS[5], 0, extra - 1)
  end
  redis.call('EXPIRE', KEYS[5], ttl)
  if in_target then
    redis.call('ZADD', KEYS[6], now, id)
    redis.call('ZREMRANGEBYRANK', KEYS[6], 0, -(tonumber(ARGV[7]) + 1))
    redis.call('EXPIRE', KEYS[6], ttl)
  end
  return {record, '1', now}
end
local in_target = ARGV[10] == '1'
local found = bump(KEYS[1], in_target)
if found then return found end
local opened = redis.call('INCR', KEYS[3])
if opened == 1 then redis.call('EXPIRE', KEYS[3], 60) end
if opened <= tonumber(ARGV[5]) then return open(KEYS[1], ARGV[1], in_target) end
found = bump(KEYS[2], false)
if found then return found end
return open(KEYS[2], ARGV[2], false)
"""


class RedisRefusals:
    """Merged refusals in Redis (keys under ``<prefix>audit:refused``); one script call per refusal."""

    def __init__(self, client, prefix: str):
        self.redis = client
        self.prefix = f"{prefix}audit:refused"
        self.all = self.prefix
        self.entry_prefix = f"{self.prefix}:entry:"
        self._merge = client.register_script(MERGE_SCRIPT)

    def _target_key(self, target: str | None) -> str:
        return f"{self.prefix}:target:{target or '-'}"

    def add(self, record: dict[str, Any]) -> dict[str, Any]:
        user_hash = overflow_key(record["user"])
        keys = [f"{self.prefix}:open:{merge_key(record)}", f"{self.prefix}:open:{user_hash}",
                f"{self.prefix}:opened:{user_hash}", f"{self.prefix}:seq", self.all, self._target_key(record["target"])]
        args = [json.dumps(record, sort_keys=True), json.dumps(overflow_record(record), sort_keys=True),
                repr(record["ts"]), WINDOW_S, PER_USER_PER_MINUTE, MAX, MAX_PER_TARGET, TTL_S, self.entry_prefix,
                "1" if record["target"] else ""]
        raw, count, last_ts = self._merge(keys=keys, args=args)
        return merged(json.loads(raw), int(count), float(last_ts))

    def _read(self, index: str, limit: int) -> list[dict[str, Any]]:
        ids = self.redis.zrevrange(index, 0, int(limit) - 1)
        pipe = self.redis.pipeline(transaction=False)
        for entry_id in ids:
            pipe.hmget(self.entry_prefix + entry_id.decode(), "record", "count", "last_ts")
        entries = pipe.execute() if ids else []
        # An entry dropped past the bound may still be named in a target's set for a moment: skipped.
        return [merged(json.loads(raw), int(count), float(last)) for raw, count, last in entries if raw]

    def history(self, target: str, limit: int) -> list[dict[str, Any]]:
        return self._read(self._target_key(target), limit)

    def recent(self, limit: int) -> list[dict[str, Any]]:
        return self._read(self.all, limit)
