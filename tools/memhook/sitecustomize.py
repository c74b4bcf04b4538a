"""Find what grows inside gunicorn workers (issue #22): with MEMHOOK_DIR set, every worker forked
after this loads traces allocations (tracemalloc, MEMHOOK_FRAMES frames) and every MEMHOOK_EVERY
seconds writes ``<pid>-<n>.snap`` (a tracemalloc snapshot) and ``<pid>-<n>.types.json`` (the 60
commonest object types) into MEMHOOK_DIR. Loaded as sitecustomize from PYTHONPATH, e.g.:

    python -m tests.bench.soak --minutes 5 --steps-per-second 40 \
        --env PYTHONPATH=tools/memhook:. --env MEMHOOK_DIR=/tmp/snaps

Compare two snapshots with ``Snapshot.load(b).compare_to(Snapshot.load(a), "traceback")``.
Tracing slows the workers and adds its own memory: use it to find, not to measure.
"""

import os

if os.environ.get("MEMHOOK_DIR"):
    def _start() -> None:
        import collections
        import gc
        import json
        import threading
        import time
        import tracemalloc

        tracemalloc.start(int(os.environ.get("MEMHOOK_FRAMES", "8")))
        out, every = os.environ["MEMHOOK_DIR"], float(os.environ.get("MEMHOOK_EVERY", "60"))

        def dump() -> None:
            for n in range(1, 10_000):
                time.sleep(every)
                gc.collect()
                tracemalloc.take_snapshot().dump(f"{out}/{os.getpid()}-{n:03d}.snap")
                counts = collections.Counter(type(o).__name__ for o in gc.get_objects())
                with open(f"{out}/{os.getpid()}-{n:03d}.types.json", "w") as handle:
                    json.dump(counts.most_common(60), handle)

        threading.Thread(target=dump, daemon=True, name="memhook").start()

    os.register_at_fork(after_in_child=_start)  # gunicorn forks its workers from the master
