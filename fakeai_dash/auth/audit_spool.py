"""SpooledAudit: the Redis audit trail, with no record lost while Redis is unreachable.

A write made during an outage still reaches the API (the gate's rate limits fall back per
worker), so its record must outlive the outage too. Records that Redis does not take are appended
to a spool file in the data directory (``audit-spool.jsonl``, 0600, fsynced, one JSON line each,
shared by the host's workers under a file lock) and flushed to the usual streams once Redis
answers again: by a thread that runs only while the spool holds something, and before the next
direct append (so the trail keeps its order).

Each spooled line carries a random id, and the flush adds a record only together with a marker
for its id (one Lua script: atomic), so a flush cut short and run again, by this worker or a
sibling, adds no record twice. The JSON log line is written at once either way (AuditTrail).

Refusals (merged counters, auth/refusals.py) and history reads are not spooled: during an
outage a refusal is in the log only, and a history shows what the spool holds for that target.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from typing import Any

from fakeai_dash.auth.audit import STREAM_MAXLEN, TARGET_MAXLEN, TARGET_TTL_S, RedisAudit
from fakeai_dash.auth.refusals import merged, newest_first
from fakeai_dash.sync.resilient import Breaker

log = logging.getLogger(__name__)

SPOOL_FILE = "audit-spool.jsonl"
MARKER_TTL_S = 7 * 24 * 3600  # an id flushed within a week is never added again
FLUSH_CHUNK = 200             # records per script call (each call is atomic on its own)
FLUSH_EVERY_S = 1.0

# KEYS: the trail's stream, then per record its marker and its target's stream (ignored without
# a target). ARGV: maxlen, target maxlen, target ttl, marker ttl, then per record its JSON and
# "1" if it has a target.
FLUSH_SCRIPT = """
local added = 0
local n = (#KEYS - 1) / 2
for i = 0, n - 1 do
  local record = ARGV[5 + 2 * i]
  if redis.call('SET', KEYS[2 + 2 * i], '1', 'NX', 'EX', tonumber(ARGV[4])) then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'record', record)
    if ARGV[6 + 2 * i] == '1' then
      redis.call('XADD', KEYS[3 + 2 * i], 'MAXLEN', ARGV[2], '*', 'record', record)
      redis.call('EXPIRE', KEYS[3 + 2 * i], tonumber(ARGV[3]))
    end
    added = added + 1
  end
end
return added
"""


class SpooledAudit:
    """A RedisAudit (the AuditBackend interface) whose appends wait in a spool while Redis is away."""

    def __init__(self, backend: RedisAudit, data_dir: str, flush_every_s: float = FLUSH_EVERY_S):
        from filelock import FileLock

        from fakeai_dash.datadir import private_dir, private_file

        self.backend = backend
        self.redis = backend.redis
        self.path = private_file(os.path.join(private_dir(data_dir, owned=False), SPOOL_FILE))
        self._file_lock = FileLock(self.path + ".lock", thread_local=False, mode=0o600)
        self._lock = threading.Lock()  # one flusher thread per worker
        self._flusher: threading.Thread | None = None
        self._stop = threading.Event()
        self.flush_every_s = flush_every_s
        self.breaker = Breaker("audit", quiet=True)  # the picture's breaker tells of the outage
        self._script = self.redis.register_script(FLUSH_SCRIPT)
        self.marker_prefix = backend.stream + ":spooled:"
        if self.pending():  # left by a worker that stopped during an outage
            self._start_flusher()

    # -- the AuditBackend interface -------------------------------------------------------------

    def append(self, record: dict[str, Any]) -> None:
        def direct() -> bool:
            if self.pending():
                self.flush()  # older records first
            self.backend.append(record)
            return True

        if not self.breaker.call(direct, lambda: False):
            self._spool(record)

    def refuse(self, record: dict[str, Any]) -> dict[str, Any]:
        return self.breaker.call(lambda: self.backend.refuse(record),
                                 lambda: merged(record, 1, record["ts"]))  # in the log only

    def history(self, target: str, limit: int = 20) -> list[dict[str, Any]]:
        spooled = [r for r in self.spooled() if r.get("target") == target]
        stored = self.breaker.call(lambda: self.backend.history(target, limit), lambda: [])
        return newest_first(stored, spooled, limit=limit)

    def recent(self, limit: int = 100) -> list[dict[str, Any]]:
        stored = self.breaker.call(lambda: self.backend.recent(limit), lambda: [])
        return newest_first(stored, self.spooled(), limit=limit)

    def close(self) -> None:
        self._stop.set()
        if self._flusher is not None:
            self._flusher.join(timeout=5)
        self.backend.close()

    # -- the spool ------------------------------------------------------------------------------

    def _spool(self, record: dict[str, Any]) -> None:
        line = json.dumps({"id": uuid.uuid4().hex, "record": record}, sort_keys=True) + "\n"
        with self._file_lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode())
                os.fsync(fd)  # kept like SQLite's synchronous=FULL: an attempt survives a power cut
            finally:
                os.close(fd)
        log.info("Audit record of %s %s kept in %s until Redis answers", record.get("action"),
                 record.get("target"), self.path)
        self._start_flusher()

    def _lines(self) -> list[dict[str, Any]]:
        try:
            with open(self.path, encoding="utf-8") as spool:
                text = spool.read()
        except FileNotFoundError:
            return []
        lines = []
        for raw in text.splitlines():
            try:
                lines.append(json.loads(raw))
            except ValueError:  # a line cut short by a crash mid-write: its attempt is in the log
                log.warning("Skipping an unreadable audit spool line")
        return lines

    def pending(self) -> bool:
        try:
            return os.path.getsize(self.path) > 0
        except OSError:
            return False

    def spooled(self) -> list[dict[str, Any]]:
        """The records waiting in the spool."""
        return [line["record"] for line in self._lines() if isinstance(line.get("record"), dict)]

    def flush(self) -> int:
        """Add the spooled records to Redis (each once, ever) and empty the spool; how many were
        added. Raises if Redis does not answer (the spool is then kept whole)."""
        with self._file_lock:
            lines = [line for line in self._lines() if isinstance(line.get("record"), dict) and line.get("id")]
            added = 0
            for start in range(0, len(lines), FLUSH_CHUNK):
                added += self._flush_chunk(lines[start:start + FLUSH_CHUNK])
            with open(self.path, "w", encoding="utf-8"):
                pass  # every line is in Redis now: start the spool over
        if lines:
            log.info("Flushed %d spooled audit records to Redis (%d already there)", added, len(lines) - added)
        return added

    def _flush_chunk(self, lines: list[dict[str, Any]]) -> int:
        keys = [self.backend.stream]
        args: list[Any] = [STREAM_MAXLEN, TARGET_MAXLEN, TARGET_TTL_S, MARKER_TTL_S]
        for line in lines:
            record = line["record"]
            target = record.get("target")
            keys += [self.marker_prefix + str(line["id"]),
                     self.backend.target_prefix + target if target else self.backend.stream]
            args += [json.dumps(record, sort_keys=True), "1" if target else "0"]
        return int(self._script(keys=keys, args=args))

    def _start_flusher(self) -> None:
        with self._lock:
            if self._flusher is not None and self._flusher.is_alive():
                return
            self._flusher = threading.Thread(target=self._flush_loop, name="audit-spool", daemon=True)
            self._flusher.start()

    def _flush_loop(self) -> None:
        while not self._stop.wait(self.flush_every_s):
            with self._lock:  # a record spooled after this check starts a new flusher
                if not self.pending():
                    self._flusher = None
                    return
            self.breaker.call(self.flush, lambda: None)
