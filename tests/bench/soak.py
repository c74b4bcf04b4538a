"""Memory with a live job (issue #22 item 6): each gunicorn worker's RSS over a long watch.

    python -m tests.bench.soak [--minutes 25] [--steps-per-second 10]

The scale simulator runs one live 100,000-step job from its first step, advancing
``--steps-per-second`` (one event per step); the app runs with the Procfile's command
(WEB_CONCURRENCY=2). Three pages are open for the whole run, as in the issue: the jobs list and
the live job twice. Each page's refresh ticks are captured once in headless Chromium and
replayed over HTTP at the page's own interval, each page keeping the props the server sent it
(tests/load/viewers.py). Every 10 s each worker's RSS is recorded (psutil). The report: RSS at
minute 5 (``--settle-minutes``) and at the end, the growth after it (the target: <= 50 MB per worker), the growth
per event, and what a 100,000-step job would add at that rate. Only HTTP: nothing here imports
the app. All traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psutil
import requests

from tests.load.capture import capture_ticks
from tests.load.replay import server_outputs
from tests.load.stack import Gunicorn, Simulator
from tests.load.viewers import RunResult, Viewer

SAMPLE_EVERY_S = 10.0
TARGET_GROWTH_MB = 50.0
PROJECT_STEPS = 100_000
MB = 1024 * 1024


def worker_pids(master_pid: int) -> list[int]:
    return sorted(child.pid for child in psutil.Process(master_pid).children())


def rss_mb(pid: int) -> float | None:
    try:
        return psutil.Process(pid).memory_info().rss / MB
    except psutil.NoSuchProcess:
        return None


def at_or_after(samples: list[tuple[float, dict[int, float | None]]], seconds: float):
    """The first sample taken at or after ``seconds`` (the last one if none is)."""
    return next((s for s in samples if s[0] >= seconds), samples[-1])


def report(samples, steps: dict[float, int], args, setup: str) -> str:
    first_t, first = samples[0]
    settled_t, settled = at_or_after(samples, min(args.settle_minutes * 60, samples[-1][0]))
    end_t, end = samples[-1]
    events_after = max(1, steps[end_t] - steps[settled_t])
    lines = [setup, "",
             f"| worker | RSS at start (MB) | RSS at {settled_t / 60:.1f} min (MB) | RSS at end, {end_t / 60:.1f} min"
             f" (MB) | growth after {settled_t / 60:.1f} min (MB) | KB per event after | projected at"
             f" {PROJECT_STEPS:,} steps (MB) | ≤ {TARGET_GROWTH_MB:g} MB? |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for pid in sorted(end):
        if end[pid] is None or settled.get(pid) is None:
            lines.append(f"| {pid} | – | – | – | – | – | – | worker gone |")
            continue
        growth = end[pid] - settled[pid]
        per_event = growth / events_after
        projected = end[pid] + per_event * max(0, PROJECT_STEPS - steps[end_t])
        lines.append(f"| {pid} | {first.get(pid) or float('nan'):.0f} | {settled[pid]:.0f} | {end[pid]:.0f} | "
                     f"{growth:+.0f} | {per_event * 1024:.2f} | {projected:.0f} | "
                     f"{'yes' if growth <= TARGET_GROWTH_MB else 'NO'} |")
    lines.append("")
    lines.append(f"Events (steps) in the run: {steps[end_t]:,}; after {settled_t / 60:.1f} min: {events_after:,}.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.soak", description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=25.0)
    parser.add_argument("--steps-per-second", type=float, default=10.0)
    # The "after its first 5 minutes" (3,000 events at 10 steps/s); a faster, shorter run
    # compares from the same event count: --settle-minutes 1.25 at 40 steps/s.
    parser.add_argument("--settle-minutes", type=float, default=5.0, help="growth is counted from here")
    parser.add_argument("--sim-jobs", type=int, default=3000)
    parser.add_argument("--latency", type=float, default=0.15, help="seconds per API answer")
    parser.add_argument("--workers", type=int, default=2, help="WEB_CONCURRENCY")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the app (e.g. MALLOC_ARENA_MAX=2)")
    parser.add_argument("--samples", default=None, help="also write every RSS sample to this JSON file")
    parser.add_argument("--app-dir", default=None, help="serve the app from this checkout (a baseline commit)")
    args = parser.parse_args(argv)
    duration = args.minutes * 60

    total = max(PROJECT_STEPS, int(args.steps_per_second * duration * 2))  # never finishes in the run
    sim = Simulator(["--jobs", str(args.sim_jobs), "--latency", str(args.latency),
                     "--rate", str(args.steps_per_second), "--big", f"{total}:live:done=1"])
    app = None
    try:
        sim.start()
        job_id = sim.info["big_job_ids"][0]
        env = dict(item.split("=", 1) for item in args.env)
        app = Gunicorn(sim.url, args.workers, env, app_dir=args.app_dir).start()
        print(f"capturing the pages' refresh ticks in headless Chromium ({app.url})…", file=sys.stderr, flush=True)
        pages = [capture_ticks(app.url + "/"), capture_ticks(f"{app.url}/jobs/{job_id}")]
        server_set = server_outputs(requests.get(f"{app.url}/_dash-dependencies", timeout=30).json())
        # The three pages: the list, and the live job twice.
        opened = [pages[0], pages[1], pages[1]]
        t0 = time.monotonic()
        window = (t0, t0 + duration)
        stop = threading.Event()
        result = RunResult(len(opened), duration)
        width = max(len(wave) for ticks, _ in opened for tick in ticks for wave in tick.waves)
        samples: list[tuple[float, dict[int, float | None]]] = []
        steps: dict[float, int] = {}
        pids = worker_pids(app.process.pid)
        with ThreadPoolExecutor(max_workers=len(opened) * width, thread_name_prefix="wave") as pool:
            viewers = [Viewer(i, app.url, ticks, period, i * period / len(opened), t0, window, pool, result, stop,
                              30.0, server_set) for i, (ticks, period) in enumerate(opened)]
            for viewer in viewers:
                viewer.start()
            try:
                while True:
                    elapsed = time.monotonic() - t0
                    samples.append((elapsed, {pid: rss_mb(pid) for pid in pids}))
                    # The simulator advances the job by the wall clock: steps (= events) so far.
                    steps[elapsed] = int(args.steps_per_second * elapsed)
                    print(f"{elapsed / 60:5.1f} min, {steps[elapsed]:6d} steps: "
                          + ", ".join(f"{pid}: {mb:.0f} MB" for pid, mb in samples[-1][1].items() if mb),
                          file=sys.stderr, flush=True)
                    if elapsed >= duration or stop.wait(min(SAMPLE_EVERY_S, duration - elapsed)):
                        break
            finally:
                stop.set()
                for viewer in viewers:
                    viewer.join(timeout=40)
        if args.samples:
            with open(args.samples, "w") as out:
                json.dump({"samples": samples, "steps": list(steps.items())}, out)
        errors = ", ".join(f"{k}: {v}" for k, v in sorted(result.errors.items())) or "none"
        setup = (f"Setup: `python -m tests.bench.soak --minutes {args.minutes:g} --steps-per-second "
                 f"{args.steps_per_second:g} --settle-minutes {args.settle_minutes:g}{''.join(f' --env {e}' for e in args.env)}`: {args.sim_jobs} jobs and one "
                 f"live job (one event per step), API latency {args.latency * 1000:g} ms, gunicorn (Procfile) with "
                 f"WEB_CONCURRENCY={args.workers}; pages: / and /jobs/<live> twice, refresh ticks every "
                 f"{', '.join(f'{p:.1f}' for _, p in opened)} s; {result.ticks} ticks replayed, "
                 f"{result.callbacks} callbacks, errors: {errors}.")
        print(report(samples, steps, args, setup), flush=True)
        return 0
    finally:
        for part in (app, sim):
            if part is not None:
                part.stop()


if __name__ == "__main__":
    sys.exit(main())
