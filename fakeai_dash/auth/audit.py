"""The audit trail: every write attempt, allowed, refused or failed, recorded durably.

Each attempt goes to the ``fakeai_dash.audit`` logger as one JSON line (a log drain keeps it),
and to a store the job details read a job's history from:

- Redis, when configured: the stream ``fakeai-dash:audit`` (XADD, bounded with MAXLEN) and a short
  stream per job or file, so every worker and instance sees the same history;
- otherwise an SQLite file in the data directory (``audit.sqlite3``), shared by the workers of
  one host, indexed by job, append-only (triggers refuse UPDATE and DELETE).

Those hold the allowed and failed writes. Refusals, which anyone signed in can send by the
thousand, are merged and bounded on their own (auth/refusals.py) and never evict them; a history
reads both, merged by time. A refusal's log line is the merged entry as it stands after this
attempt (``count`` says how many so far): the log still has a line per attempt, the store does not
grow per repeat.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import sys
import threading
import time
from datetime import datetime, timezone
from typing import Any, Protocol

from fakeai_dash.auth.refusals import RedisRefusals, SqliteRefusals, merged, newest_first

AUDIT_LOGGER = "fakeai_dash.audit"
STREAM_MAXLEN = 100_000  # the whole trail in Redis (approximate trim); logs keep everything
TARGET_MAXLEN = 200  # the newest attempts per job kept for its history
TARGET_TTL_S = 180 * 24 * 3600
OUTCOMES = ("allowed", "refused", "failed")
MESSAGE_MAX = 500
AUDIT_FILE = "audit.sqlite3"  # in the host's data directory, without Redis

log = logging.getLogger(__name__)


class _StderrLines(logging.StreamHandler):
    """A handler that writes to whatever sys.stderr is at the time (never a stream since closed)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def _audit_logger() -> logging.Logger:
    """JSON lines on stderr, whatever the app's own log format (gunicorn's prefixes every line)."""
    logger = logging.getLogger(AUDIT_LOGGER)
    if not any(isinstance(h, _StderrLines) for h in logger.handlers):
        handler = _StderrLines()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def make_record(*, user: str, role: str, mode: str, action: str, target: str | None, outcome: str,
                message: str | None = None, detail: dict | None = None, addr: str | None = None,
                ts: float | None = None, message_parts: list | None = None) -> dict[str, Any]:
    ts = time.time() if ts is None else ts
    record = {
        "event": "audit",
        "ts": round(ts, 6),  # to the microsecond: a write and a refusal in one millisecond keep their order
        "time": datetime.fromtimestamp(ts, tz=timezone.utc).isoformat(timespec="seconds"),
        "user": user, "role": role, "auth": mode, "addr": addr,
        "action": action, "target": target, "outcome": outcome,
        "message": (message or None) and str(message)[:MESSAGE_MAX],
        "detail": detail or {},
    }
    if message_parts:  # the message as [msgid, args] (auth/wording.py): pages show it translated
        record["message_parts"] = message_parts
    return record


class AuditBackend(Protocol):
    def append(self, record: dict[str, Any]) -> None: ...
    def refuse(self, record: dict[str, Any]) -> dict[str, Any]: ...
    def history(self, target: str, limit: int) -> list[dict[str, Any]]: ...
    def recent(self, limit: int) -> list[dict[str, Any]]: ...
    def close(self) -> None: ...


