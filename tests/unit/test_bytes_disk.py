"""BytesDisk (sync/bytes_disk.py): the picture's diskcache stores bytes only and never unpickles,
whether the pickle sits in the row, in a value file beside it, or in a key."""

from __future__ import annotations

import os
import pickle
import sqlite3
import time

import pytest

from fakeai_dash.sync.store import LocalStore


class Planted:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.mkdir, (self.marker,)


def _row(db_path, key, raw, mode, filename, value):
    now = time.time()
    with sqlite3.connect(db_path) as db:
        db.execute("INSERT OR REPLACE INTO Cache (key, raw, store_time, expire_time, access_time, access_count, tag, "
                   "size, mode, filename, value) VALUES (?, ?, ?, NULL, ?, 0, NULL, 0, ?, ?, ?)",
                   (key, raw, now, now, mode, filename, value))


def test_disk001_only_bytes_and_str_keys_go_in(tmp_path):
    store = LocalStore(str(tmp_path / "picture"))
    store.set("k", {"a": [1, 2]})
    assert store.get("k") == {"a": [1, 2]}
    store.set("big", "x" * 100_000)  # a value file beside the database: still bytes
    assert store.get("big") == "x" * 100_000
    for value in ({"a": 1}, "text", 3, 1.5):
        with pytest.raises(TypeError, match="bytes"):
            store.cache.set("raw", value)
    with pytest.raises(TypeError, match="str"):
        store.cache.set(("a", "tuple"), b"x")
    store.close()


def test_disk002_planted_pickles_are_read_as_missing_and_never_run(tmp_path):
    store = LocalStore(str(tmp_path / "picture"))
    store.set("seed", 1)
    db_path = tmp_path / "picture" / "cache.db"
    marker = tmp_path / "code-ran"
    _row(db_path, "in-row", 1, 4, None, pickle.dumps(Planted(marker)))
    (tmp_path / "picture" / "ab").mkdir()
    (tmp_path / "picture" / "ab" / "planted.val").write_bytes(pickle.dumps(Planted(marker)))
    _row(db_path, "in-file", 1, 4, "ab/planted.val", None)
    _row(db_path, "text", 1, 3, None, None)
    _row(db_path, pickle.dumps(Planted(marker)), 0, 1, None, b"\x01")  # a pickled key
    assert store.get("in-row") is None and store.get("in-file") is None and store.get_raw("in-row") is None
    assert store.get("text") is None
    assert list(store.cache.iterkeys()) and None in list(store.cache.iterkeys())
    assert not marker.exists()
    assert store.get("seed") == 1  # the rest of the picture reads as before
    store.close()
