"""Results that every viewer of the same data shares, computed once per key in this worker.

Fifty browsers watching one live job ask for the same figures at every refresh tick: building a
2,000-point Plotly figure costs tens of milliseconds (plotly validates every point), so doing it
once per history version instead of once per viewer is what keeps a tick cheap at scale.
cachetools' ``cached`` with a condition makes concurrent callers of one key wait for the first
instead of all computing it (a new version arrives for every viewer within one tick).

Bounded twice: at most ``size`` entries and at most ``max_bytes`` (sizing.approx_bytes of each
value). A live job makes a new key at every event and its entries grow with its history, so a
bound in entries alone let each cache hold ``size`` ever bigger results (issue #22).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

from cachetools import LRUCache, cached

from fakeai_dash.sizing import approx_bytes


def bounded_lru(size: int, max_bytes: int) -> LRUCache:
    """An LRU of at most ``size`` entries and ``max_bytes``: each entry counts as its bytes, or as
    ``max_bytes / size`` if smaller, so both bounds hold with one cachetools size. A value bigger
    than ``max_bytes`` is returned but never kept."""
    floor = max(1, max_bytes // size)
    return LRUCache(maxsize=max_bytes, getsizeof=lambda value: max(floor, approx_bytes(value)))


DEFAULT_MAX_BYTES = 8 * 1024 * 1024


def shared_results(size: int, max_bytes: int = DEFAULT_MAX_BYTES) -> Callable[[Hashable, Callable[[], Any]], Any]:
    """``result(key, compute)``: ``compute()``'s value for ``key``, computed once while cached
    (least recently used out past ``size`` entries or ``max_bytes``). Values are shared between
    threads: callers must not mutate them. ``result.cache`` is the cache (``currsize``: its bytes)."""
    condition = threading.Condition()
    cache = bounded_lru(size, max_bytes)

    @cached(cache, key=lambda key, compute: key, lock=condition, condition=condition)
    def result(key: Hashable, compute: Callable[[], Any]) -> Any:
        return compute()

    return result
