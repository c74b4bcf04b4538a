"""A stand-in for one gunicorn worker's sync loop, as a process: the leader-election tests start
two and kill one. It watches the jobs list (as an open browser would) and prints one line
whenever its leadership changes: ``leading`` or ``following``.

    python -m tests.support.sync_worker API_BASE (--redis URL | --data-dir DIR) [--refresh S]
"""

from __future__ import annotations

import argparse
import sys
import threading

from fakeai_dash.api.client import client_from_settings
from fakeai_dash.config import Settings
from fakeai_dash.sync import LIST, build_source


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("api_base")
    parser.add_argument("--redis")
    parser.add_argument("--data-dir")
    parser.add_argument("--refresh", type=float, default=0.5)
    args = parser.parse_args()
    settings = Settings(_env_file=None, api_base=args.api_base, cache_url=args.redis, data_dir=args.data_dir,
                        refresh_interval=args.refresh)
    source = build_source(settings, client_from_settings(settings))
    source.engine.start()
    said = None
    tick = threading.Event()
    for _ in range(int(120 / 0.05)):  # bounded: a forgotten worker ends by itself after 2 minutes
        source.engine.watch(LIST)
        state = "leading" if source.engine.leading else "following"
        if state != said:
            print(state, flush=True)
            said = state
        tick.wait(0.05)
    source.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
