"""approx_bytes: what a cached value holds in memory, roughly, so per-worker caches can be bounded
in bytes and not only in entries (an entry of a live job grows with its history: issue #22).

Counts containers, strings, numbers and numpy arrays (their buffers), and a Plotly figure's data
and layout; shared objects are counted once. Computed once per entry as it is cached, so it
walks the value but never serialises it.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

_MAX_DEPTH = 64  # deeper nesting than any figure or page has: counted as its shell only


def approx_bytes(value: Any) -> int:
    seen: set[int] = set()
    total = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if id(item) in seen or item is None:
            continue
        seen.add(id(item))
        if isinstance(item, np.ndarray):
            total += item.nbytes + 112
            if item.dtype == object:
                stack.extend((v, depth + 1) for v in item.ravel().tolist())
            continue
        total += sys.getsizeof(item, 64)
        if depth >= _MAX_DEPTH:
            continue
        if isinstance(item, dict):
            stack.extend((k, depth + 1) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend((v, depth + 1) for v in item)
        elif hasattr(item, "_data") and hasattr(item, "_layout"):  # a Plotly figure: its plain parts
            stack.extend(((item._data, depth + 1), (item._layout, depth + 1)))
        elif hasattr(item, "__dict__") and not isinstance(item, type):
            stack.append((vars(item), depth + 1))
    return total
