"""BytesDisk: diskcache's serializer, cut down to bytes, so the picture's file never runs code.

diskcache's own Disk unpickles any row its SQLite file marks as a pickle (MODE_PICKLE), and any
key stored as one: whoever can write that file (another local account, a restored backup, a
shared volume) would run code in every worker the next time it reads the row. The picture holds
msgpack bytes only (store.pack), so nothing else is ever needed: this Disk stores bytes and str
keys, refuses anything else on the way in, and reads a pickle (or any value that is not bytes)
as missing, with a warning, without unpickling it.
"""

from __future__ import annotations

import logging

from diskcache import Disk
from diskcache.core import MODE_BINARY, MODE_RAW, UNKNOWN

log = logging.getLogger(__name__)


class BytesDisk(Disk):
    def put(self, key):
        if type(key) is not str:  # anything else diskcache would pickle
            raise TypeError(f"picture keys are str, not {type(key).__name__}")
        return super().put(key)

    def get(self, key, raw):
        if not raw:  # a pickled key (only iteration reads keys back): never unpickled
            log.warning("Refused a pickled key in the picture's cache file")
            return None
        return super().get(key, raw)

    def store(self, value, read, key=UNKNOWN):
        if type(value) is not bytes:
            raise TypeError(f"picture values are bytes (msgpack), not {type(value).__name__}")
        return super().store(value, read, key)

    def fetch(self, mode, filename, value, read):
        if mode not in (MODE_RAW, MODE_BINARY):
            # MODE_PICKLE (or text) was never written by the dashboard: someone else wrote this row.
            log.warning("Refused a row of the picture's cache file stored as mode %s (not bytes): read as missing",
                        mode)
            return None
        value = super().fetch(mode, filename, value, read)
        return value if isinstance(value, bytes) else None  # a raw int, float or str: not ours either
