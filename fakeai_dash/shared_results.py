"""Results that every viewer of the same data shares, computed once per key in this worker.

Fifty browsers watching one live job ask for the same figures at every refresh tick: building a
2,000-point Plotly figure costs tens of milliseconds (plotly validates every point), so doing it
once per history version instead of once per viewer is what keeps a tick cheap at scale.
cachetools' ``cached`` with a condition makes concurrent callers of one key wait for the first
instead of all computing it (a new version arrives for every viewer within one tick).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

from cachetools import LRUCache, cached


def shared_results(size: int) -> Callable[[Hashable, Callable[[], Any]], Any]:
    """``result(key, compute)``: ``compute()``'s value for ``key``, computed once while cached
    (an LRU of ``size`` keys). Values are shared between threads: callers must not mutate them."""
    condition = threading.Condition()

    @cached(LRUCache(maxsize=size), key=lambda key, compute: key, lock=condition, condition=condition)
    def result(key: Hashable, compute: Callable[[], Any]) -> Any:
        return compute()

    return result