class SqliteAudit:
    """An append-only SQLite table in the data directory (and the bounded refusals beside it);
    one connection per process."""

    SCHEMA = """
    CREATE TABLE IF NOT EXISTS audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, user TEXT NOT NULL,
        action TEXT NOT NULL, target TEXT, outcome TEXT NOT NULL, record TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS audit_target ON audit (target, id);
    CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    """

    def __init__(self, path: str):
        self.path = path
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=10, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a recorded attempt survives a power cut
        with self._lock:
            self._db.executescript(self.SCHEMA)
            self.refusals = SqliteRefusals(self._db)

    def append(self, record: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute("INSERT INTO audit (ts, user, action, target, outcome, record) VALUES (?,?,?,?,?,?)",
                             (record["ts"], record["user"], record["action"], record["target"],
                              record["outcome"], json.dumps(record, sort_keys=True)))

    def refuse(self, record: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return self.refusals.add(record)

    def history(self, target: str, limit: int = 20) -> list[dict[str, Any]]:
        # Refusals an older version wrote into ``audit`` are read from there, as before.
        with self._lock:
            rows = self._db.execute("SELECT record FROM audit WHERE target = ? ORDER BY id DESC LIMIT ?",
                                    (target, int(limit))).fetchall()
            refused = self.refusals.history(target, limit)
        return newest_first([json.loads(row[0]) for row in rows], refused, limit=limit)

    def recent(self, limit: int = 100) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT record FROM audit ORDER BY id DESC LIMIT ?", (int(limit),)).fetchall()
            refused = self.refusals.recent(limit)
        return newest_first([json.loads(row[0]) for row in rows], refused, limit=limit)

    def close(self) -> None:
        with self._lock:
            self._db.close()


class RedisAudit:
    """A Redis stream of every allowed or failed write plus a short stream per target (job or file
    id); refusals merged beside them."""

    def __init__(self, url: str, prefix: str = "fakeai-dash:"):
        import redis

        # Short timeouts, like the picture's: an unreachable Redis sends a record to the spool
        # (auth/audit_spool.py) within a fraction of a second.
        self.redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=0.5,
                                          health_check_interval=30)
        self.stream = f"{prefix}audit"
        self.target_prefix = f"{prefix}audit:target:"
        self.refusals = RedisRefusals(self.redis, prefix)

    def append(self, record: dict[str, Any]) -> None:
        fields = {"record": json.dumps(record, sort_keys=True)}
        pipe = self.redis.pipeline(transaction=False)
        pipe.xadd(self.stream, fields, maxlen=STREAM_MAXLEN, approximate=True)
        if record.get("target"):
            key = self.target_prefix + record["target"]
            pipe.xadd(key, fields, maxlen=TARGET_MAXLEN, approximate=False)
            pipe.expire(key, TARGET_TTL_S)
        pipe.execute()

    @staticmethod
    def _records(entries) -> list[dict[str, Any]]:
        return [json.loads(fields[b"record"]) for _id, fields in entries]

    def refuse(self, record: dict[str, Any]) -> dict[str, Any]:
        return self.refusals.add(record)

    def history(self, target: str, limit: int = 20) -> list[dict[str, Any]]:
        return newest_first(self._records(self.redis.xrevrange(self.target_prefix + target, count=int(limit))),
                            self.refusals.history(target, limit), limit=limit)

    def recent(self, limit: int = 100) -> list[dict[str, Any]]:
        return newest_first(self._records(self.redis.xrevrange(self.stream, count=int(limit))),
                            self.refusals.recent(limit), limit=limit)

    def close(self) -> None:
        self.redis.close()


class AuditTrail:
    """Records attempts to the log and the backend; a backend failure never loses the log line."""

    def __init__(self, backend: AuditBackend):
        self.backend = backend
        self.logger = _audit_logger()

    def record(self, **fields: Any) -> dict[str, Any]:
        """Store and log one attempt; a refusal comes back as the entry it merged into (``count``)."""
        record = make_record(**fields)
        if record["outcome"] not in OUTCOMES:
            raise ValueError(f"unknown outcome {record['outcome']!r}")
        entry = merged(record, 1, record["ts"]) if record["outcome"] == "refused" else record
        try:
            if record["outcome"] == "refused":
                entry = self.backend.refuse(record)
            else:
                self.backend.append(record)
        except Exception as error:  # noqa: BLE001 - the log line below still holds the record
            log.error("audit store failed (%s: %s); the record is in the log only", type(error).__name__, error)
        finally:
            self.logger.info(json.dumps(entry, sort_keys=True))
        return entry

    def history(self, target: str, limit: int = 20) -> list[dict[str, Any]]:
        try:
            return self.backend.history(target, limit)
        except Exception as error:  # noqa: BLE001 - a history is a read: show none rather than fail
            log.warning("audit history unavailable (%s: %s)", type(error).__name__, error)
            return []

    def recent(self, limit: int = 100) -> list[dict[str, Any]]:
        return self.backend.recent(limit)

    def close(self) -> None:
        self.backend.close()


def build_trail(cache_url: str | None, data_dir: str) -> AuditTrail:
    if cache_url:
        from fakeai_dash.auth.audit_spool import SpooledAudit

        return AuditTrail(SpooledAudit(RedisAudit(cache_url), data_dir))  # kept through an outage
    return AuditTrail(SqliteAudit(os.path.join(data_dir, AUDIT_FILE)))
