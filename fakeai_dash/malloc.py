"""glibc malloc settings for the workers: few arenas and a fixed mmap threshold (issue #22).

A worker's RSS grew with a live job though its Python objects did not (tracemalloc: ~50 MB
traced while RSS passed 350 MB): the memory sat in glibc's per-thread arenas. Two glibc
defaults made it so:
- up to 8 × cores arenas, one per thread that allocates at once (gthread: 4 request threads,
  push streams, the sync loop's pool), each keeping the free memory of its own peaks;
- a dynamic mmap threshold: after a freed ~1 MB block (a decoded history, a packed entry, a JSON
  answer), blocks up to that size come from the arenas instead of mmap, and as a live job's
  entries grow by a little at every event, each new block fits in no freed hole: the arenas grow.
So: 2 arenas, and blocks of 128 KiB and more from mmap (given back to the kernel when freed).
Set in the master before it forks (gunicorn_conf), so every worker starts with them. A variable
already in the environment (MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD_) wins: glibc read it at
start. Elsewhere than glibc (musl, macOS) nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_MMAP_THRESHOLD = -3  # glibc's malloc.h
M_ARENA_MAX = -8
ARENA_MAX = 2
MMAP_THRESHOLD = 128 * 1024


def tune() -> dict[str, int]:
    """Apply the settings the environment does not set; the ones applied."""
    if not hasattr(os, "confstr") or "glibc" not in (os.confstr("CS_GNU_LIBC_VERSION") or "").lower():
        return {}
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return {}
    applied = {}
    for variable, option, value in (("MALLOC_ARENA_MAX", M_ARENA_MAX, ARENA_MAX),
                                     ("MALLOC_MMAP_THRESHOLD_", M_MMAP_THRESHOLD, MMAP_THRESHOLD)):
        if variable not in os.environ and libc.mallopt(option, value) == 1:
            applied[variable] = value
    return applied
