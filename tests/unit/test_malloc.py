"""The workers' glibc malloc settings (fakeai_dash/malloc.py, issue #22): few arenas.

Each case runs in a fresh interpreter (the settings are per process and must come before the
threads allocate). glibc gives each new thread that allocates an arena of its own, up to
8 × cores; malloc_info lists them, so the count is exact, not timed.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif("glibc" not in (getattr(os, "confstr", lambda _: "")("CS_GNU_LIBC_VERSION") or ""),
                                reason="glibc only")

CHILD = r"""
import ctypes, ctypes.util, sys, threading
if sys.argv[1] == "tuned":
    from fakeai_dash.malloc import tune
    print(sorted(tune()), file=sys.stderr)
libc = ctypes.CDLL(ctypes.util.find_library("c"))
THREADS = 6
barrier = threading.Barrier(THREADS + 1)
def work():
    held = [bytearray(64 * 1024) for _ in range(4)]  # malloc, not pymalloc: in this thread's arena
    barrier.wait()  # every thread alive and holding memory at once
    barrier.wait()
threads = [threading.Thread(target=work) for _ in range(THREADS)]
for t in threads:
    t.start()
barrier.wait()
buf, size = ctypes.c_char_p(), ctypes.c_size_t()
libc.open_memstream.restype = ctypes.c_void_p
stream = libc.open_memstream(ctypes.byref(buf), ctypes.byref(size))
libc.malloc_info(0, ctypes.c_void_p(stream))
libc.fclose(ctypes.c_void_p(stream))
print(buf.value.decode().count("<heap nr="))
barrier.wait()
for t in threads:
    t.join()
"""


def arenas(mode: str, **env: str) -> int:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")} | env
    out = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True, check=True,
                         env=environment, timeout=60)
    return int(out.stdout.strip())


def test_malloc001_a_tuned_process_uses_at_most_two_arenas():
    assert arenas("tuned") <= 2
    assert arenas("default") > 2  # the glibc default this guards against (one arena per thread)


def test_malloc002_the_environment_wins():
    # An operator's MALLOC_ARENA_MAX was read by glibc at start: tune() leaves it alone.
    assert arenas("tuned", MALLOC_ARENA_MAX="4") > 2
