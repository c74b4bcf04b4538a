"""Benchmark: a job opened by its URL when the picture does not hold it yet (cold: a colleague's
link, a notification), and the same job opened again (warm), on the page's own clock.

    python -m tests.bench.open_cold [--app-dir DIR] [--runs 7] [--screenshot cold.png]

The scale simulator with 3,000 jobs and 150 ms per API answer holds a finished 300-step job, a
finished 20,000-step job (loss spike at 10,000) and a live job at step 1,500. Each run starts the
app afresh (the Procfile's gunicorn, two workers, a new data directory: an empty picture) and
opens each job twice in headless Chromium (a cold browser cache each time): first cold, then
warm. The live job goes first: once a page is open the list is watched, and the sync loop's
background rounds (alerts) would warm the newest live jobs. Reports, as Markdown, the median
(and range) of the time from navigation to the first drawn loss point (tests/bench/open_job.py).
A benchmark: it asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile

import requests

from tests.bench.open_job import open_once
from tests.load.stack import Gunicorn, Simulator

JOBS = (("live, step 1,500", "3000:live:done=1500"), ("finished, 300 steps", "300:finished"),
        ("finished, 20,000 steps", "20000:finished:spike=10000"))
LATENCY = 0.15


def cell(times: list[float]) -> str:
    if not times:
        return "not drawn"
    return f"{statistics.median(times):.2f} s ({min(times):.2f}–{max(times):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--app-dir", default=None)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--screenshot", default=None, help="PNG of the first run's cold 300-step page, once drawn")
    args = parser.parse_args()
    big = [spec for _label, spec in JOBS]
    sim = Simulator(["--jobs", "3000", "--latency", str(LATENCY), *(a for spec in big for a in ("--big", spec))]).start()
    times = {label: {"cold": [], "warm": []} for label, _spec in JOBS}
    try:
        for run in range(args.runs):
            app = Gunicorn(sim.url, 2, app_dir=args.app_dir,
                           extra_env={"FAKEAI_DASH_DATA_DIR": tempfile.mkdtemp(prefix="open-cold-")}).start()
            try:
                # Each worker's first requests set Dash up (seconds on a busy machine): a deployed
                # app has served some before anyone opens a link.
                for _ in range(6):
                    requests.get(f"{app.url}/_dash-layout", timeout=60)
                    requests.get(f"{app.url}/_dash-dependencies", timeout=60)
                for (label, _spec), job_id in zip(JOBS, sim.info["big_job_ids"], strict=True):
                    shot = args.screenshot if run == 0 and "300" in label else None
                    for kind in ("cold", "warm"):
                        seconds = open_once(f"{app.url}/jobs/{job_id}", screenshot=shot if kind == "cold" else None)["seconds"]
                        if seconds is not None:
                            times[label][kind].append(seconds)
            finally:
                app.stop()
    finally:
        sim.stop()
    source = f"app from {args.app_dir}" if args.app_dir else "this checkout"
    print(f"Opened by URL, {args.runs} runs (median), {source}, gunicorn WEB_CONCURRENCY=2, 3,000 jobs, "
          f"{LATENCY * 1000:.0f} ms per API answer; a fresh app and picture per run\n")
    print("| job | cold: first chart, page clock | warm: first chart, page clock |")
    print("|---|---|---|")
    for label, _spec in JOBS:
        print(f"| {label} | {cell(times[label]['cold'])} | {cell(times[label]['warm'])} |")


if __name__ == "__main__":
    main()
